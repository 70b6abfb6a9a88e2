"""The Explorer's live chart: a Streamlit custom component (v2, no iframe) around one Plotly figure.

Unlike ``st.plotly_chart``, which re-creates the figure on every rerun, the chart stays alive:
a new payload is drawn with ``Plotly.react`` into the same div, and the cursor, play state and
speed survive the rerun. The cursor runs in the browser (chart.js) from the frames' events in
the payload; when it rests, its position comes back to Python (``cursor``) for the link.

plotly.js is the copy inside the installed ``plotly`` package, served by the app's own static
route (``server.enableStaticServing``): nothing is fetched from the internet.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import Callable

import plotly
import streamlit as st

HERE = Path(__file__).resolve().parent
STATIC = HERE.parents[2] / "static"  # served at /app/static by Streamlit (next to app.py)


@functools.cache
def _vendored_plotly_js() -> str:
    """plotly.js's file name in static/vendor, copied there from the plotly package once per process."""
    from plotly.offline import get_plotlyjs_version

    name = f"plotly-{get_plotlyjs_version()}.min.js"
    target = STATIC / "vendor" / name
    if not target.is_file():
        source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")  # replicas starting together each copy, then one rename wins
        shutil.copyfile(source, tmp)
        tmp.replace(target)
    return name


def plotly_js_url() -> str:
    """The app-relative URL of plotly.js, copied from the plotly package into static/vendor on first use."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base + '/' if base else ''}app/static/vendor/{_vendored_plotly_js()}"


_chart = st.components.v2.component(
    "skipsnn_explorer_chart",
    # One module: the drawing code (chart.js, shared with the notebook widget) and Streamlit's few lines of host.
    js=(HERE / "chart.js").read_text() + (HERE / "streamlit_host.js").read_text(),
    css=(HERE / "chart.css").read_text(),
    isolate_styles=False,  # Plotly styles its charts through the document's own style sheets
)


def explorer_chart(payload: str, *, key: str, cursor: int = 0, on_edit: Callable[[], None] | None = None,
                   on_neuron: Callable[[], None] | None = None, fit: bool = False) -> int:
    """Draw ``payload`` (``skipsnn_core.figures.explorer_payload``, as text) and return the resting cursor step.

    ``cursor`` places the cursor when the chart is first drawn in this session (e.g. from a link).
    ``on_edit`` runs (before the rerun) when the user clicks or box-selects steps on the gate panel; it reads
    ``edit_of(key)``. ``on_neuron`` runs when a row of the hidden raster is clicked; it reads ``neuron_of(key)``.
    ``fit``: the figure's height follows the browser window (presentation mode).
    """
    result = _chart(data={"spec": payload, "cursor": int(cursor), "plotly": plotly_js_url(), "fit": fit}, key=key,
                    default={"cursor": int(cursor)}, on_cursor_change=lambda: None, on_edit_change=on_edit or (lambda: None),
                    on_neuron_change=on_neuron or (lambda: None),
                    on_theme_change=lambda: None)  # a theme switch: rerun, so the payload is drawn in the new theme
    value = result.get("cursor") if hasattr(result, "get") else getattr(result, "cursor", None)
    return int(cursor if value is None else value)


def edit_of(key: str) -> tuple[int, int] | None:
    """The steps (first, last) the user just picked on the gate panel of chart ``key``, inside its ``on_edit``."""
    value = (st.session_state.get(key) or {}).get("edit")
    if not value:
        return None
    return int(value["t0"]), int(value["t1"])


def neuron_of(key: str) -> int | None:
    """The hidden neuron whose raster row was just clicked in chart ``key``, inside its ``on_neuron``."""
    value = (st.session_state.get(key) or {}).get("neuron")
    return None if value is None else int(value)


def live_figure(figure_json: str, *, key: str) -> None:
    """A Plotly figure (``{"figure": ...}`` as JSON text) drawn once and then updated in place with Plotly.react,
    instead of being re-created on every rerun like ``st.plotly_chart``."""
    _chart(data={"spec": figure_json, "plotly": plotly_js_url()}, key=key)
