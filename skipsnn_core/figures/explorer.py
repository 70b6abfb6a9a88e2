"""The Explorer figure: every panel of one run on one time axis, with one cursor.

``explorer_base`` builds the static figure (plain dicts over a cached layout skeleton, no WebGL:
SVG traces and layout images); the app's live chart (ui/components/explorer_chart) moves the
cursor itself from ``explorer_payload``; ``explorer_figure`` adds Plotly's own animation (one
frame per step, a slider and play buttons) for a self-contained file. A redraw-free Plotly
transition replots each subplot from the frame's traces alone, so every frame lists every trace,
the static ones as an empty update ``{}``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
import plotly.io
from plotly.subplots import make_subplots

from ..explore import Sample, edits_override, events_at, parse_edits
from ..model import Readout, Trace
from .common import (CLASS_COLORS, CLOSED, OFF, ON, OPEN, SIGNAL, bar_image, blend_image, class_lines, f32, highlight_roles, i32,
                     json_ready, layout_image, padded, tint_image, zoomed_range)
from .palette import LIGHT, palette, themed

SPEEDS = (("▶ 16 ms/s", 60), ("▶▶ 64 ms/s", 15), ("▶ 4 ms/s", 240))  # label: sensor time per second; frame duration


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
    caption = f"t = {t} ms · {'admitted' if admitted else 'skipped'}" + (" · signal" if sample.signal[t] else "")
    W = sample.sensor_size[0]
    on, off = p == 1, p == 0
    return [
        {"type": "scatter", "x": x[on].tolist(), "y": y[on].tolist(), "marker": {"opacity": opacity}},
        {"type": "scatter", "x": x[off].tolist(), "y": y[off].tolist(), "marker": {"opacity": opacity}},
        {"type": "scatter", "x": [(W - 1) / 2], "y": [-1.6], "text": [caption],
         "textfont": {"color": LIGHT.open_text if admitted else LIGHT.muted}},
        *({"type": "scatter", "x": [t, t], "y": list(lo_hi)} for lo_hi in y_ranges),
    ]


def hidden_order(trace: Trace) -> np.ndarray:
    """Ids of the active hidden neurons of sample 0, ordered by first spike (then by spike count)."""
    spikes = trace.hidden_spikes[0].numpy()  # (T, H) bool
    active = np.flatnonzero(spikes.any(0))
    first = spikes[:, active].argmax(0)
    return active[np.lexsort((-spikes[:, active].sum(0), first))]


def hidden_raster(trace: Trace) -> tuple[np.ndarray, int]:
    """Spikes of the active hidden neurons, (n_active, T) bool, in ``hidden_order``."""
    order = hidden_order(trace)
    return trace.hidden_spikes[0].numpy()[:, order].T, len(order)


# The time panels, top to bottom: (name, relative height, title). A plain SNN has no gate and no controller,
# so it gets neither panel rather than an always-open gate that pretends otherwise.
PANELS = {
    "events": (0.1, "Events per frame: <span style='color:%s'>■</span> admitted <span style='color:%s'>■</span> skipped"
                    " <span style='color:%s'>■</span> true signal" % (OPEN, CLOSED, LIGHT.signal)),
    "gate": (0.07, "Gate: frame t admitted or skipped · ▼ forced by you"),
    "controller": (0.18, "Controller membrane, θc dashed · ▲ P10 ★ P100 pulses"),
    "hidden": (0.27, "Hidden raster (active neurons by first spike)"),
    "output": (0.2, "Output membranes and spikes · teal: predicted, dashed: true class"),
    "evidence": (0.18, "Running class evidence · teal: predicted, dashed: true class"),
}
PLAIN_PANELS = ("events", "hidden", "output", "evidence")


# On a projector the figure shares one screen with the cards (at 1280x720 about 430 px): the panels the story needs
# and no more, each tall enough to read from the back of a room.
PROJECTOR_PANELS = ("events", "gate", "controller", "evidence")
PLAIN_PROJECTOR_PANELS = ("events", "output", "evidence")


def panels_for(trace: Trace, projector: bool = False) -> tuple[str, ...]:
    if projector:
        return PROJECTOR_PANELS if trace.has_controller else PLAIN_PROJECTOR_PANELS
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
        subplot_titles=("Input at the cursor <span style='color:%s'>■</span> ON <span style='color:%s'>■</span> OFF" % (ON, OFF),
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
    fig.update_annotations(font_size=13)  # the panel titles: 16 px ran out of their panels at 1280 px (tests/test_layout.py)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), uirevision="explorer", bargap=0, showlegend=False,
                      hovermode="closest", template="plotly_white")
    return plotly.io.to_json(fig.layout, validate=False)


def _scatter(axis: str, **props) -> dict:
    """A scatter trace (plain dict) on the time panel with axis suffix ``axis`` ("" for the input picture)."""
    return {"type": "scatter", "xaxis": "x" + axis, "yaxis": "y" + axis, **props}


def _hidden_panel(data: list[dict], images: list[dict], trace: Trace, a: str, spikes: np.ndarray, n_active: int, T: int) -> None:
    """The hidden raster (a layout image) and one invisible hover cell per row, on the panel with axis suffix ``a``."""
    if n_active == 0:  # a silent hidden layer: one blank row keeps the panel (and the PNG) well-formed
        spikes = np.zeros((1, T), dtype=bool)
    images.append(layout_image("hidden raster", blend_image(spikes[..., None].astype(np.float32), "#ffffff", "#222222", scale=2),
                         "x" + a, "y" + a, -0.5, n_active - 0.5, T, max(n_active, 1)))
    if n_active:  # hover on a row names its neuron: one invisible cell per row, a few bytes each
        ids = hidden_order(trace)
        rows = spikes[:n_active]
        # the neuron's id as the cell's customdata (a click sends it to Why) and its line as text, both (rows, 1):
        # 3-D customdata (id, count, first) cost Plotly ~11 ms more on every redraw
        text = [[f"hidden neuron {i}: {n} spikes, the first at t={first}"] for i, n, first in zip(ids, rows.sum(1), rows.argmax(1))]
        data.append({"type": "heatmap", "xaxis": "x" + a, "yaxis": "y" + a, "z": np.zeros((n_active, 1), np.int8),
                     "x": [-0.5, T - 0.5], "y": np.arange(n_active + 1, dtype=np.float32) - 0.5, "opacity": 0, "showscale": False,
                     "customdata": ids[:, None].tolist(), "text": text,  # plain lists: 2-D typed arrays do not decode here
                     "hovertemplate": "%{text}<extra></extra>", "hoverongaps": False})


def explorer_base(sample: Sample, trace: Trace, classes, height: int = 900, meta: dict | None = None,
                  full_range: bool = False, projector: bool = False, edits: str = "") -> tuple[dict, Cursor]:
    """Every panel on one time axis, the cursor at t = 0, no animation: the figure (a plain dict, as Plotly takes
    it) both the live chart and ``explorer_figure`` are made from. Sample 0 of the trace.

    ``meta`` lands in ``layout.meta`` (the view that drew it: lets a browser test see which rerun it shows).
    ``full_range``: membrane axes span the whole curves; by default they are clipped around the thresholds,
    so the crossings that decide the gate and the outputs stay visible next to peaks of 60.
    ``edits``: the gate edits the trace ran with (ViewOptions.edits); the steps they forced are marked on the gate
    and named in its hover, so a forced step never looks like the controller's own.
    """
    T = trace.gate.shape[1]
    W, H, _ = sample.sensor_size
    t_axis = i32(np.arange(T))
    gate = trace.gate[0].numpy()
    panels = panels_for(trace, projector)
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
    data.append(_scatter("", mode="text", showlegend=False, hoverinfo="skip", textfont={"size": 13},
                         cliponaxis=False))  # the caption may be wider than the picture (big type on a projector)
    for p in panels:
        data.append(_scatter(axis[p], mode="lines", line={"color": "#222", "width": 1.5}, showlegend=False, hoverinfo="skip",
                             cliponaxis=False))
    n_animated = len(data)

    # static pictures (layout images: no per-trace rendering cost, untouched by the animation)
    x = sample.x.numpy()  # (T, N) 0/1
    footprint = x[sample.signal.numpy()].sum(0, dtype=np.int32).reshape(-1, H, W).sum(0)
    shade = np.clip(footprint / max(footprint.max(), 1), 0, 1)[..., None]
    images = [layout_image("footprint", tint_image(shade, LIGHT.footprint, scale=8), "x", "y", -0.5, -0.5, W, H)]
    counts = np.count_nonzero(x, axis=1)
    top = float(max(counts.max(), 1)) * 1.08
    a = axis["events"]
    images.append(layout_image("events per frame", bar_image(counts, gate, top), "x" + a, "y" + a, -0.5, top, T, top))
    status = np.where(gate, "admitted", "skipped") + np.where(sample.signal.numpy(), " · signal", "")
    # The hover points sit on one row (not on the bars' tops): the nearest point is then the frame under the pointer,
    # not a neighbour whose bar happens to end closer to it. An invisible line, not 300 invisible markers: Plotly draws
    # one path for it instead of one per frame on every redraw.
    data.append(_scatter(a, x=t_axis, y=np.full(T, top / 2, np.float32), mode="lines", line={"color": "rgba(0,0,0,0)", "width": 1},
                         name="events per frame", customdata=np.char.add(counts.astype(str), np.char.add(" events, ", status)),
                         hovertemplate="frame %{x}: %{customdata}<extra></extra>"))
    y_ranges = {"events": (0.0, top)}
    y_titles = {"events": "events", "output": "u (θ dashed)", "evidence": "rate"}
    if "hidden" in panels:  # not on a projector
        spikes, n_active = hidden_raster(trace)
        y_ranges["hidden"], y_titles["hidden"] = (-0.5, max(n_active, 1) - 0.5), f"{n_active} active"
        _hidden_panel(data, images, trace, axis["hidden"], spikes, n_active, T)
    thresholds = []  # dashed threshold lines, as shapes (static layout survives the animation)
    if trace.has_controller:
        a = axis["gate"]
        images.append(layout_image("gate", blend_image(gate[None, :, None].astype(np.float32), "#eef0f3", OPEN), "x" + a, "y" + a,
                             -0.5, 1.0, T, 1.0))
        y_ranges["gate"], y_titles["gate"] = (-0.1, 1.2), "gate"
        spiked = np.flatnonzero(trace.controller_spikes[0].numpy())
        lag = spiked[spiked + 1 < T]  # an arrow from each controller spike at t to the frame it admits, t + 1
        data.append(_scatter(a, x=np.stack([lag, lag + 1, lag * np.nan], 1).ravel().astype(np.float32),
                             y=np.tile(np.array([0.1, 0.9, np.nan], np.float32), len(lag)), mode="lines",
                             line={"color": "#1d2430", "width": 0.8}, hoverinfo="skip", name="spike → next frame"))
        forced = edits_override(parse_edits(edits, T), T).numpy() if edits else np.full(T, -1)
        by = np.select([forced == 1, forced == 0], [" (forced open by you)", " (forced closed by you)"], "")
        # The hover and the click: one invisible cell per step over the whole panel (a heatmap is drawn as one picture;
        # 300 invisible markers cost Plotly ~0.1 ms each on every redraw). A box drag selects markers only, so the
        # markers are there too but hidden: the chart shows them while its "Select steps" is on (chart.js).
        data.append({"type": "heatmap", "xaxis": "x" + a, "yaxis": "y" + a, "name": "gate", "z": np.zeros((1, T), np.int8),
                     "x": t_axis, "y": [-0.1, 1.2], "opacity": 0, "showscale": False, "hoverongaps": False,
                     "customdata": [np.char.add(np.where(gate, "admitted", "skipped"), by).tolist()],
                     "hovertemplate": "frame %{x}: %{customdata}<extra></extra>"})
        data.append(_scatter(a, x=t_axis, y=np.full(T, 0.5, np.float32), mode="markers", marker={"opacity": 0, "size": 6},
                             name="gate steps", visible=False, hoverinfo="skip", showlegend=False))
        marked = np.flatnonzero(forced >= 0)
        if len(marked):  # a second cue beside the colour: a mark over every step the user forced
            data.append(_scatter(a, x=i32(marked), y=np.full(len(marked), 1.08, np.float32), mode="markers",
                                 name="forced by you", hoverinfo="skip",
                                 marker={"symbol": np.where(forced[marked] == 1, "triangle-down", "x-thin-open").tolist(),
                                         "size": 5, "color": LIGHT.ink, "line": {"width": 1, "color": LIGHT.ink}}))
        # controller membrane, threshold, pulses
        a = axis["controller"]
        u_c = f32(trace.controller_u[0])
        data.append(_scatter(a, x=t_axis, y=u_c, mode="lines", name="controller u", line={"color": "#6a4c93", "width": 1.2},
                             hovertemplate="t=%{x}<br>controller u %{y:.3f}<extra></extra>"))
        lo, hi = zoomed_range(u_c, trace.controller_theta, full_range)
        low = lo - 0.08 * (hi - lo)  # the pulse markers' row, under the curve
        # the slow pulses, P10 (triangles) and P100 (stars), in one trace; P1 and P2 are every step and every other
        p10, p100 = np.arange(T) % 10 == 0, np.arange(T) % 100 == 0
        ts = i32(np.flatnonzero(p10 | p100))
        data.append(_scatter(a, x=ts, y=np.full(len(ts), low, np.float32), mode="markers", name="pulses P10 / P100",
                             marker={"symbol": np.where(p100[ts], "star", "triangle-up").tolist(), "size": 7, "color": "#8e5f7d"},
                             hovertemplate="pulse at t=%{x}<extra></extra>"))
        data.append(_scatter(a, x=i32(spiked), y=np.minimum(u_c[spiked], hi - 0.04 * (hi - lo)), mode="markers",
                             name="controller spike", marker={"symbol": "triangle-down", "size": 7, "color": "#6a4c93"},
                             hovertemplate="controller spike at t=%{x}: the next frame is admitted<extra></extra>"))
        y_ranges["controller"] = (low - 0.06 * (hi - lo), hi)
        y_titles["controller"] = "u (θc dashed)"
        thresholds.append(("controller", trace.controller_theta, "#6a4c93"))
    highlight = highlight_roles(int(trace.prediction[0]), sample.label)
    if "output" in panels:  # output membranes, threshold, spikes
        a = axis["output"]
        u_o = f32(trace.output_u[0])
        s_o = trace.output_spikes[0].numpy()
        data += [{**line, "xaxis": "x" + a, "yaxis": "y" + a} for line in class_lines(u_o, classes, highlight, "u")]
        ts, cs = (i32(v) for v in np.nonzero(s_o))
        data.append(_scatter(a, x=ts, y=u_o[ts, cs], mode="markers", name="output spike", showlegend=False,
                             marker={"color": [CLASS_COLORS[c % 10] for c in cs], "size": 5}, customdata=[classes[c] for c in cs],
                             hovertemplate="spike, class %{customdata}<br>t=%{x}<extra></extra>"))
        y_ranges["output"] = tuple(zoomed_range(u_o, trace.output_theta, full_range)) if not full_range else padded(
            min(float(u_o.min()), 0.0), max(float(u_o.max()), trace.output_theta))
        thresholds.append(("output", trace.output_theta, "#555"))
    # running class evidence
    a = axis["evidence"]
    ev = f32(trace.gated.evidence[0])
    data += [{**line, "xaxis": "x" + a, "yaxis": "y" + a} for line in class_lines(ev, classes, highlight, "evidence")]
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
    if projector:
        _for_projector(data, layout)
    return {"data": data, "layout": layout}, Cursor(0, 1, 2, tuple(range(3, n_animated)), tuple(ranges))


def _for_projector(data: list[dict], layout: dict) -> None:
    """Presentation mode: larger type, thicker lines and markers, a signal band that survives a washed-out projector."""
    for trace in data:
        if "line" in trace:
            trace["line"] = {**trace["line"], "width": trace["line"].get("width", 1.5) * 1.8}
        if isinstance(trace.get("marker"), dict) and "size" in trace["marker"]:
            trace["marker"] = {**trace["marker"], "size": trace["marker"]["size"] * 1.4}
    layout["font"] = {**layout.get("font", {}), "size": 16}
    for note in layout.get("annotations", []):
        note["font"] = {**note.get("font", {}), "size": 17}
    for shape in layout.get("shapes", []):
        if shape.get("fillcolor") == SIGNAL:
            shape.update(fillcolor="rgba(255, 176, 0, 0.26)", line={"width": 2, "color": "#b8860b"})


def explorer_figure(sample: Sample, trace: Trace, classes, height: int = 900, meta: dict | None = None,
                    full_range: bool = False, projector: bool = False, edits: str = "") -> go.Figure:
    """The Explorer figure with Plotly's own animation: one frame per step, a slider and play buttons.

    Self-contained (for an HTML file or a notebook); the app's live chart draws ``explorer_base`` and
    moves the cursor itself (ui/components/explorer_chart).
    """
    spec, cursor = explorer_base(sample, trace, classes, height, meta, full_range, projector, edits)
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


def explorer_payload(sample: Sample, trace: Trace, classes, height: int = 900, meta: dict | None = None,
                     full_range: bool = False, projector: bool = False, edits: str = "", theme: str = "light") -> bytes:
    """What the live Explorer chart receives: the base figure and the events of every frame, as JSON bytes.

    The chart builds the cursor's traces for step t itself from ``steps`` (the same rule as
    ``_cursor_frame_data``), so no animation frames travel: a few tens of kB instead of hundreds.
    ``theme``: "light" or "dark" (Streamlit's theme type; palette.themed recolours the figure).
    """
    figure, cursor = explorer_base(sample, trace, classes, height, meta, full_range, projector, edits)
    figure, colors = json_ready(themed(figure, theme)), palette(theme)
    T = trace.gate.shape[1]
    W, H, _ = sample.sensor_size
    rows, channels = np.nonzero(sample.x.numpy())  # row-major: sorted by step
    offsets = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=T))])
    steps = {"T": T, "W": W, "H": H, "offsets": i32(offsets), "channels": i32(channels),
             "gate": i32(trace.gate[0]), "signal": i32(sample.signal)}
    spec = {"figure": figure, "steps": steps, "cursor": asdict(cursor), "theme": colors.theme,
            "colors": {"open": colors.open_text, "closed": colors.muted}}
    return plotly.io.json.to_json_plotly(spec).encode()



@lru_cache(maxsize=4)
def _evidence_layout(height: int) -> str:
    """The layout every evidence figure of this height shares (template, margins, axis titles), as JSON text, built
    once: Plotly's validated objects cost ~25 ms a figure, on every Explore rerun (the forced-open chart)."""
    layout = go.Layout(height=height, margin=dict(l=10, r=10, t=30, b=10), template="plotly_white", showlegend=False,
                       xaxis_title="time step (ms)", yaxis_title="evidence")
    return plotly.io.to_json(layout, validate=False)


def evidence_spec(readout: Readout, classes, title: str, label: int | None = None, height: int = 260) -> dict:
    """Running class evidence of one run (e.g. the forced-open network) as a plain figure dict, as Plotly takes it;
    prediction (and true label) in colour."""
    highlight = highlight_roles(int(readout.prediction[0]), label)
    layout = json.loads(_evidence_layout(height))
    layout.update(title={"text": title, "font": {"size": 13}}, uirevision=title)
    return {"data": class_lines(f32(readout.evidence[0]), classes, highlight, "evidence"), "layout": layout}


def evidence_figure(readout: Readout, classes, title: str, label: int | None = None, height: int = 260) -> go.Figure:
    """``evidence_spec`` as a Plotly Figure."""
    return go.Figure(evidence_spec(readout, classes, title, label, height))
