"""Figures: plain functions from a sample and its trace to Plotly figures.

The Explorer figure puts every panel on one time axis with one cursor. Play, pause, speed
and scrubbing run in the browser as Plotly animation frames; a frame only moves the events
at the cursor, the cursor line and its caption, so the rasters stay static and the payload
small. A redraw-free Plotly transition replots each subplot from the frame's traces alone,
so a trace missing from a frame would vanish at the first frame: every frame lists every
trace, the static ones as an empty update ``{}`` (a few bytes each). Everything is SVG or a
layout image, no WebGL: Streamlit re-creates the chart on every rerun, and a WebGL context
costs most of a second to set up in a software-rendered browser.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
import plotly.io
from PIL import Image
from plotly.subplots import make_subplots

from .explore import Sample, events_at
from .model import Readout, Trace

ON, OFF = "#e4572e", "#2e86de"
OPEN, CLOSED, SIGNAL = "#2a9d8f", "#c9ced6", "rgba(255, 196, 0, 0.18)"
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
SPEEDS = (("▶ 16 ms/s", 60), ("▶▶ 64 ms/s", 15), ("▶ 4 ms/s", 240))  # label: sensor time per second; frame duration


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _i32(a) -> np.ndarray:
    """Integer arrays go to the browser as int32: plotly.js has no 64-bit integer arrays."""
    return np.asarray(a, dtype=np.int32)


class AnimatedFigure(go.Figure):
    """A Plotly figure with animation frames, slider steps and shapes kept as plain dicts.

    Plotly builds a validated object for every trace of every frame and every slider step
    (300 frames x 4 traces, 300 steps here: most of a rerun's time); these parts are plain
    data built here, so they are attached when the figure is serialised: ``to_dict`` (which
    ``st.plotly_chart``, ``plotly.io.to_json`` and ``write_html`` all go through) merges them.
    """

    _plain_frames: list[dict] = []
    _plain_layout: dict = {}

    def add_plain(self, frames: list[dict] | None = None, **layout) -> None:
        """Frames to attach, and layout entries to set (lists, e.g. shapes, are appended)."""
        if frames is not None:
            self._plain_frames = frames
        self._plain_layout = {**self._plain_layout, **layout}

    def to_dict(self) -> dict:
        spec = super().to_dict()
        if self._plain_frames:
            spec["frames"] = self._plain_frames
        for key, value in self._plain_layout.items():
            existing = spec["layout"].get(key)
            spec["layout"][key] = existing + value if isinstance(existing, list) and isinstance(value, list) else value
        return spec


def _cursor_frame_data(sample: Sample, trace: Trace, t: int, y_ranges: list[tuple[float, float]]) -> list[dict]:
    """The animated traces at step t: ON events, OFF events, caption, and the cursor in each time panel."""
    x, y, p = events_at(sample, t)
    admitted = bool(trace.gate[0, t])
    opacity = 1.0 if admitted else 0.18
    caption = f"t = {t} ms · {'admitted' if admitted else 'skipped (hibernating)'}" + (" · signal" if sample.signal[t] else "")
    W = sample.sensor_size[0]
    on, off = p == 1, p == 0
    return [
        {"type": "scatter", "x": x[on].tolist(), "y": y[on].tolist(), "marker": {"opacity": opacity}},
        {"type": "scatter", "x": x[off].tolist(), "y": y[off].tolist(), "marker": {"opacity": opacity}},
        {"type": "scatter", "x": [(W - 1) / 2], "y": [-1.6], "text": [caption],
         "textfont": {"color": OPEN if admitted else "#5f6670"}},
        *({"type": "scatter", "x": [t, t], "y": list(lo_hi)} for lo_hi in y_ranges),
    ]


def _padded(lo: float, hi: float, pad: float = 0.06) -> tuple[float, float]:
    span = max(hi - lo, 1e-3)
    return float(lo - pad * span), float(hi + pad * span)


def _class_lines(values: np.ndarray, classes, highlight: dict[int, str], what: str) -> list[dict]:
    """Per-class curves (T, C) as few traces: every class in one grey trace (NaN-separated), then each
    highlighted class (e.g. the prediction, the true label) in its own colour."""
    T, C = values.shape
    t = np.arange(T, dtype=np.float32)
    gap = np.full((C, 1), np.nan, np.float32)
    x = np.concatenate([np.tile(t, (C, 1)), gap], 1).ravel()
    y = np.concatenate([values.T.astype(np.float32), gap], 1).ravel()
    who = np.repeat(np.asarray(classes, dtype=object), T + 1)
    traces = [{"type": "scatter", "x": x, "y": y, "mode": "lines", "line": {"color": "#c5cad3", "width": 1},
               "name": f"{what}, all classes", "customdata": who,
               "hovertemplate": f"class %{{customdata}}<br>t=%{{x}}<br>{what} %{{y:.3f}}<extra></extra>"}]
    for c, role in highlight.items():
        style = dict(color=OPEN, width=2.5) if role == "prediction" else dict(color="#1d2430", width=2, dash="dash")
        traces.append({"type": "scatter", "x": t, "y": _f32(values[:, c]), "mode": "lines", "name": f"{what}, {role} {classes[c]}",
                       "line": style, "hovertemplate": f"{role} {classes[c]}<br>t=%{{x}}<br>{what} %{{y:.3f}}<extra></extra>"})
    return traces


def _highlight(prediction: int, label: int | None) -> dict[int, str]:
    """Which classes to draw in colour: the prediction (none for a silent network) and the true label."""
    roles = {} if prediction < 0 else {prediction: "prediction"}
    if label is not None and label != prediction:
        roles = {label: "true", **roles}
    return roles


def hidden_raster(trace: Trace) -> tuple[np.ndarray, int]:
    """Spikes of the active hidden neurons, (n_active, T) bool, ordered by first spike (then by count)."""
    spikes = trace.hidden_spikes[0].numpy()  # (T, H) bool
    active = np.flatnonzero(spikes.any(0))
    first = spikes[:, active].argmax(0)
    order = active[np.lexsort((-spikes[:, active].sum(0), first))]
    return spikes[:, order].T, len(order)


def _hex(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)


def _rgb(weight: np.ndarray, low: str, high: str, scale: int = 1) -> np.ndarray:
    """(rows, cols, 1) weights in [0, 1] -> (rows*scale, cols*scale, 3) uint8 between two colours."""
    img = (_hex(low) * (1 - weight) + _hex(high) * weight).round().astype(np.uint8)
    return img.repeat(scale, 0).repeat(scale, 1) if scale > 1 else img


def _bars(counts: np.ndarray, gate: np.ndarray, top: float, height: int = 60) -> np.ndarray:
    """A bar chart as pixels: one column per frame, teal when admitted, grey when skipped."""
    rows = np.arange(height)[::-1, None] + 0.5  # pixel centres, bottom row 0
    filled = rows < counts[None, :] / top * height  # (height, T)
    colour = np.where(gate[None, :, None], _hex(OPEN), _hex(CLOSED))
    return np.where(filled[..., None], colour, _hex("#ffffff")).astype(np.uint8)


def _image(name: str, pixels: np.ndarray, xref: str, yref: str, x: float, y: float, sizex: float, sizey: float) -> dict:
    """A layout image placed in data coordinates (x, y: top-left), stretched to (sizex, sizey)."""
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", optimize=False)
    return {"name": name, "source": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(),
            "xref": xref, "yref": yref, "x": x, "y": y, "sizex": sizex, "sizey": sizey, "sizing": "stretch",
            "xanchor": "left", "yanchor": "top", "layer": "below"}


# The time panels, top to bottom: (name, relative height, title). A plain SNN has no gate and no controller,
# so it gets neither panel rather than an always-open gate that pretends otherwise.
PANELS = {
    "events": (0.1, "Events per frame: <span style='color:%s'>■ admitted</span> <span style='color:%s'>■ skipped</span>"
                    " <span style='color:#b8860b'>■ true signal</span>" % (OPEN, "#8a8f98")),
    "gate": (0.07, "Gate: open steps admit the next frame"),
    "controller": (0.18, "Controller membrane · ▲ P10 ★ P100 pulses (P1, P2 every step / every other)"),
    "hidden": (0.27, "Hidden raster (active neurons by first spike)"),
    "output": (0.2, "Output membranes and spikes (teal: predicted class, dashed: true class)"),
    "evidence": (0.18, "Running class evidence (teal: predicted class, dashed: true class)"),
}
PLAIN_PANELS = ("events", "hidden", "output", "evidence")


def panels_for(trace: Trace) -> tuple[str, ...]:
    return tuple(PANELS) if trace.has_controller else PLAIN_PANELS


@dataclass(frozen=True)
class Cursor:
    """Where the animated parts of an Explorer figure live: trace indices and the time panels' y ranges."""

    on: int  # trace of the ON events at the cursor
    off: int  # trace of the OFF events
    caption: int  # trace of the caption under the input picture
    lines: tuple[int, ...]  # one cursor line per time panel
    ranges: tuple[tuple[float, float], ...]  # each time panel's y range (the cursor line spans it)


@lru_cache(maxsize=8)
def _skeleton(panels: tuple[str, ...], span: int, height: int) -> str:
    """The layout every Explorer figure with these panels shares (grid, titles, axes, template), as JSON text.

    Built once with make_subplots; each figure starts from a copy and only fills in its data. Plotly's
    validated objects cost ~100 ms per figure; plain dicts cost next to nothing.
    """
    n = len(panels)
    fig = make_subplots(
        rows=n, cols=2, column_widths=[0.3, 0.7], horizontal_spacing=0.06, vertical_spacing=0.025,
        row_heights=[PANELS[p][0] for p in panels], specs=[[{"rowspan": span}, {}], *[[None, {}] for _ in range(n - 1)]],
        subplot_titles=("Input at the cursor: <span style='color:%s'>■ ON</span> <span style='color:%s'>■ OFF</span>" % (ON, OFF),
                        *(PANELS[p][1] for p in panels)),
    )
    for row in range(1, n + 1):
        fig.update_xaxes(matches=None if row == 1 else "x2", showticklabels=row == n, row=row, col=2)
    fig.update_xaxes(title_text="time step (ms)", row=n, col=2)
    fig.update_xaxes(showgrid=False, zeroline=False, constrain="domain", showticklabels=False, title_text="x (pixel)",
                     title_standoff=2, row=1, col=1)
    fig.update_yaxes(showgrid=False, zeroline=False, scaleanchor="x", constrain="domain", showticklabels=False,
                     title_text="y (pixel)", title_standoff=2, row=1, col=1)
    if "gate" in panels:
        fig.update_yaxes(tickvals=[0, 1], ticktext=["closed", "open"], row=panels.index("gate") + 1, col=2)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), uirevision="explorer", bargap=0, showlegend=False,
                      hovermode="closest", template="plotly_white")
    return plotly.io.to_json(fig.layout, validate=False)


