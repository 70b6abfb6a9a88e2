"""Compiled CPU inference: the sequential part of SkipSNN as two numba kernels.

The same equations as ``model._recurrence`` and ``model._output_recurrence`` (which run on torch
tensors for training and stay the reference), written as plain loops that numba compiles once
per machine (``cache=True``: the machine code is kept beside this file's ``__pycache__``). Every
operation is float32 in the same order as the array code, so the spikes and the gate agree
exactly and the membranes to float rounding (the controller's input is summed over the
spiking neurons only, in another order than a matrix product).

The kernels release the GIL and use no numba threading layer (its default one aborts the
process when two threads launch parallel kernels at once, as Streamlit's sessions would): a
large batch is split into one chunk per core, run on a small thread pool.

    hidden_controller(current, b_in, w_ctrl_h, drive, forced, value, ...) -> gates, s_h, u_h, a, u_c
    output_layer(current, gates, ...) -> s_o, u_o
"""

from __future__ import annotations

import numpy as np
import os
from concurrent.futures import ThreadPoolExecutor

from numba import njit

F32 = np.float32


@njit(cache=True, nogil=True)
def _hidden_controller(current, b_in, w_ctrl_h, drive, forced, value, w_out_t, b_out, beta, theta, theta_c, has_controller,
                       freeze, record, gates, s_h, u_h, a, u_c, out_current):  # pragma: no cover - compiled; tested
    B, T, H = current.shape
    C = b_out.shape[0]
    one, zero = F32(1.0), F32(0.0)
    for b in range(B):
        u = np.zeros(H, np.float32)  # hidden membranes
        s = np.zeros(H, np.float32)  # hidden spikes of the last step (state, held while frozen)
        uc, sc = zero, zero  # controller membrane and spike
        opened = one  # step 0 is always open
        for t in range(T):
            gates[b, t] = opened
            for c in range(C):
                out_current[b, t, c] = b_out[c]
            drive_h = zero  # the controller's input from the hidden layer: the weights of the neurons that spiked
            for h in range(H):
                if freeze:  # hibernating layers hold their state and emit nothing
                    un = beta * u[h] * (one - s[h]) + (current[b, t, h] + b_in[h])
                    sn = one if un > theta else zero
                    u[h] = opened * un + (one - opened) * u[h]
                    s[h] = opened * sn + (one - opened) * s[h]
                    out = opened * sn
                else:  # mask: only the input synapses are silenced
                    u[h] = beta * u[h] * (one - s[h]) + (opened * current[b, t, h] + b_in[h])
                    s[h] = one if u[h] > theta else zero
                    out = s[h]
                s_h[b, t, h] = out
                if record:
                    u_h[b, t, h] = u[h]
                if out != zero:  # a spike feeds the controller and the output layer: add its weights
                    if has_controller:
                        drive_h += w_ctrl_h[h]
                    for c in range(C):
                        out_current[b, t, c] += w_out_t[h, c]
            decision = one  # a plain SNN never closes
            if has_controller:
                uc = beta * uc * (one - sc) + (drive_h + drive[t])
                sc = one if uc > theta_c else zero
                a[b, t] = sc
                u_c[b, t] = uc
                decision = sc
            if t + 1 < T:  # the decision for frame t+1, unless overridden there
                opened = forced[b, t + 1] * value[b, t + 1] + (one - forced[b, t + 1]) * decision


@njit(cache=True, nogil=True)
def _output_layer(current, gates, beta, theta, freeze, s_o, u_o):  # pragma: no cover - compiled
    B, T, C = current.shape
    one, zero = F32(1.0), F32(0.0)
    for b in range(B):
        u = np.zeros(C, np.float32)
        s = np.zeros(C, np.float32)
        for t in range(T):
            g = gates[b, t]
            for c in range(C):
                un = beta * u[c] * (one - s[c]) + current[b, t, c]
                sn = one if un > theta else zero
                if freeze:
                    u[c] = g * un + (one - g) * u[c]
                    s[c] = g * sn + (one - g) * s[c]
                    s_o[b, t, c] = g * sn
                else:
                    u[c], s[c] = un, sn
                    s_o[b, t, c] = sn
                u_o[b, t, c] = u[c]


@njit(cache=True, nogil=True)
def _events(frames, counts, cols, vals):  # pragma: no cover - compiled
    n = 0
    for r in range(frames.shape[0]):
        for c in range(frames.shape[1]):
            v = frames[r, c]
            if v != 0:
                cols[n] = c
                vals[n] = v
                n += 1
        counts[r] = n
    return n


