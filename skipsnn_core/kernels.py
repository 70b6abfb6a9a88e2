"""Compiled CPU inference: the sequential part of SkipSNN as two numba kernels.

The same equations as ``model._recurrence`` and ``model._output_recurrence`` (which run on torch
tensors for training and stay the reference), written as plain loops that numba compiles once
per machine (``cache=True``: the machine code is kept beside this file's ``__pycache__``). Every
operation is float32 in the same order as the array code, so the spikes and the gate agree
exactly and the membranes to float rounding (the controller's input is summed over the
spiking neurons only, in another order than a matrix product).

The hidden layer's kernel is event-driven: it takes the non-zero entries of x (``Events``, found
in one compiled pass) and W_in, not a (B, T, H) input current. At a step whose gate is open it
adds the weight rows of that frame's events into one length-H buffer, in column order with one
fused multiply-add each, as torch's ``embedding_bag`` (the projection the other engines use)
does: the same current to the bit for 0/1 frames, and for other values wherever both use the
CPU's FMA. A closed frame's events are never summed (mask mode multiplies its current by 0,
freeze mode discards the update), and a gated run admits ~20 % of its frames. Frames and hidden
spikes are sparse, so both are scanned a block of ``BLOCK`` entries at a time for a set bit.

The kernels release the GIL and use no numba threading layer (its default one aborts the
process when two threads launch parallel kernels at once, as Streamlit's sessions would): a
large batch is split into one chunk per core, run on a small thread pool.

    batch_events(frames, rows_per_sample) -> Events(counts, starts, cols, vals)
    hidden_controller(events, w_in, b_in, w_ctrl_h, drive, forced, value, ..., w_out, b_out)
        -> Hidden(gates, s_h, u_h, a, u_c, out_current)
    output_layer(out_current, gates, ...) -> s_o, u_o
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from numba import njit

F32 = np.float32
BLOCK = 32  # entries tested at once for a set bit: frames (N-MNIST noise: 2 events in 2312) and spikes are sparse


class Events(NamedTuple):
    """The non-zero entries of frames (R, N), row by row and in column order.

    Row r's entries are ``starts[r] .. starts[r] + counts[r] - 1`` of ``cols``/``vals``; rows may share
    entries (``twice``), so the rows need not tile the entries in order.
    """

    counts: np.ndarray  # (R,) int64 entries of each row: the input events per frame
    starts: np.ndarray  # (R,) int64 index of the row's first entry
    cols: np.ndarray  # (E,) int64 column (input channel) of each entry
    vals: np.ndarray  # (E,) float32 its value

    def twice(self) -> "Events":
        """The rows, then the same rows again (``trace``'s gated and forced-open runs), sharing the entries."""
        return Events(np.tile(self.counts, 2), np.tile(self.starts, 2), self.cols, self.vals)


class Hidden(NamedTuple):
    """What ``hidden_controller`` returns: float32 arrays, B samples, T steps, H hidden, C classes."""

    gates: np.ndarray  # (B, T) 1.0 where frame t was admitted
    s_h: np.ndarray  # (B, T, H) hidden spikes
    u_h: np.ndarray | None  # (B, T, H) hidden membranes, when recorded
    a: np.ndarray  # (B, T) controller spikes (zeros for a plain SNN)
    u_c: np.ndarray  # (B, T) controller membranes (zeros for a plain SNN)
    out_current: np.ndarray  # (B, T, C) the output layer's input, W_out s_h[t] + b_out


@njit(cache=True, nogil=True, fastmath={"contract"})
def _admit(cur, w_in, cols, vals, first, stop):  # pragma: no cover - compiled; tested
    """cur (H,) = sum of vals[e] * w_in[cols[e]] over entries first .. stop-1, in order, from zero.

    "contract" lets each ``+= v * w`` be one fused multiply-add, as embedding_bag's is; with 0/1 events
    the sums are the same either way. Its own function, so the flag reaches no other arithmetic.
    """
    cur[:] = 0
    for e in range(first, stop):
        row = w_in[cols[e]]
        v = vals[e]
        for h in range(cur.shape[0]):
            cur[h] += v * row[h]


@njit(cache=True, nogil=True)
def _hidden_controller(counts, starts, cols, vals, w_in, b_in, w_ctrl_h, drive, forced, value, w_out_t, b_out, beta,
                       theta, theta_c, has_controller, freeze, record, gates, s_h, u_h, a, u_c,
                       out_current):  # pragma: no cover - compiled; tested
    """``hidden_controller`` on B samples: their frames' event counts and starts (B, T) into cols/vals."""
    B, T = counts.shape
    H = b_in.shape[0]
    C = b_out.shape[0]
    one, zero = F32(1.0), F32(0.0)
    cur = np.zeros(H, np.float32)  # the input current of the step's frame, W_in^T x[t]; zero while closed
    u = np.empty(H, np.float32)  # hidden membranes
    s = np.empty(H, np.float32)  # hidden spikes of the last step (state, held while frozen)
    for b in range(B):
        u[:] = zero
        s[:] = zero
        uc, sc = zero, zero  # controller membrane and spike
        opened = one  # step 0 is always open
        for t in range(T):
            gates[b, t] = opened
            if opened != zero:  # only an admitted frame needs its current
                first = starts[b, t]
                _admit(cur, w_in, cols, vals, first, first + counts[b, t])
            else:
                cur[:] = zero
            out = s_h[b, t]  # (H,) what the layer emits at t
            if freeze:  # hibernating layers hold their state and emit nothing
                held = one - opened
                for h in range(H):
                    un = beta * u[h] * (one - s[h]) + (cur[h] + b_in[h])
                    sn = one if un > theta else zero
                    u[h] = opened * un + held * u[h]
                    s[h] = opened * sn + held * s[h]
                    out[h] = opened * sn
            else:  # mask: only the input synapses are silenced
                for h in range(H):
                    un = beta * u[h] * (one - s[h]) + (opened * cur[h] + b_in[h])
                    sn = one if un > theta else zero
                    u[h] = un
                    s[h] = sn
                    out[h] = sn
            if record:
                u_h[b, t, :] = u
            for c in range(C):
                out_current[b, t, c] = b_out[c]
            drive_h = zero  # the controller's input from the hidden layer: the weights of the neurons that spiked
            bits = out.view(np.uint32)  # spikes are rare (~1 %): skip blocks in which no bit is set
            for h0 in range(0, H, BLOCK):
                if h0 + BLOCK <= H:
                    any_bit = np.uint32(0)
                    for k in range(BLOCK):
                        any_bit |= bits[h0 + k]
                    if any_bit == 0:
                        continue
                for h in range(h0, min(h0 + BLOCK, H)):
                    if out[h] != zero:  # a spike feeds the controller and the output layer: add its weights
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
def _events(frames, bits, counts, starts, cols, vals):  # pragma: no cover - compiled
    R, N = frames.shape
    blocks = N - N % BLOCK  # the columns in whole blocks; the rest are looked at one by one
    n = 0
    for r in range(R):
        starts[r] = n
        row = bits[r]
        for c0 in range(0, N, BLOCK):
            if c0 < blocks:
                any_bit = row[c0] ^ row[c0]  # a zero of the bits' type
                for k in range(BLOCK):  # a fixed count: compiled to a few vector ORs
                    any_bit |= row[c0 + k]
                if any_bit == 0:  # every entry is +0
                    continue
            for c in range(c0, min(c0 + BLOCK, N)):  # look closer (a -0.0 has a bit set and is no event)
                v = frames[r, c]
                if v != 0:
                    cols[n] = c
                    vals[n] = v
                    n += 1
        counts[r] = n - starts[r]
    return n


def events(frames: np.ndarray) -> Events:
    """The non-zero entries of frames (R, N), row by row: their counts and starts per row, columns and values (float32).

    One pass over the frames that reads them as unsigned integers and looks at a block of ``BLOCK`` entries
    only when one of them has a bit set; ``torch.nonzero`` needs two passes and was most of a one-sample trace.
    """
    R, N = frames.shape
    frames = np.ascontiguousarray(frames)
    counts = np.empty(R, np.int64)
    starts = np.empty(R, np.int64)
    cols = np.empty(R * N, np.int64)  # room for every entry; the pages past the last event are never touched
    vals = np.empty(R * N, np.float32)
    n = _events(frames, frames.view(f"u{frames.itemsize}"), counts, starts, cols, vals)
    return Events(counts, starts, cols[:n].copy(), vals[:n].copy())


def batch_events(frames: np.ndarray, rows_per_sample: int) -> Events:
    """``events`` of frames (R, N), the samples (``rows_per_sample`` rows each) split over the thread pool."""
    parts = _map(lambda rows: events(frames[rows]), _rows(frames.shape[0], rows_per_sample))
    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0] + [len(p.cols) for p in parts[:-1]])
    return Events(np.concatenate([p.counts for p in parts]), np.concatenate([p.starts + o for p, o in zip(parts, offsets)]),
                  np.concatenate([p.cols for p in parts]), np.concatenate([p.vals for p in parts]))