def _scatter(axis: str, **props) -> dict:
    """A scatter trace (plain dict) on the time panel with axis suffix ``axis`` ("" for the input picture)."""
    return {"type": "scatter", "xaxis": "x" + axis, "yaxis": "y" + axis, **props}


def explorer_base(sample: Sample, trace: Trace, classes, height: int = 900, meta: dict | None = None) -> tuple[dict, Cursor]:
    """Every panel on one time axis, the cursor at t = 0, no animation: the figure (a plain dict, as Plotly takes
    it) both the live chart and ``explorer_figure`` are made from. Sample 0 of the trace.

    ``meta`` lands in ``layout.meta`` (the view that drew it: lets a browser test see which rerun it shows).
    """
    T = trace.gate.shape[1]
    W, H, _ = sample.sensor_size
    t_axis = _i32(np.arange(T))
    gate = trace.gate[0].numpy()
    panels = panels_for(trace)
    n = len(panels)
    axis = {name: str(i + 2) for i, name in enumerate(panels)}  # panel -> its axis suffix: x2, y2, ...
    layout = json.loads(_skeleton(panels, 3 if trace.has_controller else 2, height))
    data: list[dict] = []
    # animated traces first: ON, OFF, caption, then one cursor per time panel
    marker = dict(size=9, symbol="square", line={"width": 0})
    data.append(_scatter("", mode="markers", name="ON event", marker=dict(color=ON, **marker),
                         hovertemplate="ON event at x=%{x}, y=%{y}<extra></extra>"))
    data.append(_scatter("", mode="markers", name="OFF event", marker=dict(color=OFF, **marker),
                         hovertemplate="OFF event at x=%{x}, y=%{y}<extra></extra>"))
    data.append(_scatter("", mode="text", showlegend=False, hoverinfo="skip", textfont={"size": 13}))
    for p in panels:
        data.append(_scatter(axis[p], mode="lines", line={"color": "#222", "width": 1.5}, showlegend=False, hoverinfo="skip",
                             cliponaxis=False))
    n_animated = len(data)

    # static pictures (layout images: no per-trace rendering cost, untouched by the animation)
    x = sample.x.numpy()  # (T, N) 0/1
    footprint = x[sample.signal.numpy()].sum(0, dtype=np.int32).reshape(-1, H, W).sum(0)
    shade = np.clip(footprint / max(footprint.max(), 1), 0, 1)[..., None]
    images = [_image("footprint", _rgb(shade, "#ffffff", "#b9bec6", scale=8), "x", "y", -0.5, -0.5, W, H)]
    counts = np.count_nonzero(x, axis=1)
    top = float(max(counts.max(), 1)) * 1.08
    a = axis["events"]
    images.append(_image("events per frame", _bars(counts, gate, top), "x" + a, "y" + a, -0.5, top, T, top))
    spikes, n_active = hidden_raster(trace)
    if n_active == 0:  # a silent hidden layer: one blank row keeps the panel (and the PNG) well-formed
        spikes = np.zeros((1, T), dtype=bool)
    a = axis["hidden"]
    images.append(_image("hidden raster", _rgb(spikes[..., None].astype(np.float32), "#ffffff", "#222222", scale=2),
                         "x" + a, "y" + a, -0.5, n_active - 0.5, T, max(n_active, 1)))
    y_ranges = {"events": (0.0, top), "hidden": (-0.5, max(n_active, 1) - 0.5)}
    y_titles = {"events": "events", "hidden": f"{n_active} active", "output": "u (θ dashed)", "evidence": "rate"}
    thresholds = []  # dashed threshold lines, as shapes (static layout survives the animation)
    if trace.has_controller:
        a = axis["gate"]
        images.append(_image("gate", _rgb(gate[None, :, None].astype(np.float32), "#eef0f3", OPEN), "x" + a, "y" + a,
                             -0.5, 1.0, T, 1.0))
        y_ranges["gate"], y_titles["gate"] = (-0.1, 1.15), "gate"
        # controller membrane, threshold, pulses
        a = axis["controller"]
        u_c = _f32(trace.controller_u[0])
        data.append(_scatter(a, x=t_axis, y=u_c, mode="lines", name="controller u", line={"color": "#6a4c93", "width": 1.2},
                             hovertemplate="t=%{x}<br>controller u %{y:.3f}<extra></extra>"))
        low = float(min(u_c.min(), trace.controller_theta)) - 0.15 * (float(u_c.max()) - float(u_c.min()) + 1e-3)
        # the slow pulses, P10 (triangles) and P100 (stars), in one trace; P1 and P2 are every step and every other
        p10, p100 = np.arange(T) % 10 == 0, np.arange(T) % 100 == 0
        ts = _i32(np.flatnonzero(p10 | p100))
        data.append(_scatter(a, x=ts, y=np.full(len(ts), low, np.float32), mode="markers", name="pulses P10 / P100",
                             marker={"symbol": np.where(p100[ts], "star", "triangle-up").tolist(), "size": 7, "color": "#8e5f7d"},
                             hovertemplate="pulse at t=%{x}<extra></extra>"))
        y_ranges["controller"] = _padded(low, max(float(u_c.max()), trace.controller_theta))
        y_titles["controller"] = "u (θc dashed)"
        thresholds.append(("controller", trace.controller_theta, "#6a4c93"))
    # output membranes, threshold, spikes
    a = axis["output"]
    u_o = _f32(trace.output_u[0])
    s_o = trace.output_spikes[0].numpy()
    highlight = _highlight(int(trace.prediction[0]), sample.label)
    data += [{**line, "xaxis": "x" + a, "yaxis": "y" + a} for line in _class_lines(u_o, classes, highlight, "u")]
    ts, cs = (_i32(v) for v in np.nonzero(s_o))
    data.append(_scatter(a, x=ts, y=u_o[ts, cs], mode="markers", name="output spike", showlegend=False,
                         marker={"color": [CLASS_COLORS[c % 10] for c in cs], "size": 5}, customdata=[classes[c] for c in cs],
                         hovertemplate="spike, class %{customdata}<br>t=%{x}<extra></extra>"))
    y_ranges["output"] = _padded(min(float(u_o.min()), 0.0), max(float(u_o.max()), trace.output_theta))
    thresholds.append(("output", trace.output_theta, "#555"))
    # running class evidence
    a = axis["evidence"]
    ev = _f32(trace.gated.evidence[0])
    data += [{**line, "xaxis": "x" + a, "yaxis": "y" + a} for line in _class_lines(ev, classes, highlight, "evidence")]
    y_ranges["evidence"] = (0.0, max(float(ev.max()), 0.05) * 1.08)

    # true signal window shaded on every time panel
    s0, s1 = sample.start - 0.5, sample.start + int(sample.signal.sum()) - 0.5
    sensor = [{"type": "rect", "xref": "x", "yref": "y", "x0": -0.5, "x1": W - 0.5, "y0": -0.5, "y1": H - 0.5,
               "line": {"color": "#c9ced6", "width": 1}, "layer": "above"}]
    lines = [{"type": "line", "xref": f"x{axis[p]} domain", "yref": f"y{axis[p]}", "x0": 0, "x1": 1, "y0": value, "y1": value,
              "line": {"color": color, "dash": "dash", "width": 1}, "layer": "above"} for p, value, color in thresholds]
    window = [{"type": "rect", "xref": f"x{axis[p]}", "yref": f"y{axis[p]} domain", "x0": s0, "x1": s1, "y0": 0, "y1": 1,
               "fillcolor": SIGNAL, "line": {"width": 0}, "layer": "above"} for p in panels]
    for p in panels:
        layout[f"xaxis{axis[p]}"]["range"] = [-0.5, T - 0.5]
        layout[f"yaxis{axis[p]}"]["range"] = list(y_ranges[p])
        layout[f"yaxis{axis[p]}"]["title"] = {"text": y_titles[p]}
    layout["xaxis"]["range"], layout["yaxis"]["range"] = [-0.5, W - 0.5], [H - 0.5, -2.5]
    layout.update(shapes=window + lines + sensor, images=images, meta=meta or {})
    ranges = [y_ranges[p] for p in panels]
    # the cursor at t = 0
    for animated, frame in zip(data, _cursor_frame_data(sample, trace, 0, ranges)):
        animated.update({k: v for k, v in frame.items() if k != "type"})
    assert n_animated == 3 + n
    return {"data": data, "layout": layout}, Cursor(0, 1, 2, tuple(range(3, n_animated)), tuple(ranges))


