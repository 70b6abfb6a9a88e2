"""A canvas to draw a digit (custom component v2, no iframe); a thin typed wrapper over canvas.js."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

HERE = Path(__file__).resolve().parent
_canvas = st.components.v2.component("skipsnn_drawing_canvas", js=(HERE / "canvas.js").read_text(),
                                     css=(HERE / "canvas.css").read_text(), isolate_styles=False)


def drawing_canvas(key: str) -> np.ndarray | None:
    """The last drawing the user chose to use, as a (32, 32) array of ink 0..1, or None."""
    result = _canvas(key=key, default={"drawing": None}, on_drawing_change=lambda: None)
    grid = result.get("drawing") if hasattr(result, "get") else getattr(result, "drawing", None)
    return None if grid is None else np.asarray(grid, dtype=np.float32)