def project(frames: np.ndarray, w_in, rows_per_sample: int):
    """W_in^T x for frames (R, N), event-driven: the input current (R, H) (a torch tensor) and events per row (R,).

    What the torch, numpy and triton engines take (the compiled one sums the events itself). Samples
    (``rows_per_sample`` rows each) are split over the thread pool like the kernels below; each part finds its
    events in one compiled pass and sums their weight rows with torch's embedding_bag.
    """
    import torch
    import torch.nn.functional as F

    R, N = frames.shape
    current = torch.empty(R, w_in.shape[1], dtype=w_in.dtype)
    counts = torch.empty(R, dtype=torch.int64)

    def part(rows: slice) -> None:
        found = events(frames[rows])
        current[rows] = F.embedding_bag(torch.from_numpy(found.cols), w_in, torch.from_numpy(found.starts), mode="sum",
                                        per_sample_weights=torch.from_numpy(found.vals).to(w_in.dtype))
        counts[rows] = torch.from_numpy(found.counts)

    _map(part, _rows(R, rows_per_sample))
    return current, counts


CHUNK = 8  # samples below which a batch runs on the calling thread
_POOL = ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1)), thread_name_prefix="skipsnn-kernel")


def _split(B: int) -> list[slice]:
    """One slice of the batch per worker (at least CHUNK samples each), or the whole batch."""
    n = min(_POOL._max_workers, max(1, B // CHUNK))
    edges = np.linspace(0, B, n + 1).astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def _rows(R: int, rows_per_sample: int) -> list[slice]:
    """``_split`` of R // rows_per_sample samples, as slices of their R rows."""
    return [slice(p.start * rows_per_sample, p.stop * rows_per_sample) for p in _split(R // rows_per_sample)]


def _map(fn, parts: list[slice]) -> list:
    """``fn`` of each part, on the thread pool when there are several, else on the calling thread."""
    if len(parts) == 1:
        return [fn(parts[0])]
    return [future.result() for future in [_POOL.submit(fn, p) for p in parts]]


def _each(kernel, parts: list[slice], arrays: list, scalars: tuple, outputs: list) -> None:
    """Run ``kernel`` on each batch slice of ``arrays``/``outputs`` (first axis), in parallel when there are several."""
    _map(lambda p: kernel(*[a[p] for a in arrays], *scalars, *[o[p] for o in outputs]), parts)


def hidden_controller(events: Events, w_in: np.ndarray, b_in: np.ndarray, w_ctrl_h: np.ndarray | None,
                      drive: np.ndarray | None, forced: np.ndarray, value: np.ndarray, *, beta: float, theta: float,
                      theta_c: float, freeze: bool, record: bool, w_out: np.ndarray, b_out: np.ndarray) -> Hidden:
    """The hidden layer and controller over B samples of T frames, given as their ``events`` (B * T rows).

    w_in (N, H) input weights, one row per channel; b_in (H,); w_ctrl_h (H,) and drive (T,) (the controller's
    pulses and bias) are None for a plain SNN; forced/value (B, T): where ``forced`` is 1 the gate is ``value``;
    w_out (C, H) and b_out (C,) the output layer's, whose input current is summed over the spikes as they happen.
    Only the frames the gate admits have their events summed.
    """
    B, T = forced.shape
    H = w_in.shape[1]
    has_controller = w_ctrl_h is not None
    gates = np.empty((B, T), np.float32)
    s_h = np.empty((B, T, H), np.float32)
    u_h = np.empty((B, T, H) if record else (B, 0, 0), np.float32)
    a = np.zeros((B, T), np.float32)
    u_c = np.zeros((B, T), np.float32)
    f32 = lambda v: np.ascontiguousarray(v, dtype=np.float32)  # noqa: E731
    shared = (events.cols, f32(events.vals), f32(w_in), f32(b_in), f32(w_ctrl_h if has_controller else np.zeros(H)),
              f32(drive if has_controller else np.zeros(T)))
    w_out_t, b_out = f32(w_out.T), f32(b_out)
    out_current = np.empty((B, T, b_out.shape[0]), np.float32)

    def kernel(counts, starts, forced_, value_, *rest):
        _hidden_controller(counts, starts, *shared, forced_, value_, w_out_t, b_out, *rest)

    _each(kernel, _split(B), [events.counts.reshape(B, T), events.starts.reshape(B, T), f32(forced), f32(value)],
          (F32(beta), F32(theta), F32(theta_c), has_controller, freeze, record), [gates, s_h, u_h, a, u_c, out_current])
    return Hidden(gates, s_h, u_h if record else None, a, u_c, out_current)


def output_layer(current: np.ndarray, gates: np.ndarray, *, beta: float, theta: float, freeze: bool):
    """The output layer over current (B, T, C) with the run's gates (B, T): spikes and membranes, float32."""
    B, T, C = current.shape
    s_o = np.empty((B, T, C), np.float32)
    u_o = np.empty((B, T, C), np.float32)
    _each(_output_layer, _split(B), [np.ascontiguousarray(current, dtype=np.float32), np.ascontiguousarray(gates, dtype=np.float32)],
          (F32(beta), F32(theta), freeze), [s_o, u_o])
    return s_o, u_o


def warm_up() -> None:
    """Compile (or load from the on-disk cache) every kernel for every mode, outside any user's request."""
    for dtype in (np.uint8, np.float32):
        events(np.zeros((2, 3), dtype))
    found = events(np.eye(3, 2, dtype=np.float32))
    ones = np.ones((1, 3), np.float32)
    for freeze in (False, True):
        for ctrl in (True, False):
            hidden = hidden_controller(found, np.zeros((2, 2)), np.zeros(2), np.zeros(2) if ctrl else None,
                                       np.zeros(3) if ctrl else None, ones * 0, ones, beta=0.1, theta=0.5, theta_c=0.5,
                                       freeze=freeze, record=True, w_out=np.zeros((2, 2)), b_out=np.zeros(2))
        output_layer(hidden.out_current, hidden.gates, beta=0.1, theta=0.5, freeze=freeze)
