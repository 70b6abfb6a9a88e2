"""Sweep curves: accuracy, state updates, gate precision/recall and synaptic ops saved against one setting."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .common import OPEN

LINES = (  # key, name, colour, dash: told apart by dash as well as hue (projectors, colour-blind viewers)
    ("accuracy", "SkipSNN, gated", OPEN, "solid"),
    ("forced_open_accuracy", "same weights, gate forced open", "#1d2430", "dash"),
    ("oracle_accuracy", "same weights, oracle gate", "#b8860b", "dot"),
    ("plain_accuracy", "plain SNN", "#c2185b", "dashdot"),
)


def sweep_page_figure(rows: list[dict], x_key: str, x_title: str, marker: float | None = None, height: int = 560) -> go.Figure:
    """Four panels over the swept setting; ``marker``: the Explore view's value, drawn as a vertical line."""
    x = [r[x_key] for r in rows]
    fig = make_subplots(rows=2, cols=2, shared_xaxes=True, vertical_spacing=0.14, horizontal_spacing=0.08,
                        subplot_titles=("Accuracy on the held-out samples", "State updates (admitted / all frames)",
                                        "Gate precision and recall", "Synaptic ops saved vs. gate forced open"))
    for key, name, color, dash in LINES:
        if key in rows[0]:
            fig.add_trace(go.Scatter(x=x, y=[r[key] for r in rows], name=name, mode="lines+markers",
                                     line=dict(color=color, dash=dash, width=2.5 if key == "accuracy" else 1.8)), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=[r["state_updates"] for r in rows], name="state updates", mode="lines+markers",
                             line=dict(color=OPEN), showlegend=False), 1, 2)
    fig.add_trace(go.Scatter(x=x, y=[r["oracle_state_updates"] for r in rows], name="oracle", mode="lines",
                             line=dict(color="#b8860b", dash="dot"), showlegend=False), 1, 2)
    fig.add_trace(go.Scatter(x=x, y=[r["gate_precision"] for r in rows], name="precision", mode="lines+markers",
                             line=dict(color=OPEN)), 2, 1)
    fig.add_trace(go.Scatter(x=x, y=[r["gate_recall"] for r in rows], name="recall", mode="lines+markers",
                             line=dict(color="#1d2430", dash="dash")), 2, 1)
    fig.add_trace(go.Scatter(x=x, y=[r["synops_saving"] for r in rows], name="synops saved", mode="lines+markers",
                             line=dict(color=OPEN), showlegend=False), 2, 2)
    for row in (1, 2):
        for col in (1, 2):
            fig.update_yaxes(tickformat=".0%", range=[0, 1.02] if (row, col) != (2, 2) else None, row=row, col=col)
            if marker is not None:
                fig.add_vline(x=marker, line=dict(color="#5f6670", dash="dot", width=1), row=row, col=col)
        fig.update_xaxes(title_text=x_title, row=2, col=row)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), template="plotly_white", hovermode="x unified",
                      legend=dict(orientation="h", y=-0.18), uirevision="sweep")
    return fig
