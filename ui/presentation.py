"""Presentation mode, for projectors: big type, the sidebar and secondary controls hidden, one screen, no scrolling.

Turned on by the toggle at the top of Explore or by ``present=1`` in the link.
"""

from __future__ import annotations

import streamlit as st

from ui import links

CSS = """
<style>
  section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
  header[data-testid="stHeader"] { display: none !important; }
  html { font-size: clamp(15px, 2.23vh, 40px); }  /* 1.5x Streamlit's 16 px at 1080 lines, scaled with the screen */
  .block-container, [data-testid="stMainBlockContainer"] { padding-top: 0.6rem !important; padding-bottom: 0 !important;
    max-width: 100% !important; }
  h1 { font-size: 1.6rem !important; padding: 0 0 0.2rem 0 !important; }
  [data-testid="stMetricValue"] { font-size: 1.5rem !important; }
  .skipsnn-player { font-size: 0.8rem; }
</style>
"""


def seed() -> None:
    links.seed_from_url("present", [links.ChoiceParam("present", "0", ("0", "1"), state="present_flag")])
    st.session_state.setdefault("present_mode", st.session_state["present_flag"] == "1")


def active() -> bool:
    return bool(st.session_state.get("present_mode"))


def toggle() -> bool:
    """The switch (always on the page, since the sidebar is hidden in this mode); injects the style when on."""
    on = st.toggle("Presentation mode", key="present_mode", help="Big type, one screen, sidebar and secondary controls "
                   "hidden; space plays and pauses the chart, ← → step it once it has focus. Link: present=1")
    if on:
        st.html(CSS)
    return on
