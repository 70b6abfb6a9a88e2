"""Page furniture shared by the pages whose figure must start on the first screen (Explore, Why, Compare, Tour)."""

import streamlit as st

# Streamlit's main block starts 6rem down (room for its header) and an h1 is 2.75rem: at 1280x720 that alone is a
# fifth of the screen. 3.5rem keeps the header's menu clear of the page's own first row.
FIRST_SCREEN = """
<style>
  [data-testid="stMainBlockContainer"] { padding-top: 3.5rem !important; }
  [data-testid="stMainBlockContainer"] h1 { font-size: 1.9rem !important; padding: 0.1rem 0 0.1rem 0 !important; }
</style>
"""


def first_screen() -> None:
    """Tighten the page's top so its main figure starts above the fold (tests/test_browser.py measures it)."""
    st.html(FIRST_SCREEN)
