"""Figures of the guided tour: the task, the architecture, and what the gate saves."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..explore import Sample
from ..model import Trace
from .common import CLOSED, OPEN, SIGNAL, f32, i32, legend_below

INK = "#1d2430"


def task_figure(sample: Sample, height: int = 300) -> go.Figure:
    """Events per frame over the 300 steps, the digit's window shaded: a short signal buried in noise."""
    counts = np.count_nonzero(sample.x.numpy(), axis=1)
    t = i32(np.arange(len(counts)))
    colors = np.where(sample.signal.numpy(), "#b8860b", "#8a8f98").tolist()
    fig = go.Figure(go.Bar(x=t, y=counts, marker_color=colors, hovertemplate="frame %{x}: %{y} events<extra></extra>"))
    s0, s1 = sample.start - 0.5, sample.start + int(sample.signal.sum()) - 0.5
    fig.add_vrect(x0=s0, x1=s1, fillcolor=SIGNAL, line_width=0, layer="below", annotation_text="the digit (50 ms)",
                  annotation_position="top left")
    fig.update_layout(height=height, bargap=0, template="plotly_white", margin=dict(l=10, r=10, t=40, b=10),
                      title=dict(text="Events per 1 ms frame: 50 frames of a digit among 250 frames of noise", font_size=14),
                      xaxis_title="time step (ms)", yaxis_title="events")
    return fig


def architecture_figure(n_hidden: int, height: int = 340) -> go.Figure:
    """Input frame -> gate -> hidden LIF -> output LIF on top; below, the pulses P1..P100 and the hidden spikes feed
    the controller, whose spike a[t] goes back to the gate and opens it for frame t+1. Every arrow runs from one box
    to another; every label sits in a gap of its own."""
    boxes = {  # name: (x0, y0, x1, y1, label)
        "input": (0.0, 0.6, 0.17, 0.9, "input frame x[t]<br>2 × 34 × 34"),
        "gate": (0.26, 0.63, 0.36, 0.87, "gate"),
        "hidden": (0.47, 0.6, 0.67, 0.9, f"hidden LIF<br>{n_hidden} neurons"),
        "output": (0.8, 0.6, 0.98, 0.9, "output LIF<br>10 classes"),
        "pulses": (0.0, 0.08, 0.3, 0.35, "pulses P1 P2 P10 P100<br>every 1, 2, 10, 100 steps"),
        "controller": (0.47, 0.08, 0.72, 0.35, "controller LIF<br>spikes a[t] when u ≥ θc"),
    }
    fig = go.Figure()
    for name, (x0, y0, x1, y1, label) in boxes.items():
        color = OPEN if name in ("gate", "controller") else "#eef0f3"
        fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, line=dict(color=INK, width=1.5), fillcolor=color,
                      opacity=0.9 if name in ("gate", "controller") else 1)
        fig.add_annotation(x=(x0 + x1) / 2, y=(y0 + y1) / 2, text=label, showarrow=False,
                           font=dict(size=12, color="#ffffff" if name in ("gate", "controller") else INK))
    arrows = [  # (tail, head, label, where the label goes: (x, y, xanchor))
        ((0.17, 0.75), (0.26, 0.75), "", None),
        ((0.36, 0.75), (0.47, 0.75), "admitted<br>frames", (0.415, 0.77, "center")),
        ((0.67, 0.75), (0.8, 0.75), "spikes", (0.735, 0.77, "center")),
        ((0.57, 0.6), (0.57, 0.35), "hidden spikes", (0.585, 0.475, "left")),
        ((0.3, 0.215), (0.47, 0.215), "", None),
        ((0.47, 0.3), (0.31, 0.63), "a[t] opens<br>frame t+1", (0.37, 0.47, "right")),
    ]
    for (x0, y0), (x1, y1), text, where in arrows:
        fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=3,
                           arrowwidth=1.6, arrowcolor=INK, text="")
        if text:
            x, y, anchor = where
            fig.add_annotation(x=x, y=y, text=text, showarrow=False, xanchor=anchor,
                               yanchor="bottom" if anchor == "center" else "middle", font=dict(size=11, color=INK))
    fig.update_xaxes(visible=False, range=[-0.01, 0.99])
    fig.update_yaxes(visible=False, range=[0, 0.95])
    fig.update_layout(height=height, template="plotly_white", margin=dict(l=10, r=10, t=40, b=10),
                      title=dict(text="SkipSNN: the controller decides whether the next frame reaches the network", font_size=14))
    return fig


def savings_figure(trace: Trace, height: int = 320) -> go.Figure:
    """Synaptic operations summed over time: the gated run against the same weights with the gate forced open."""
    t = i32(np.arange(trace.gate.shape[1]))
    gated = np.cumsum(trace.gated.synops[0].numpy()) / 1e6
    opened = np.cumsum(trace.forced_open.synops[0].numpy()) / 1e6
    fig = go.Figure([
        go.Scatter(x=t, y=f32(opened), name="gate forced open", mode="lines", line=dict(color=INK, dash="dash", width=2)),
        go.Scatter(x=t, y=f32(gated), name="gated (SkipSNN)", mode="lines", line=dict(color=OPEN, width=3)),
    ])
    skipped = np.flatnonzero(~trace.gate[0].numpy())
    fig.add_trace(go.Scatter(x=i32(skipped), y=f32(gated[skipped]), mode="markers", name="skipped frame: no input work",
                             marker=dict(color=CLOSED, size=4)))
    legend, bottom = legend_below(rows=2)
    fig.update_layout(height=height + bottom - 40, template="plotly_white", margin=dict(l=10, r=10, t=40, b=bottom),
                      title=dict(text="Synaptic operations so far (millions)", font_size=14), xaxis_title="time step (ms)",
                      yaxis_title="M ops", legend=legend)
    return fig
