"""The charts' colours, light and dark, in one place, and the one function that turns a figure dark.

Builders draw with the light palette (``common`` re-exports its colours under their old names). ``themed`` maps a
finished figure (a plain dict, as Plotly takes it) to the dark theme: every light colour it finds, in traces,
shapes, titles and in the pixels of its layout images, becomes its dark counterpart, and the template becomes a
dark one. Each field below is one role; tests/test_palette.py holds the roles to their promises: contrast against
the ground (WCAG 2.2: 4.5:1 for text, 3:1 for marks) and, for every pair the charts tell apart by colour alone,
a perceptual distance (CAM02-UCS ΔE) that survives simulated deuteranopia and protanopia.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
from PIL import Image

Theme = Literal["light", "dark"]


@dataclass(frozen=True)
class Palette:
    theme: Theme
    paper: str  # the figure's ground: Streamlit's backgroundColor (.streamlit/config.toml)
    grid: str  # grid lines and axis lines
    ink: str  # text, arrows, the true class's dashed curve
    strong: str  # the cursor line and the hidden raster's spikes
    muted: str  # secondary text: a skipped frame's caption, the "skipped" key
    reference: str  # the output threshold line
    faint: str  # every class's curve that is neither predicted nor true
    rule: str  # the sensor's outline
    on: str  # ON events
    off: str  # OFF events
    open: str  # an admitted frame, an open gate, the predicted class
    open_text: str  # the same meaning as text (4.5:1 on the ground)
    closed: str  # a skipped frame's bar
    gate_off: str  # a closed step on the gate strip
    footprint: str  # where the digit's events fall, under the input picture
    signal: str  # the true signal window as a mark or text (the band's key, the digit's bars)
    signal_fill: str  # the true signal window as a translucent band over the panels
    controller: str  # the controller's membrane, spikes and threshold
    pulse: str  # the P10 / P100 pulse markers
    contrast: str  # run B against run A, the plain SNN against SkipSNN, θc on the training page
    neutral: str  # bias, noise frames' bars


LIGHT = Palette(
    theme="light", paper="#ffffff", grid="#e3e6ea", ink="#1d2430", strong="#222222", muted="#5f6670", reference="#555555",
    faint="#c5cad3", rule="#c9ced6", on="#e4572e", off="#2e86de", open="#0f766e", open_text="#0f766e", closed="#9aa1ab",
    gate_off="#eef0f3", footprint="#b9bec6", signal="#8a6500", signal_fill="rgba(255, 196, 0, 0.18)", controller="#6a4c93",
    pulse="#8e5f7d", contrast="#c2185b", neutral="#8a8f98",
)
DARK = Palette(
    theme="dark", paper="#0e1117", grid="#2b313b", ink="#e6e9ee", strong="#f2f4f7", muted="#a9b0ba", reference="#b4bac3",
    faint="#4a515c", rule="#667080", on="#ff7a4d", off="#5aa5f0", open="#3fb8a8", open_text="#5fd0c0", closed="#667080",
    gate_off="#1c2028", footprint="#69707b", signal="#e0b341", signal_fill="rgba(255, 196, 0, 0.22)", controller="#b79ee0",
    pulse="#c98fb5", contrast="#f06292", neutral="#9aa1ab",
)
PALETTES: dict[str, Palette] = {"light": LIGHT, "dark": DARK}

# Colours the builders spell their own way, with the role they play (a light colour two roles share maps once).
ALIASES = {"#222": "strong", "#555": "reference", "#b8860b": "signal", "#8a6d00": "signal",
           "#2a9d8f": "open"}  # the teal before it was darkened for contrast
HEX = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")


def palette(theme: str | None) -> Palette:
    """The palette of a theme name (Streamlit's ``st.context.theme.type``); anything unknown is light."""
    return PALETTES.get(theme or "light", LIGHT)


def colour_map(to: Palette = DARK) -> dict[str, str]:
    """Light colour (lower case) -> its counterpart in ``to``, for every role and alias."""
    mapping: dict[str, str] = {}
    for f in fields(Palette):
        light = getattr(LIGHT, f.name)
        if f.name != "theme":
            mapping.setdefault(light.lower(), getattr(to, f.name))
    for light, role in ALIASES.items():
        mapping.setdefault(light, getattr(to, role))
    return mapping


def template(p: Palette) -> dict:
    """A Plotly template on the palette's ground: the theme's type, grid and hover colours."""
    axis = {"gridcolor": p.grid, "linecolor": p.grid, "zerolinecolor": p.grid, "tickcolor": p.grid, "automargin": True,
            "title": {"standoff": 15}}
    return {"layout": {"paper_bgcolor": p.paper, "plot_bgcolor": p.paper, "font": {"color": p.ink},
                       "xaxis": axis, "yaxis": axis, "hoverlabel": {"bgcolor": p.paper, "font": {"color": p.ink}},
                       "legend": {"font": {"color": p.ink}}, "title": {"font": {"color": p.ink}},
                       "colorway": ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880"]}}


def _recolour_png(source: str, mapping: dict[tuple[int, int, int], tuple[int, int, int]]) -> str:
    head, data = source.split(",", 1)
    img = np.array(Image.open(io.BytesIO(base64.b64decode(data))))
    rgb = img[..., :3]
    out = rgb.copy()
    for light, dark in mapping.items():
        out[np.all(rgb == light, axis=-1)] = dark
    img = np.concatenate([out, img[..., 3:]], -1) if img.shape[-1] == 4 else out
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", optimize=False)
    return head + "," + base64.b64encode(buf.getvalue()).decode()


def _rgb(h: str) -> tuple[int, int, int]:
    h = h.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def themed(figure, theme: str | None) -> dict:
    """``figure`` (a plotly Figure or its dict) drawn for ``theme``: unchanged for light, recoloured for dark.

    Returns a plain dict (st.plotly_chart and Plotly.react take it as it is); the input is not modified.
    """
    spec = figure.to_dict() if hasattr(figure, "to_dict") else figure
    p = palette(theme)
    if p.theme == "light":
        return spec
    mapping = colour_map(p)
    strings = {LIGHT.signal_fill: p.signal_fill}
    pixels = {_rgb(k): _rgb(v) for k, v in mapping.items() if not k.startswith("rgba")}

    def walk(value, key=""):
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str):
            if key == "source" and value.startswith("data:image/png;base64,"):
                return _recolour_png(value, pixels)
            if value in strings:
                return strings[value]
            return HEX.sub(lambda m: mapping.get(m.group(0).lower(), m.group(0)), value) if "#" in value else value
        return value

    out = {k: walk(v) for k, v in spec.items() if k != "layout"}
    layout = walk({k: v for k, v in spec.get("layout", {}).items() if k != "template"})
    layout["template"] = template(p)
    layout.setdefault("paper_bgcolor", p.paper)
    layout.setdefault("plot_bgcolor", p.paper)
    for k, v in layout.items():  # axes that set their own grid colours keep them; the others get the dark grid
        if re.fullmatch(r"[xy]axis\d*", k) and isinstance(v, dict):
            for part in ("gridcolor", "linecolor", "zerolinecolor"):
                v.setdefault(part, p.grid)
    out["layout"] = layout
    return out


# WCAG 2.2's contrast ratio and the colour-vision checks the tests run (colorspacious is a dev requirement).

def luminance(color: str) -> float:
    c = np.array(_rgb(color), dtype=float) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def contrast_ratio(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
