"""Sweep curves: accuracy, state updates, gate precision/recall and synaptic ops saved against one setting."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .common import OPEN, legend_below

LINES = (  # key, name, colour, dash: told apart by dash as well as hue (projectors, colour-blind viewers)
    ("accuracy", "SkipSNN, gated", OPEN, "solid"),
    ("forced_open_accuracy", "same weights, gate forced open", "#1d2430", "dash"),
    ("oracle_accuracy", "same weights, oracle gate", "#b8860b", "dot"),
    ("plain_accuracy", "plain SNN", "#c2185b", "dashdot"),
)
STYLE = {key: (color, dash) for key, _, color, dash in LINES}
TITLES = ("Accuracy on the held-out samples", "State updates (admitted / all frames)",
          "Gate precision (solid) and recall (dashes)", "Synaptic ops saved vs. gate forced open")


def sweep_page_figure(rows: list[dict], x_key: str, x_title: str, marker: float | None = None, height: int = 560,
                      accuracy_only: bool = False) -> go.Figure:
    """Four panels over the swept setting (or the accuracy panel alone); ``marker``: the Explore view's value, drawn
    as a vertical line.

    One line style means one thing in every panel: teal solid is the gated SkipSNN (its accuracy, its state updates,
    its precision, its work saved), gold dots the oracle gate (its accuracy and its state updates, one legend entry
    for both); the only other teal line, the gate's recall, is dashed and named in the legend and its panel's title.
    """
    x = [r[x_key] for r in rows]
    if accuracy_only:
        fig = make_subplots(rows=1, cols=1, subplot_titles=TITLES[:1])
    else:
        fig = make_subplots(rows=2, cols=2, shared_xaxes=True, vertical_spacing=0.14, horizontal_spacing=0.1,
                            subplot_titles=TITLES)
    for key, name, color, dash in LINES:
        if key in rows[0]:
            fig.add_trace(go.Scatter(x=x, y=[r[key] for r in rows], name=name, mode="lines+markers", legendgroup=key,
                                     line=dict(color=color, dash=dash, width=2.5 if key == "accuracy" else 1.8)), 1, 1)
    if not accuracy_only:
        gated, oracle = STYLE["accuracy"], STYLE["oracle_accuracy"]
        fig.add_trace(go.Scatter(x=x, y=[r["state_updates"] for r in rows], name="SkipSNN, gated: state updates",
                                 mode="lines+markers", legendgroup="accuracy", showlegend=False,
                                 line=dict(color=gated[0], dash=gated[1])), 1, 2)
        fig.add_trace(go.Scatter(x=x, y=[r["oracle_state_updates"] for r in rows], name="oracle gate: state updates",
                                 mode="lines", legendgroup="oracle_accuracy", showlegend=False,
                                 line=dict(color=oracle[0], dash=oracle[1])), 1, 2)
        fig.add_trace(go.Scatter(x=x, y=[r["gate_precision"] for r in rows], name="gate precision", mode="lines+markers",
                                 legendgroup="accuracy", showlegend=False, line=dict(color=gated[0], dash=gated[1])), 2, 1)
        fig.add_trace(go.Scatter(x=x, y=[r["gate_recall"] for r in rows], name="gate recall (SkipSNN)", mode="lines+markers",
                                 marker=dict(symbol="square"), line=dict(color=OPEN, dash="dash")), 2, 1)
        fig.add_trace(go.Scatter(x=x, y=[r["synops_saving"] for r in rows], name="synops saved", mode="lines+markers",
                                 legendgroup="accuracy", showlegend=False, line=dict(color=gated[0], dash=gated[1])), 2, 2)
    cells = [(1, 1)] if accuracy_only else [(1, 1), (1, 2), (2, 1), (2, 2)]
    for row, col in cells:
        fig.update_yaxes(tickformat=".0%", range=[0, 1.02] if (row, col) != (2, 2) else None, row=row, col=col)
        if marker is not None:
            fig.add_vline(x=marker, line=dict(color="#5f6670", dash="dot", width=1), row=row, col=col)
    for col in ((1,) if accuracy_only else (1, 2)):
        fig.update_xaxes(title_text=x_title, row=1 if accuracy_only else 2, col=col)
    legend, bottom = legend_below(rows=2)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=bottom), template="plotly_white", hovermode="x unified",
                      legend=legend, uirevision="sweep")
    fig.update_annotations(font_size=14)
    return fig
