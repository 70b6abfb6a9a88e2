"""The active Streamlit theme (light or dark, the settings menu's switch) and figures drawn for it.

The colours themselves live in skipsnn_core/figures/palette.py (light and dark) and .streamlit/config.toml
([theme.light], [theme.dark]); this module only asks the browser which one is on.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from skipsnn_core.figures.palette import themed


def current() -> str:
    """"light" or "dark": the theme the browser reported with this run (light when it has not said)."""
    kind = getattr(st.context.theme, "type", None)
    return kind if kind in ("light", "dark") else "light"


def figure(fig):
    """``fig`` recoloured for the active theme, for ``st.plotly_chart``: Streamlit restyles the ground and the
    type of a Plotly chart itself, but not the colours a builder chose (dark ink on a dark ground). Light: ``fig``
    itself; dark: a new Figure (st.plotly_chart refuses a dict without traces, e.g. the Tour's diagram)."""
    kind = current()
    return fig if kind == "light" else go.Figure(themed(fig, kind))
