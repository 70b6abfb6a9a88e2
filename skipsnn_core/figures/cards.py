"""Figures of a checkpoint: its training curve and its noise sweep."""

from __future__ import annotations

import plotly.graph_objects as go

from .common import legend_below


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
    legend, bottom = legend_below(rows=2)
    fig.update_layout(height=320 + bottom - 40, margin=dict(l=10, r=10, t=40, b=bottom), template="plotly_white",
                      xaxis=dict(title="noise level (event pairs per noise frame)", dtick=1),
                      yaxis=dict(range=[0, 1.02], title="fraction", tickformat=".0%"), legend=legend,
                      title=dict(text=f"Noise sweep of {name} on the held-out split (evaluate CLI)", font_size=13))
    return fig