def explorer_figure(sample: Sample, trace: Trace, classes, height: int = 900, meta: dict | None = None) -> go.Figure:
    """The Explorer figure with Plotly's own animation: one frame per step, a slider and play buttons.

    Self-contained (for an HTML file or a notebook); the app's live chart draws ``explorer_base`` and
    moves the cursor itself (ui/components/explorer_chart).
    """
    spec, cursor = explorer_base(sample, trace, classes, height, meta)
    fig = AnimatedFigure(spec)
    T = trace.gate.shape[1]
    n_animated = 3 + len(cursor.lines)
    unchanged = [{}] * (len(fig.data) - n_animated)  # static traces: listed, not changed
    every = list(range(len(fig.data)))
    frames = [{"name": str(t), "data": _cursor_frame_data(sample, trace, t, list(cursor.ranges)) + unchanged, "traces": every}
              for t in range(T)]
    still = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    below = fig.layout.yaxis.domain[0]  # the controls sit under the input picture
    slider = {
        "active": 0, "x": 0.0, "len": 0.28, "y": below - 0.28, "yanchor": "top", "pad": {"t": 10},
        "currentvalue": {"prefix": "cursor t = ", "font": {"size": 12}},
        "steps": [{"label": str(t), "method": "animate", "args": [[str(t)], still]} for t in range(T)],
    }
    fig.add_plain(frames=frames, sliders=[slider])
    fig.update_layout(updatemenus=[dict(
        type="buttons", direction="left", x=0.0, y=below - 0.22, xanchor="left", yanchor="top", pad=dict(t=0, r=4),
        buttons=[
            *[dict(label=label, method="animate", args=[None, {"frame": {"duration": ms, "redraw": False}, "fromcurrent": True,
                                                                "transition": {"duration": 0}, "mode": "immediate"}])
              for label, ms in SPEEDS],
            dict(label="❚❚ Pause", method="animate", args=[[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]),
        ],
    )])
    return fig


def explorer_payload(sample: Sample, trace: Trace, classes, height: int = 900, meta: dict | None = None) -> bytes:
    """What the live Explorer chart receives: the base figure and the events of every frame, as JSON bytes.

    The chart builds the cursor's traces for step t itself from ``steps`` (the same rule as
    ``_cursor_frame_data``), so no animation frames travel: a few tens of kB instead of hundreds.
    """
    figure, cursor = explorer_base(sample, trace, classes, height, meta)
    T = trace.gate.shape[1]
    W, H, _ = sample.sensor_size
    rows, channels = np.nonzero(sample.x.numpy())  # row-major: sorted by step
    offsets = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=T))])
    steps = {"T": T, "W": W, "H": H, "offsets": _i32(offsets), "channels": _i32(channels),
             "gate": _i32(trace.gate[0]), "signal": _i32(sample.signal)}
    spec = {"figure": figure, "steps": steps, "cursor": asdict(cursor), "colors": {"open": OPEN, "closed": "#5f6670"}}
    return plotly.io.json.to_json_plotly(spec).encode()


