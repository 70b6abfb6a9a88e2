"""What every figure shares: the palette, array helpers, class curves and pictures as layout images."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from .palette import LIGHT

ON, OFF = LIGHT.on, LIGHT.off  # the light palette's colours under the names the builders use (palette.py has both themes)
OPEN, CLOSED, SIGNAL = LIGHT.open, LIGHT.closed, LIGHT.signal_fill
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def f32(a) -> np.ndarray:
    """Float arrays go to the browser as contiguous float32: orjson writes only C-contiguous arrays itself (a column
    of a (T, classes) array would send plotly.py's writer to its slow fallback)."""
    return np.ascontiguousarray(a, dtype=np.float32)


def i32(a) -> np.ndarray:
    """Integer arrays go to the browser as int32: plotly.js has no 64-bit integer arrays."""
    return np.asarray(a, dtype=np.int32)


def json_ready(figure: dict) -> dict:
    """The figure (a plain dict) with every NumPy text array of its traces (hover lines, class names) as a list,
    nothing else changed, for the live payloads' JSON: orjson writes numeric arrays itself but not text ones, and one
    text array sent Plotly's writer to its fallback, a walk through every value of the figure (the Explorer's figure:
    2.8 ms, directly 1.5 ms, the same JSON). Text arrays stay arrays in the figures themselves: plotly.py's validators
    check a list's every item, 10x slower."""
    data = [{k: v.tolist() if isinstance(v, np.ndarray) and v.dtype.kind == "U" else v for k, v in t.items()}
            for t in figure["data"]]
    return {**figure, "data": data}


def padded(lo: float, hi: float, pad: float = 0.06) -> tuple[float, float]:
    span = max(hi - lo, 1e-3)
    return float(lo - pad * span), float(hi + pad * span)


def class_lines(values: np.ndarray, classes, highlight: dict[int, str], what: str) -> list[dict]:
    """Per-class curves (T, C) as few traces: every class in one grey trace (NaN-separated), then each
    highlighted class (e.g. the prediction, the true label) in its own colour."""
    T, C = values.shape
    t = np.arange(T, dtype=np.float32)
    gap = np.full((C, 1), np.nan, np.float32)
    x = np.concatenate([np.tile(t, (C, 1)), gap], 1).ravel()
    y = np.concatenate([values.T.astype(np.float32), gap], 1).ravel()
    who = np.repeat(np.asarray([str(c) for c in classes]), T + 1)  # fixed-width text: plotly checks an object array's every item, 10x slower
    traces = [{"type": "scatter", "x": x, "y": y, "mode": "lines", "line": {"color": "#c5cad3", "width": 1},
               "name": f"{what}, all classes", "customdata": who,
               "hovertemplate": f"class %{{customdata}}<br>t=%{{x}}<br>{what} %{{y:.3f}}<extra></extra>"}]
    for c, role in highlight.items():
        style = dict(color=OPEN, width=2.5) if role == "prediction" else dict(color="#1d2430", width=2, dash="dash")
        traces.append({"type": "scatter", "x": t, "y": f32(values[:, c]), "mode": "lines", "name": f"{what}, {role} {classes[c]}",
                       "line": style, "hovertemplate": f"{role} {classes[c]}<br>t=%{{x}}<br>{what} %{{y:.3f}}<extra></extra>"})
    return traces


def highlight_roles(prediction: int, label: int | None) -> dict[int, str]:
    """Which classes to draw in colour: the prediction (none for a silent network) and the true label."""
    roles = {} if prediction < 0 else {prediction: "prediction"}
    if label is not None and label >= 0 and label != prediction:
        roles = {label: "true", **roles}
    return roles


def hex_rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)


def blend_image(weight: np.ndarray, low: str, high: str, scale: int = 1) -> np.ndarray:
    """(rows, cols, 1) weights in [0, 1] -> (rows*scale, cols*scale, 3) uint8 between two colours."""
    img = (hex_rgb(low) * (1 - weight) + hex_rgb(high) * weight).round().astype(np.uint8)
    return img.repeat(scale, 0).repeat(scale, 1) if scale > 1 else img


def tint_image(weight: np.ndarray, color: str, scale: int = 1) -> np.ndarray:
    """(rows, cols, 1) weights in [0, 1] -> (rows*scale, cols*scale, 4) uint8: one colour, the weight as opacity.

    Unlike a blend with white, the ground shows through, so the picture suits either theme (palette.themed
    recolours its one colour)."""
    rgba = np.concatenate([np.broadcast_to(hex_rgb(color), weight.shape[:2] + (3,)), weight * 255], -1).round().astype(np.uint8)
    return rgba.repeat(scale, 0).repeat(scale, 1) if scale > 1 else rgba


def bar_image(counts: np.ndarray, gate: np.ndarray, top: float, height: int = 60) -> np.ndarray:
    """A bar chart as pixels: one column per frame, teal when admitted, grey when skipped."""
    rows = np.arange(height)[::-1, None] + 0.5  # pixel centres, bottom row 0
    filled = rows < counts[None, :] / top * height  # (height, T)
    colour = np.where(gate[None, :, None], hex_rgb(OPEN), hex_rgb(CLOSED))
    return np.where(filled[..., None], colour, hex_rgb("#ffffff")).astype(np.uint8)


def layout_image(name: str, pixels: np.ndarray, xref: str, yref: str, x: float, y: float, sizex: float, sizey: float) -> dict:
    """A layout image placed in data coordinates (x, y: top-left), stretched to (sizex, sizey)."""
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", optimize=False)
    return {"name": name, "source": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(),
            "xref": xref, "yref": yref, "x": x, "y": y, "sizex": sizex, "sizey": sizey, "sizing": "stretch",
            "xanchor": "left", "yanchor": "top", "layer": "below"}


def zoomed_range(values: np.ndarray, threshold: float, full: bool) -> list[float]:
    """A y range that shows the threshold: the whole curve when ``full``, else clipped around θ.

    A membrane that peaks at 60 would squeeze a threshold of 0.5 and every crossing of it into a few pixels;
    the clipped range keeps θ in the lower half and lets the peaks leave the plot.
    """
    lo, hi = float(np.min(values)), float(np.max(values))
    if full:
        lo, hi = min(lo, threshold), max(hi, threshold)
    else:
        below = max(threshold - lo, 0.2)
        lo, hi = threshold - min(below, 3.0) - 0.1, threshold + max(1.0, 1.5 * min(below, 3.0))
    span = max(hi - lo, 1e-3)
    return [lo - 0.06 * span, hi + 0.06 * span]


def legend_below(rows: int = 2, axis_title: bool = True) -> tuple[dict, int]:
    """A horizontal legend at the very bottom of the figure and the bottom margin that holds it under the x axis's
    tick labels and title: (legend, margin_b). Anchored to the container, not the plot, so it never rides up onto the
    axis title however the width wraps it (``rows``: the most rows it may wrap to)."""
    margin = 22 + (24 if axis_title else 0) + 8 + 20 * rows  # ticks, axis title, gap, legend rows
    return dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left"), margin
