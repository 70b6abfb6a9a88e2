"""Figures: plain functions from a sample and its trace (or a checkpoint's records) to Plotly figures.

One module per view; the palette and shared helpers live in ``common``.
"""

from .cards import sweep_figure
from .explorer import (PANELS, Cursor, evidence_figure, evidence_spec, explorer_base, explorer_figure, explorer_payload, hidden_raster,
                       panels_for)
from .train import gate_learning_figure, training_curves

__all__ = ["PANELS", "Cursor", "evidence_figure", "evidence_spec", "explorer_base", "explorer_figure", "explorer_payload", "hidden_raster",
           "gate_learning_figure", "panels_for", "sweep_figure",
           "training_curves"]