def events(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The non-zero entries of frames (R, N), row by row: counts (R,) per row, their columns and values (float32).

    One pass over the frames; ``torch.nonzero`` needs two and was most of a one-sample trace.
    """
    R, N = frames.shape
    counts = np.empty(R, np.int64)
    cols = np.empty(R * N, np.int64)  # room for every entry; the pages past the last event are never touched
    vals = np.empty(R * N, np.float32)
    n = _events(np.ascontiguousarray(frames), counts, cols, vals)
    counts[1:] -= counts[:-1].copy()
    return counts, cols[:n].copy(), vals[:n].copy()


def project(frames: np.ndarray, w_in, rows_per_sample: int):
    """W_in^T x for frames (R, N), event-driven: the input current (R, H) (a torch tensor) and events per row (R,).

    Samples (``rows_per_sample`` rows each) are split over the thread pool like the kernels below; each part
    finds its events in one compiled pass and sums their weight rows with torch's embedding_bag.
    """
    import torch
    import torch.nn.functional as F

    R, N = frames.shape
    current = torch.empty(R, w_in.shape[1], dtype=w_in.dtype)
    counts = torch.empty(R, dtype=torch.int64)

    def part(rows: slice) -> None:
        c, cols, vals = (torch.from_numpy(a) for a in events(frames[rows]))
        offsets = torch.cumsum(c, 0) - c
        current[rows] = F.embedding_bag(cols, w_in, offsets, mode="sum", per_sample_weights=vals.to(w_in.dtype))
        counts[rows] = c

    parts = [slice(p.start * rows_per_sample, p.stop * rows_per_sample) for p in _split(R // rows_per_sample)]
    if len(parts) == 1:
        part(parts[0])
    else:
        for future in [_POOL.submit(part, p) for p in parts]:
            future.result()
    return current, counts


CHUNK = 8  # samples below which a batch runs on the calling thread
_POOL = ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1)), thread_name_prefix="skipsnn-kernel")


def _split(B: int) -> list[slice]:
    """One slice of the batch per worker (at least CHUNK samples each), or the whole batch."""
    n = min(_POOL._max_workers, max(1, B // CHUNK))
    edges = np.linspace(0, B, n + 1).astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def _each(kernel, parts: list[slice], arrays: list, scalars: tuple, outputs: list) -> None:
    """Run ``kernel`` on each batch slice of ``arrays``/``outputs`` (first axis), in parallel when there are several."""
    calls = [(kernel, [a[p] for a in arrays] + list(scalars) + [o[p] for o in outputs]) for p in parts]
    if len(calls) == 1:
        kernel(*calls[0][1])
        return
    for future in [_POOL.submit(k, *args) for k, args in calls]:
        future.result()


def hidden_controller(current: np.ndarray, b_in: np.ndarray, w_ctrl_h: np.ndarray | None, drive: np.ndarray | None,
                      forced: np.ndarray, value: np.ndarray, *, beta: float, theta: float, theta_c: float, freeze: bool,
                      record: bool, w_out: np.ndarray | None = None, b_out: np.ndarray | None = None):
    """The hidden layer and controller over current (B, T, H) (input synapses only, no bias).

    forced/value (B, T): where ``forced`` is 1 the gate is ``value``. Returns gates (B, T), hidden
    spikes (B, T, H), hidden membranes (B, T, H) or None, controller spikes and membranes (B, T),
    all float32; with the output layer's weights ``w_out`` (C, H) and ``b_out`` (C,), also its input
    current (B, T, C), summed over the spikes as they happen.
    """
    B, T, H = current.shape
    has_controller = w_ctrl_h is not None
    gates = np.empty((B, T), np.float32)
    s_h = np.empty((B, T, H), np.float32)
    u_h = np.empty((B, T, H) if record else (B, 0, 0), np.float32)
    a = np.zeros((B, T), np.float32)
    u_c = np.zeros((B, T), np.float32)
    f32 = lambda v: np.ascontiguousarray(v, dtype=np.float32)  # noqa: E731
    w = f32(w_ctrl_h if has_controller else np.zeros(H))
    drive = f32(drive if has_controller else np.zeros(T))
    b_in = f32(b_in)
    w_out_t = f32(w_out.T if w_out is not None else np.zeros((H, 0)))
    b_out = f32(b_out if b_out is not None else np.zeros(0))
    out_current = np.empty((B, T, b_out.shape[0]), np.float32)

    def kernel(cur, forced_, value_, *rest):
        _hidden_controller(cur, b_in, w, drive, forced_, value_, w_out_t, b_out, *rest)

    _each(kernel, _split(B), [f32(current), f32(forced), f32(value)],
          (F32(beta), F32(theta), F32(theta_c), has_controller, freeze, record), [gates, s_h, u_h, a, u_c, out_current])
    if w_out is None:
        return gates, s_h, (u_h if record else None), a, u_c
    return gates, s_h, (u_h if record else None), a, u_c, out_current


def output_layer(current: np.ndarray, gates: np.ndarray, *, beta: float, theta: float, freeze: bool):
    """The output layer over current (B, T, C) with the run's gates (B, T): spikes and membranes, float32."""
    B, T, C = current.shape
    s_o = np.empty((B, T, C), np.float32)
    u_o = np.empty((B, T, C), np.float32)
    _each(_output_layer, _split(B), [np.ascontiguousarray(current, dtype=np.float32), np.ascontiguousarray(gates, dtype=np.float32)],
          (F32(beta), F32(theta), freeze), [s_o, u_o])
    return s_o, u_o


def warm_up() -> None:
    """Compile (or load from the on-disk cache) both kernels for every mode, outside any user's request."""
    x = np.zeros((1, 3, 2), np.float32)
    ones = np.ones((1, 3), np.float32)
    for dtype in (np.uint8, np.float32):
        events(np.zeros((2, 3), dtype))
    for freeze in (False, True):
        for ctrl in (True, False):
            gates, *_ = hidden_controller(x, np.zeros(2), np.zeros(2) if ctrl else None, np.zeros(3) if ctrl else None,
                                          ones * 0, ones, beta=0.1, theta=0.5, theta_c=0.5, freeze=freeze, record=True)
        output_layer(np.zeros((1, 3, 2), np.float32), gates, beta=0.1, theta=0.5, freeze=freeze)
