"""SkipSNN Explorer: watch a spiking network's gate open when the signal comes.

    streamlit run app.py
"""

import streamlit as st

st.set_page_config(page_title="SkipSNN Explorer", page_icon=":material/bolt:", layout="wide")
page = st.navigation([
    st.Page("pages/explore.py", title="Explore", icon=":material/insights:", default=True),
    st.Page("pages/model_card.py", title="Model card", icon=":material/badge:"),
])
page.run()
