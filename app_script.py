"""The page every browser session runs: page config, navigation, and the once-per-process freeze.

``streamlit run app.py`` serves this script (app.py is the server: it warms the process up before it answers).
"""

import gc
from pathlib import Path

import streamlit as st

ICON = Path(__file__).resolve().parent / "assets" / "icon.png"  # served by the app itself: works with no network

st.set_page_config(page_title="SkipSNN Explorer", page_icon=str(ICON), layout="wide")
UI = ICON.parents[1] / "ui"
st.html(f"<style>{(UI / 'focus.css').read_text()}</style>")  # a visible focus ring on every control
st.html(f"<script>{(UI / 'focus.js').read_text()}</script>", unsafe_allow_javascript=True)  # popovers take the focus


@st.cache_resource(show_spinner=False)
def freeze_what_lives_long() -> bool:
    """Once per server process, after its first page run: move every object alive now (the imported libraries, the
    model, the warm caches) out of the garbage collector's sight, so a collection scans only what sessions made.

    With ``runner.postScriptGC`` off (.streamlit/config.toml) Python's own generational collector is what runs; a
    full collection of an unfrozen server scanned ~0.24 CPU-s of objects that live as long as the process.
    """
    gc.freeze()  # no gc.collect() first: it cost the first user 0.25 s, to spare one page run's garbage from freezing
    return True


# The page files live in views/, not pages/: Streamlit runs a pages/ folder as old-style pages until the first
# st.navigation call of the process, so a link opened first after a start would bypass this file.
page = st.navigation([
    st.Page("views/explore.py", title="Explore", icon=":material/insights:", default=True),
    st.Page("views/tour.py", title="Tour: event attention", icon=":material/school:"),
    st.Page("views/why.py", title="Why did the gate open?", icon=":material/manage_search:"),
    st.Page("views/compare.py", title="Compare two runs", icon=":material/compare:"),
    st.Page("views/sweep.py", title="Sweeps", icon=":material/show_chart:"),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    st.Page("views/model_card.py", title="Model card", icon=":material/badge:"),
])
try:
    page.run()
finally:  # also after a page that stopped early (st.stop)
    freeze_what_lives_long()
