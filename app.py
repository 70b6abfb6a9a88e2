"""SkipSNN Explorer: watch a spiking network's gate open when the signal comes.

    streamlit run app.py
"""

from pathlib import Path

import streamlit as st

ICON = Path(__file__).resolve().parent / "assets" / "icon.png"  # served by the app itself: works with no network

st.set_page_config(page_title="SkipSNN Explorer", page_icon=str(ICON), layout="wide")
page = st.navigation([
    st.Page("pages/explore.py", title="Explore", icon=":material/insights:", default=True),
    st.Page("pages/model_card.py", title="Model card", icon=":material/badge:"),
])
page.run()
