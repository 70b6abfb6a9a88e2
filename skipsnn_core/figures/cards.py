"""Figures of a checkpoint: its training curve and its noise sweep."""

from __future__ import annotations

import plotly.graph_objects as go

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
