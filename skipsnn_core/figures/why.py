"""Why did the gate open? The controller's input by source, its membrane against θc, and the neurons that pushed.

    why_figure(sample, trace, attribution, step)          the push, the crossing, the one-step lag to the gate
    neurons_figure(model, sample, trace, ids, step, ...)   receptive fields, events on them, membranes
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..explain import GateAttribution, receptive_field
from ..explore import Sample, events_at
from ..model import SkipSNN, Trace
from .common import CLOSED, OFF, ON, OPEN, SIGNAL, f32, hex_rgb, i32, zoomed_range

HIDDEN, BIAS = "#2a9d8f", "#8a8f98"
PULSE_COLORS = ("#d7c4e4", "#b08ea2", "#8e5f7d", "#5b2a52")  # P1, P2, P10, P100: light to dark
CONTROLLER = "#6a4c93"


def why_figure(sample: Sample, trace: Trace, att: GateAttribution, step: int, full_range: bool = False,
               height: int = 640) -> go.Figure:
    """Sample 0: the controller's input by source (stacked), its membrane against θc, and the gate one step later."""
    T = trace.gate.shape[1]
    t = i32(np.arange(T))
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.42, 0.38, 0.2],
                        subplot_titles=("What drove the controller: its input current by source (stacked) and the total",
                                        "Controller membrane u against its threshold θc (dashed); ▼ spikes",
                                        "Gate: a spike at step t admits frame t+1 (arrows)"))
    hover = "t=%{x}<br>%{fullData.name}: %{y:.3f}<extra></extra>"
    fig.add_trace(go.Bar(x=t, y=f32(att.hidden[0].sum(-1)), name="hidden spikes × weights", marker_color=HIDDEN,
                         hovertemplate=hover), 1, 1)
    for k, (period, color) in enumerate(zip(att.periods, PULSE_COLORS)):
        fig.add_trace(go.Bar(x=t, y=f32(att.pulses[0, :, k]), name=f"pulse P{period}", marker_color=color, hovertemplate=hover), 1, 1)
    fig.add_trace(go.Bar(x=t, y=f32(att.bias[0]), name="bias", marker_color=BIAS, hovertemplate=hover), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=f32(att.total[0]), name="total input", mode="lines", line=dict(color="#1d2430", width=1.2),
                             hovertemplate=hover), 1, 1)

    u = f32(trace.controller_u[0])
    spikes = trace.controller_spikes[0].numpy()
    fig.add_trace(go.Scatter(x=t, y=u, name="controller u", mode="lines", line=dict(color=CONTROLLER, width=1.4),
                             hovertemplate="t=%{x}<br>u = %{y:.3f}<extra></extra>"), 2, 1)
    ts = np.flatnonzero(spikes)
    fig.add_trace(go.Scatter(x=i32(ts), y=u[ts], name="controller spike", mode="markers",
                             marker=dict(symbol="triangle-down", size=8, color=CONTROLLER),
                             hovertemplate="spike at t=%{x}: frame %{x}+1 is admitted<extra></extra>"), 2, 1)
    fig.add_hline(y=trace.controller_theta, line=dict(color=CONTROLLER, dash="dash", width=1), row=2, col=1)

    gate = trace.gate[0].numpy()
    fig.add_trace(go.Scatter(x=t, y=np.where(gate, 1.0, 0.0).astype(np.float32), name="gate", mode="markers",
                             marker=dict(symbol="square", size=5, color=np.where(gate, OPEN, CLOSED).tolist()),
                             customdata=np.where(gate, "admitted", "skipped"), hovertemplate="frame %{x}: %{customdata}<extra></extra>"),
                  3, 1)
    lag = ts[ts + 1 < T]  # an arrow from each spike at t to the frame it admits, t + 1
    xs = np.stack([lag, lag + 1, np.full(len(lag), np.nan)], 1).ravel().astype(np.float32)
    ys = np.tile(np.array([0.15, 0.85, np.nan], np.float32), len(lag))
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name="spike → next frame", line=dict(color=CONTROLLER, width=1),
                             marker=dict(symbol="arrow", angleref="previous", size=7, color=CONTROLLER), hoverinfo="skip"), 3, 1)

    s0, s1 = sample.start - 0.5, sample.start + int(sample.signal.sum()) - 0.5
    for row in (1, 2, 3):
        fig.add_vrect(x0=s0, x1=s1, fillcolor=SIGNAL, line_width=0, layer="below", row=row, col=1)
        fig.add_vline(x=step, line=dict(color="#1d2430", width=1.5), row=row, col=1)
    fig.update_yaxes(title_text="input", row=1, col=1)
    fig.update_yaxes(title_text="u", range=zoomed_range(u, trace.controller_theta, full_range), row=2, col=1)
    fig.update_yaxes(range=[-0.3, 1.3], tickvals=[0, 1], ticktext=["skipped", "admitted"], row=3, col=1)
    fig.update_xaxes(range=[-0.5, T - 0.5], row=3, col=1, title_text="time step (ms)")
    # One legend per panel, at its right, level with its top: each key beside the lines it names, none over a title.
    for row, legend in ((1, "legend"), (2, "legend2"), (3, "legend3")):
        fig.update_traces(legend=legend, selector=lambda tr, row=row: _row_of(fig, tr) == row)
        top = fig.layout[f"yaxis{row if row > 1 else ''}"].domain[1]
        fig.update_layout({legend: dict(x=1.01, xanchor="left", y=top, yanchor="top", font_size=12,
                                        tracegroupgap=2, bgcolor="rgba(255,255,255,0)")})
    fig.update_layout(barmode="relative", bargap=0, height=height, margin=dict(l=10, r=10, t=30, b=10), template="plotly_white",
                      hovermode="closest", clickmode="event+select", uirevision="why")
    return fig


