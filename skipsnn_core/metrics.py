"""What SkipSNN is judged by: state updates, gate precision/recall, synaptic operations."""

from __future__ import annotations

import torch
from torch import Tensor


SILENT = -1  # the prediction of a network that emitted no output spike: no verdict


def decode(rates: Tensor) -> Tensor:
    """(...,) predicted class from rates (..., C): argmax, or ``SILENT`` where no output neuron spiked.

    argmax of an all-zero row is class 0; reporting that would turn silence into a verdict.
    """
    return torch.where(rates.sum(-1) > 0, rates.argmax(-1), SILENT)


def state_updates(gate: Tensor) -> Tensor:
    """(...,) fraction of steps whose frame was admitted, N_open / T, from a gate (..., T)."""
    return gate.float().mean(-1)


def oracle_state_updates(signal_length: int, T: int) -> float:
    """What a gate open exactly on the signal window reaches: L / T."""
    return signal_length / T


def gate_precision_recall(gate: Tensor, signal: Tensor) -> tuple[Tensor, Tensor]:
    """Per sample: precision = |open & signal| / |open|, recall = |open & signal| / |signal|.

    Both (...,) from (..., T) booleans (a batch (B, T), one sample (T,)); an empty denominator gives 0.
    """
    gate, signal = gate.bool(), signal.bool()
    hit = (gate & signal).sum(-1).float()
    precision = hit / gate.sum(-1).clamp(min=1)
    recall = hit / signal.sum(-1).clamp(min=1)
    return precision, recall


def visible_signal(signal: Tensor, events: Tensor, noise_level: int) -> Tensor:
    """The signal frames (..., T) whose input holds more events than any noise frame can: a noise frame of
    ``level`` carries at most ``2 * level`` events (one ON/OFF pair each), so ``events > 2 * max(level, 1)``.

    Gate recall over these frames asks whether the gate opens where the digit is plainly there.
    """
    return signal.bool() & (events > 2 * max(noise_level, 1))


def synaptic_ops(
    input_events: Tensor, hidden_spikes: Tensor, n_classes: int, n_pulses: Tensor | None
) -> Tensor:
    """Synaptic operations per step, (B, T).

    ``nnz(gated input) * H + nnz(hidden spikes) * C + nnz(controller input)``, where the
    controller input is the hidden spikes plus the active pulses (``n_pulses``, (T,));
    ``n_pulses=None`` means no controller (plain or forced-open network).

    input_events: (B, T) admitted input events; hidden_spikes: (B, T, H).
    """
    H = hidden_spikes.shape[-1]
    hidden_nnz = hidden_spikes.sum(-1).long()  # (B, T) spikes are 0/1: their sum is their count (exact in float32)
    ops = input_events.long() * H + hidden_nnz * n_classes
    if n_pulses is not None:
        ops = ops + hidden_nnz + n_pulses.long()
    return ops


def synops_saving(gated_ops: Tensor, open_ops: Tensor) -> Tensor:
    """(...,) fraction of the always-open network's synaptic operations the gate saved, from ops (..., T)."""
    return 1 - gated_ops.sum(-1).double() / open_ops.sum(-1).double().clamp(min=1)
