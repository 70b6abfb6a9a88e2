"""Sweeps: the held-out figures of a checkpoint against noise level or gate threshold.

Each point is exactly what ``python -m skipsnn_core.evaluate`` prints for it (the same function, the
same fixed noise), plus the oracle gate (open on the signal only) and, when given, a plain SNN.
"""

from __future__ import annotations

from typing import Callable

from .data import Framed
from .model import SkipSNN
from .train import NoiseSpec, evaluate, evaluate_thresholds

LEVELS = tuple(range(9))  # noise levels 0..8
THETAS = tuple(round(0.1 * k, 2) for k in range(-2, 16))  # gate thresholds -0.2..1.5
Progress = Callable[[int, int], None]


def _point(model: SkipSNN, data: Framed, level: int, theta: float | None, limit: int | None, seed: int, T: int,
           plain: SkipSNN | None) -> dict:
    row = evaluate(model, data, NoiseSpec(T, level), seed=seed, controller_theta=theta, oracle=model.config.controller,
                   limit=limit)
    if plain is not None:
        row["plain_accuracy"] = evaluate(plain, data, NoiseSpec(T, level), seed=seed, limit=limit)["accuracy"]
    return row


def noise_sweep(model: SkipSNN, data: Framed, levels=LEVELS, *, theta: float | None = None, limit: int | None = None,
                seed: int = 1234, T: int = 300, plain: SkipSNN | None = None, progress: Progress | None = None) -> list[dict]:
    """One evaluate row per noise level (key ``noise_level``)."""
    rows = []
    for i, level in enumerate(levels):
        rows.append(_point(model, data, level, theta, limit, seed, T, plain))
        if progress:
            progress(i + 1, len(levels))
    return rows


def threshold_sweep(model: SkipSNN, data: Framed, thetas=THETAS, *, level: int = 1, limit: int | None = None,
                    seed: int = 1234, T: int = 300, progress: Progress | None = None) -> list[dict]:
    """One evaluate row per gate threshold (key ``theta``) at one noise level. Thresholds change only the gated
    run, so they share one pass over the batches (``progress`` counts batches)."""
    if not model.config.controller:
        raise ValueError("a plain SNN has no gate threshold to sweep")
    thetas = [float(theta) for theta in thetas]
    rows = evaluate_thresholds(model, data, NoiseSpec(T, level), thetas, seed=seed, oracle=True, limit=limit,
                               progress=progress)
    return [{**row, "theta": theta} for row, theta in zip(rows, thetas)]


def steepest_drop(rows: list[dict], key: str = "accuracy") -> tuple[int, int] | None:
    """Indices (i, i + 1) of the neighbouring rows between which ``key`` falls most; None when it never falls.
    A text that calls a curve's shape a gradual trade or a cliff reads it from here, not from a guess."""
    drops = [rows[i][key] - rows[i + 1][key] for i in range(len(rows) - 1)]
    if not drops or max(drops) <= 0:
        return None
    i = max(range(len(drops)), key=drops.__getitem__)
    return i, i + 1
