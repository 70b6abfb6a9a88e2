"""Two runs of one sample side by side: their gates stacked with the differences marked, their evidence overlaid."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..explore import Sample
from ..model import Readout, Trace
from .common import CLOSED, OPEN, SIGNAL, f32, i32, legend_below

RUN_COLORS = ("#2a9d8f", "#c2185b")  # A, B: teal and magenta, told apart by hue and by line style
RUN_DASH = ("solid", "dash")


def compare_figure(sample: Sample, runs: list[tuple[str, Trace]], classes, height: int = 520) -> go.Figure:
    """Gates of the runs stacked (steps where they differ marked) and the running evidence of each run's
    predicted class and of the true class, on one time axis. Sample 0 of each trace."""
    T = runs[0][1].gate.shape[1]
    t = i32(np.arange(T))
    gates = [r.gate[0].numpy() for _, r in runs]
    differ = np.flatnonzero(gates[0] != gates[1]) if len(gates) == 2 else np.zeros(0, np.int64)
    marks = ("" if len(gates) != 2 else f"; ◆ the {len(differ)} steps where they differ" if len(differ) != 1
             else "; ◆ the one step where they differ")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12, row_heights=[0.35, 0.65],
                        subplot_titles=(f"Gates: teal ■ admitted, grey ■ skipped{marks}",
                                        "Running evidence of each run's prediction (and the true class, thin)"))
    for i, ((name, _), gate) in enumerate(zip(runs, gates)):
        y = np.full(T, len(runs) - 1 - i, np.float32)
        fig.add_trace(go.Scatter(x=t, y=y, mode="markers", name=f"{name}: gate", showlegend=False,  # the row's label names it
                                 marker=dict(symbol="square", size=6, color=np.where(gate, OPEN, CLOSED).tolist()),
                                 customdata=np.where(gate, "admitted", "skipped"),
                                 hovertemplate=f"{name}<br>frame %{{x}}: %{{customdata}}<extra></extra>"), 1, 1)
    if len(gates) == 2:
        fig.add_trace(go.Scatter(x=i32(differ), y=np.full(len(differ), 0.5, np.float32), mode="markers",
                                 name=f"◆ gates differ ({len(differ)} steps)",
                                 marker=dict(symbol="diamond", size=7, color="#1d2430"),
                                 hovertemplate="frame %{x}: the runs disagree<extra></extra>"), 1, 1)
    for i, (name, trace) in enumerate(runs):
        readout: Readout = trace.gated
        pred = int(readout.prediction[0])
        style = dict(color=RUN_COLORS[i % 2], dash=RUN_DASH[i % 2])
        if pred >= 0:
            fig.add_trace(go.Scatter(x=t, y=f32(readout.evidence[0, :, pred]), mode="lines", name=f"{name}: predicted {classes[pred]}",
                                     line=dict(width=2.5, **style)), 2, 1)
        if 0 <= sample.label != pred:
            fig.add_trace(go.Scatter(x=t, y=f32(readout.evidence[0, :, sample.label]), mode="lines",
                                     name=f"{name}: true class {classes[sample.label]}", line=dict(width=1, **style)), 2, 1)
    s0, s1 = sample.start - 0.5, sample.start + int(sample.signal.sum()) - 0.5
    for row in (1, 2):
        fig.add_vrect(x0=s0, x1=s1, fillcolor=SIGNAL, line_width=0, layer="below", row=row, col=1)
    fig.update_yaxes(tickvals=list(range(len(runs))), ticktext=[name for name, _ in runs][::-1], range=[-0.6, len(runs) - 0.4],
                     row=1, col=1)
    fig.update_yaxes(title_text="evidence", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(range=[-0.5, T - 0.5], title_text="time step (ms)", row=2, col=1)
    legend, bottom = legend_below()
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=bottom), template="plotly_white", hovermode="closest",
                      legend=legend, uirevision="compare")
    return fig