def _row_of(fig: go.Figure, trace) -> int:
    """The subplot row (1-based) of a trace in a one-column make_subplots figure, from its y axis."""
    name = trace.yaxis or "y"
    return int(name[1:] or 1)


def field_picture(field: np.ndarray) -> np.ndarray:
    """(P, H, W) weights -> (H, W, 3) RGB: excitatory ON weights red, OFF blue, on white (one scale for both)."""
    top = max(float(field.max()), 1e-9)
    on, off = (np.clip(field[p] / top, 0, 1)[..., None] for p in (1, 0))
    white = hex_rgb("#ffffff")
    img = white - on * (white - hex_rgb(ON)) - off * (white - hex_rgb(OFF))
    return np.clip(img, 0, 255).astype(np.uint8)


def neurons_figure(model: SkipSNN, sample: Sample, trace: Trace, ids, step: int, contributions=None,
                   title: str = "", clickable: bool = False, row_px: int = 110) -> go.Figure:
    """For each hidden neuron in ``ids``: its receptive field with the events of frame ``step`` that landed on it,
    and its membrane with the threshold and its spikes. ``contributions``: its push on the controller at ``step``,
    shown with the controller's threshold as its scale. Each row's title is left-aligned above the row, so a neuron's
    id is never cut off. ``clickable``: the membranes carry markers with the neuron id as customdata, so a click
    (Streamlit's point selection) says which row was picked."""
    ids = [int(h) for h in ids]
    n = max(len(ids), 1)
    T = trace.gate.shape[1]
    theta_c = float(trace.controller_theta)
    gap = 30  # px between rows: room for the next row's title
    grid = n * row_px + (n - 1) * gap
    top = (46 if title else 0) + 24  # the figure's title, then the first row's title
    bottom = 46  # the last row's time axis and its title
    fig = make_subplots(rows=n, cols=2, column_widths=[0.2, 0.8], horizontal_spacing=0.05,
                        vertical_spacing=gap / grid if n > 1 else 0)
    ex, ey, ep = events_at(sample, step)
    t = i32(np.arange(T))
    for i, h in enumerate(ids):
        row = i + 1
        field = receptive_field(model, h, sample.sensor_size)
        fig.add_trace(go.Image(z=field_picture(field), hovertemplate=f"neuron {h}<br>x=%{{x}}, y=%{{y}}<extra></extra>"), row, 1)
        landed = field[ep, ey, ex] > 0  # events of this frame on the neuron's excitatory field
        for pol, symbol, color in ((1, "cross", ON), (0, "x", OFF)):
            sel = landed & (ep == pol)
            fig.add_trace(go.Scatter(x=ex[sel], y=ey[sel], mode="markers", name="ON event" if pol else "OFF event",
                                     marker=dict(symbol=symbol, size=9, color=color, line=dict(width=1, color="#1d2430")),
                                     hovertemplate=("ON" if pol else "OFF") + f" event at step {step} on neuron {h}'s field"
                                     "<br>x=%{x}, y=%{y}<extra></extra>", showlegend=False), row, 1)
        u = f32(trace.hidden_u[0, :, h])
        pick = "<br>click to inspect it" if clickable else ""
        fig.add_trace(go.Scatter(x=t, y=u, mode="lines+markers" if clickable else "lines", line=dict(color="#1d2430", width=1),
                                 marker=dict(size=3, color="#1d2430"), customdata=np.full(T, h, np.int32) if clickable else None,
                                 selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)),
                                 showlegend=False, name=f"neuron {h}",
                                 hovertemplate=f"neuron {h}<br>t=%{{x}}<br>u = %{{y:.3f}}{pick}<extra></extra>"), row, 2)
        ts = np.flatnonzero(trace.hidden_spikes[0, :, h].numpy())
        fig.add_trace(go.Scatter(x=i32(ts), y=u[ts], mode="markers", marker=dict(size=5, color=OPEN), showlegend=False,
                                 selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)),
                                 hovertemplate=f"neuron {h} spikes at t=%{{x}}<extra></extra>"), row, 2)
        fig.add_hline(y=trace.output_theta, line=dict(color="#555", dash="dash", width=1), row=row, col=2)
        fig.add_vline(x=step, line=dict(color="#1d2430", width=1.2), row=row, col=2)
        fig.update_xaxes(showticklabels=False, row=row, col=1)
        fig.update_yaxes(showticklabels=False, row=row, col=1)
        fig.update_xaxes(range=[-0.5, T - 0.5], showticklabels=row == n, row=row, col=2)
        fig.update_yaxes(title_text="u", range=[min(float(u.min()), -0.2), max(float(u.max()), trace.output_theta) + 0.2],
                         row=row, col=2)
        if contributions is None:
            text = f"<b>neuron {h}</b>"
        else:
            push = float(contributions[i])
            text = f"<b>neuron {h}</b> · push {push:+.3f} = {push / theta_c:.2f} of θc = {theta_c:g}"
        y_top = fig.layout[f"yaxis{2 * i + 1 if i else ''}"].domain[1]
        fig.add_annotation(text=text, xref="paper", yref="paper", x=0, y=y_top, xanchor="left", yanchor="bottom",
                           showarrow=False, font=dict(size=13, color="#1d2430"), yshift=2, name=f"row {h}")
    fig.update_xaxes(title_text="time step (ms)", row=n, col=2)
    fig.update_layout(height=grid + top + bottom, margin=dict(l=10, r=10, t=top, b=bottom), template="plotly_white",
                      title=dict(text=title, font_size=14, y=1, yref="container", yanchor="top", pad=dict(t=12)) if title else None,
                      showlegend=False, uirevision="neurons", clickmode="event+select" if clickable else "event",
                      hovermode="closest")
    return fig
