"""Training as it happens: the per-epoch curves and the gate of one held-out sample after every epoch."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .common import CLOSED, OPEN, SIGNAL, f32, i32

CURVES = (  # history key, panel title, y format
    ("loss", "Training loss (MSE + λ · gate penalty)", ".3f"),
    ("accuracy", "Held-out accuracy", ".0%"),
    ("state_updates", "State updates (admitted / all frames)", ".0%"),
    ("gate_recall", "Gate recall (signal frames admitted)", ".0%"),
)


def training_curves(history: list[dict], epochs: int, gated: bool = True, title: str | None = None,
                    height: int = 420) -> go.Figure:
    """Loss, held-out accuracy, state updates and gate recall per epoch (a checkpoint's or a running training's
    history), on an x axis as long as the whole run, so the curves grow into it. A plain SNN's gate panels say
    it has no gate. The Train page and the Model card draw it with this one function."""
    fig = make_subplots(rows=2, cols=2, shared_xaxes=True, vertical_spacing=0.16, horizontal_spacing=0.09,
                        subplot_titles=[panel for _, panel, _ in CURVES])
    x = i32([r["epoch"] for r in history])
    for k, (key, panel, fmt) in enumerate(CURVES):
        row, col = divmod(k, 2)
        y = f32([r[key] for r in history])
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=panel, showlegend=False,
                                 line=dict(color=OPEN if key != "loss" else "#1d2430", width=2.2),
                                 hovertemplate=f"epoch %{{x}}<br>{panel}: %{{y:{fmt}}}<extra></extra>"), row + 1, col + 1)
        fig.update_yaxes(tickformat=fmt if fmt.endswith("%") else None, rangemode="tozero", row=row + 1, col=col + 1,
                         range=[0, 1.02] if fmt.endswith("%") else None)
        if key in ("state_updates", "gate_recall") and not gated:
            fig.add_annotation(text="plain SNN: no gate, every frame admitted", showarrow=False, font=dict(color="#5f6670"),
                               xref=f"x{k + 1} domain", yref=f"y{k + 1} domain", x=0.5, y=0.5)
    for col in (1, 2):
        fig.update_xaxes(title_text="epoch", row=2, col=col)
    fig.update_xaxes(range=[0.5, max(epochs, 1) + 0.5], dtick=1 if epochs <= 15 else 5)
    fig.update_layout(height=height, template="plotly_white", margin=dict(l=10, r=10, t=70 if title else 40, b=10),
                      uirevision="train-curves", title=dict(text=title, font_size=13) if title else None)
    return fig


def gate_learning_figure(probes: list, sample_label: str, height: int = 460) -> go.Figure:
    """Top: the gate of one held-out sample after each epoch, one row per epoch (open / closed), the digit's
    frames shaded. Bottom: the controller's membrane after the latest epoch against its threshold θc."""
    last = probes[-1]
    T = len(last.gate)
    t = np.arange(T, dtype=np.int32)
    epochs = i32([p.epoch for p in probes])
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.55, 0.45],
                        subplot_titles=(f"Gate of held-out sample {sample_label} after each epoch (green: frame admitted)",
                                        f"Controller membrane after epoch {last.epoch} (it spikes above θc: the next frame is admitted)"))
    z = np.stack([p.gate for p in probes]).astype(np.int8)
    fig.add_trace(go.Heatmap(z=z, x=t, y=epochs, zmin=0, zmax=1, showscale=False,
                             colorscale=[[0, CLOSED], [0.5, CLOSED], [0.5, OPEN], [1, OPEN]],
                             customdata=np.where(z > 0, "admitted", "skipped"),
                             hovertemplate="epoch %{y}, frame %{x}: %{customdata}<extra></extra>"), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=f32(last.controller_u), mode="lines", name="controller membrane", line=dict(color="#1d2430", width=1.6),
                             hovertemplate="frame %{x}<br>membrane %{y:.3f}<extra></extra>"), 2, 1)
    fig.add_hline(y=last.theta, line=dict(color="#c2185b", dash="dash", width=1.2), annotation_text="θc",
                  annotation_position="top left", row=2, col=1)
    on = np.flatnonzero(last.signal)
    if len(on):
        for row in (1, 2):
            fig.add_vrect(x0=on[0] - 0.5, x1=on[-1] + 0.5, fillcolor=SIGNAL, line_width=0, layer="above" if row == 1 else "below",
                          row=row, col=1)
        fig.add_annotation(x=(on[0] + on[-1]) / 2, y=0.97, yref="y2 domain", text="the digit", showarrow=False,
                           font=dict(color="#8a6d00"), yanchor="top")
    fig.update_yaxes(title_text="epoch", autorange="reversed", dtick=1 if len(probes) <= 15 else 5, row=1, col=1)
    fig.update_yaxes(title_text="membrane", row=2, col=1)
    fig.update_xaxes(title_text="frame (1 ms each)", range=[-0.5, T - 0.5], row=2, col=1)
    fig.update_layout(height=height, template="plotly_white", margin=dict(l=10, r=10, t=40, b=10), showlegend=False,
                      uirevision="train-gate")
    return fig
