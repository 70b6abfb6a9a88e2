"""A digit drawn with the mouse, seen by the built-in event-camera simulator like the built-in digits.

The drawing (an (n, n) grey image, 1 = ink) is cropped to its ink, centred in a square with a margin
and averaged down to 8x8 intensities 0..16, the form of scikit-learn's digits; ``simulate_events``
then moves it along N-MNIST's three saccades in front of the simulated 34x34 sensor.
"""

from __future__ import annotations

import numpy as np

from .data import NMNIST_SENSOR, DataError, Framed, FrameSpec, frames, simulate_events

MIN_INK = 0.01  # less than 1 % of the canvas inked counts as empty


def digit_from_drawing(pixels: np.ndarray) -> np.ndarray:
    """(8, 8) float intensities 0..16 from a drawing (n, n) in [0, 1]; a DataError for an empty canvas."""
    img = np.clip(np.asarray(pixels, dtype=np.float64), 0, 1)
    if img.ndim != 2 or img.shape[0] < 8 or img.shape[1] < 8:
        raise DataError(f"a drawing must be a 2-D image of at least 8x8 pixels, got shape {img.shape}")
    if img.mean() < MIN_INK:
        raise DataError("the canvas is empty: draw a digit (a few strokes that cover more than 1 % of it)")
    ys, xs = np.nonzero(img > 0.1)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    ink = img[y0:y1, x0:x1]
    side = int(max(ink.shape) * 1.25) + 1  # a square around the ink with a margin, like the digits' framing
    square = np.zeros((side, side))
    oy, ox = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    square[oy : oy + ink.shape[0], ox : ox + ink.shape[1]] = ink
    edges = np.linspace(0, side, 9).astype(int)
    small = np.array([[square[edges[i] : max(edges[i + 1], edges[i] + 1), edges[j] : max(edges[j + 1], edges[j] + 1)].mean()
                       for j in range(8)] for i in range(8)])
    return np.round(16 * small / max(small.max(), 1e-9))


def drawing_sample(pixels: np.ndarray, label: int = -1, seed: int = 0, spec: FrameSpec = FrameSpec()) -> Framed:
    """A one-sample split from a drawing: its simulated events framed like every sample (label -1: unknown)."""
    # simulated only up to the window the frames are cut from: the same events, a sixth of the work
    events = simulate_events(digit_from_drawing(pixels), np.random.default_rng(seed), until_us=spec.L * spec.bin_us)
    x = frames(events, NMNIST_SENSOR, spec)
    if not x.any():
        raise DataError("the drawing made no events in the first 50 ms: draw bolder strokes")
    return Framed(x[None], np.array([label]), NMNIST_SENSOR)
