"""Temporal noise: a short signal buried among noise frames (SKIPSNN.md, "The task").

A sample is T frames; the L signal frames replace the noise frames s ... s+L-1. Every
other frame holds ``level`` noise event pairs (reference: 1): an ON and an OFF event, each
at a pixel drawn from the 4x4 window [c-2, c+1]^2 around a centre c drawn uniformly from
{2, ..., W-3} x {2, ..., H-3} (N-MNIST: {2, ..., 31}^2), with independent offsets per
polarity. Optionally the same noise also falls inside the signal window.

Frames are flattened with channel p*H*W + y*W + x (tonic's ToFrame layout).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class NoisySample:
    x: Tensor  # (T, N) 0/1 frames (float32 unless asked otherwise)
    signal: Tensor  # (T,) bool, True on the signal frames
    start: int  # first signal frame


def noise_frames(
    B: int, T: int, level: int, sensor: tuple[int, int, int], generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> Tensor:
    """(B, T, N) frames of ``dtype``, each with ``level`` ON/OFF event pairs around a random centre."""
    W, H, P = sensor
    if P != 2:
        raise ValueError(f"reference noise needs a two-polarity sensor, got {sensor}")
    if W < 5 or H < 5:
        raise ValueError(f"sensor {sensor} is too small for the 4x4 noise window")
    frames = torch.zeros(B, T, P * H * W, dtype=dtype)
    if level <= 0:
        return frames
    shape = (B, T, level)
    cx = torch.randint(2, W - 2, (*shape, 1), generator=generator)  # centre, shared by the pair
    cy = torch.randint(2, H - 2, (*shape, 1), generator=generator)
    dx = torch.randint(-2, 2, (*shape, 2), generator=generator)  # one offset per polarity
    dy = torch.randint(-2, 2, (*shape, 2), generator=generator)
    p = torch.arange(2)
    channel = p * H * W + (cy + dy) * W + (cx + dx)  # (B, T, level, 2)
    b = torch.arange(B)[:, None, None, None].expand_as(channel)
    t = torch.arange(T)[None, :, None, None].expand_as(channel)
    frames[b.reshape(-1), t.reshape(-1), channel.reshape(-1)] = 1
    return frames


def embed_batch(
    signals: Tensor,
    T: int,
    *,
    level: int = 1,
    starts: Tensor | None = None,
    in_signal: bool = False,
    sensor: tuple[int, int, int] = (34, 34, 2),
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, Tensor, Tensor]:
    """Signals (B, L, N) placed at ``starts`` (B,) in noise: x (B, T, N) of ``dtype``, signal mask (B, T), starts.

    ``starts=None`` draws each from [0, T-L) like the reference.
    """
    B, L, N = signals.shape
    if L > T:
        raise ValueError(f"signal of {L} frames does not fit in T={T}")
    W, H, P = sensor
    if N != W * H * P:
        raise ValueError(f"signal has {N} channels, sensor {sensor} has {W * H * P}")
    if starts is None:
        starts = torch.randint(0, max(T - L, 1), (B,), generator=generator)
    starts = torch.as_tensor(starts, dtype=torch.long).reshape(B)
    if bool(((starts < 0) | (starts > T - L)).any()):
        raise ValueError(f"signal start {starts.tolist()} outside [0, {T - L}]")
    x = noise_frames(B, T, level, sensor, generator, dtype)
    steps = starts[:, None] + torch.arange(L)  # (B, L) signal frame positions
    rows = torch.arange(B)[:, None]
    sig = (signals > 0).to(dtype)
    x[rows, steps] = torch.maximum(x[rows, steps], sig) if in_signal else sig
    mask = torch.zeros(B, T, dtype=torch.bool)
    mask[rows, steps] = True
    return x, mask, starts


def embed_in_noise(
    signal: Tensor,
    T: int,
    *,
    level: int = 1,
    start: int | None = None,
    in_signal: bool = False,
    sensor: tuple[int, int, int] = (34, 34, 2),
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> NoisySample:
    """Place one ``signal`` (L, N) at ``start`` (drawn from [0, T-L) like the reference when None)."""
    x, mask, starts = embed_batch(
        signal[None], T, level=level, starts=None if start is None else torch.tensor([start]),
        in_signal=in_signal, sensor=sensor, generator=generator, dtype=dtype,
    )
    return NoisySample(x[0], mask[0], int(starts[0]))


@dataclass(frozen=True)
class TemporalNoise:
    """Frozen, hashable transform: signal (L, N) -> NoisySample. Randomness from the generator."""

    T: int = 300  # total frames
    level: int = 1  # event pairs per noise frame (reference: 1)
    in_signal: bool = False  # also add noise on the signal frames
    sensor: tuple[int, int, int] = (34, 34, 2)  # (W, H, P), tonic's sensor_size

    def __call__(self, signal: Tensor, generator: torch.Generator, start: int | None = None) -> NoisySample:
        return embed_in_noise(
            signal, self.T, level=self.level, start=start, in_signal=self.in_signal,
            sensor=self.sensor, generator=generator,
        )