def evidence_figure(readout: Readout, classes, title: str, label: int | None = None, height: int = 260) -> go.Figure:
    """Running class evidence of one run (e.g. the forced-open network); prediction (and true label) in colour."""
    highlight = _highlight(int(readout.prediction[0]), label)
    fig = go.Figure([go.Scatter(line) for line in _class_lines(_f32(readout.evidence[0]), classes, highlight, "evidence")])
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), title=dict(text=title, font_size=13),
                      template="plotly_white", xaxis_title="time step (ms)", yaxis_title="evidence", uirevision=title,
                      showlegend=False)
    return fig


def training_figure(history: list[dict]) -> go.Figure:
    """Per-epoch validation accuracy, state updates and gate recall from a checkpoint's history."""
    epochs = [row["epoch"] for row in history]
    fig = go.Figure()
    for key, name, color in (("accuracy", "accuracy", "#1f77b4"), ("state_updates", "state updates", "#2a9d8f"),
                             ("gate_recall", "gate recall", "#e4572e")):
        if history and key in history[0]:
            fig.add_trace(go.Scatter(x=epochs, y=[row[key] for row in history], name=name, mode="lines+markers", line_color=color))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), template="plotly_white", xaxis_title="epoch",
                      yaxis=dict(range=[0, 1.02], title="fraction"), legend=dict(orientation="h"),
                      title=dict(text="Training curve: validation after each epoch (training-time, not the published figures)",
                                 font_size=13))
    return fig


def sweep_figure(rows: list[dict], gated: bool, name: str) -> go.Figure:
    """Held-out accuracy (and, with a gate, the forced-open accuracy and state updates) against noise level."""
    level = [r["noise_level"] for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=level, y=[r["accuracy"] for r in rows], name="accuracy" + (", gated" if gated else ""),
                             mode="lines+markers", line=dict(color="#1f77b4", width=2.5)))
    if gated:
        fig.add_trace(go.Scatter(x=level, y=[r["forced_open_accuracy"] for r in rows], name="accuracy, gate forced open",
                                 mode="lines+markers", line=dict(color="#1f77b4", dash="dash")))
        fig.add_trace(go.Scatter(x=level, y=[r["state_updates"] for r in rows], name="state updates",
                                 mode="lines+markers", line=dict(color="#2a9d8f")))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), template="plotly_white",
                      xaxis=dict(title="noise level (event pairs per noise frame)", dtick=1),
                      yaxis=dict(range=[0, 1.02], title="fraction", tickformat=".0%"), legend=dict(orientation="h"),
                      title=dict(text=f"Noise sweep of {name} on the held-out split (evaluate CLI)", font_size=13))
    return fig
