"""Why did the gate open? The controller's input split into what drove it, and what a hidden neuron sees.

The controller integrates, at every step t,

    I_c[t] = sum_h w_h * s_h[t]  +  sum_k w_k * P_k[t]  +  b  (+ the bias offset used at inference)

(SKIPSNN.md), and fires when its membrane beta * u_c[t-1] * (1 - a[t-1]) + I_c[t] crosses theta_c;
its spike opens the gate for frame t+1. ``gate_attribution`` returns each term of that sum,
so a view can show which push made it cross. Public contract: scripts outside the project
use these names.

    from skipsnn_core.explain import gate_attribution, receptive_field, hidden_driven, step_to_explain
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .model import SkipSNN, Trace


@dataclass(frozen=True)
class GateAttribution:
    """The controller's input current by source, on the CPU. B samples, T steps, H hidden, K pulses."""

    hidden: Tensor  # (B, T, H) from hidden neuron h: its weight times its spike at step t
    pulses: Tensor  # (B, T, K) from each synchronisation pulse P_k: its weight times P_k[t]
    bias: Tensor  # (B, T) the controller's bias plus the bias offset used
    total: Tensor  # (B, T) the sum of all three: the input current the controller integrated at step t
    periods: tuple[int, ...]  # k of each pulse column

    def top_hidden(self, t: int, k: int = 10, b: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The k hidden neurons that pushed the controller most at step t: (ids, contributions), largest first."""
        return _top(self.hidden[b, t], k)

    def top_hidden_window(self, t0: int, t1: int, k: int = 10, b: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The k hidden neurons with the largest summed contribution over steps t0..t1-1."""
        return _top(self.hidden[b, t0:t1].sum(0), k)


def _top(values: Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k largest entries that are not zero (a silent neuron contributes nothing)."""
    v = values.numpy()
    order = np.argsort(-v, kind="stable")[: max(k, 0)]
    order = order[v[order] > 0]
    return order, v[order]


def gate_attribution(model: SkipSNN, trace: Trace) -> GateAttribution:
    """The controller's input at every step of ``trace`` (made by ``model.trace``), split by source.

    ``total`` equals the current the model's own recurrence integrated (a test holds them equal);
    a plain SNN has no controller and gets a ValueError.
    """
    cfg = model.config
    if not cfg.controller:
        raise ValueError("this checkpoint is a plain SNN: it has no controller, so there is no gate to explain")
    H = cfg.n_hidden
    w = model.fc_ctrl.weight.detach().float().cpu()[0]  # (H + K,)
    hidden = trace.hidden_spikes.float() * w[:H]  # (B, T, H)
    B, T, _ = hidden.shape
    pulses = (trace.pulses.float() * w[H:])[None].expand(B, -1, -1).clone()  # (B, T, K)
    bias = torch.full((B, T), float(model.fc_ctrl.bias.detach().float().cpu()[0]) + trace.bias_offset)
    total = hidden.sum(-1) + pulses.sum(-1) + bias
    return GateAttribution(hidden, pulses, bias, total, tuple(cfg.pulse_periods))


def hidden_driven(att: GateAttribution, trace: Trace, b: int = 0) -> np.ndarray:
    """(T,) bool: the steps where the controller crossed θc (spiked) with the hidden neurons giving more than half
    of the current it integrated, i.e. their push exceeded the pulses' and the bias's together
    (``hidden.sum() > pulses.sum() + bias``). The other crossings were the pulses waking it, with the hidden layer
    silent or weak."""
    hidden = att.hidden[b].sum(-1)  # (T,)
    rest = att.pulses[b].sum(-1) + att.bias[b]  # (T,)
    return (trace.controller_spikes[b].bool() & (hidden > 0) & (hidden > rest)).numpy()


def step_to_explain(att: GateAttribution, trace: Trace, signal, b: int = 0) -> int:
    """The step a view of ``why`` opens on: the first crossing inside the signal window (``signal``: (T,) bool)
    that the hidden neurons drove (``hidden_driven``); failing that the first hidden-driven crossing anywhere,
    then the first crossing inside the signal, then the first crossing, then step 0."""
    spiked = trace.controller_spikes[b].bool().numpy()
    driven = hidden_driven(att, trace, b)
    inside = np.asarray(signal, dtype=bool)
    for candidates in (driven & inside, driven, spiked & inside, spiked):
        if candidates.any():
            return int(np.flatnonzero(candidates)[0])
    return 0


def receptive_field(model: SkipSNN, h: int, sensor_size: tuple[int, int, int] = (34, 34, 2)) -> np.ndarray:
    """(P, H, W) input weights of hidden neuron h: entry [p, y, x] is the weight from channel p*H*W + y*W + x."""
    W, Hs, P = sensor_size
    if P * Hs * W != model.config.n_inputs:
        raise ValueError(f"sensor {sensor_size} has {P * Hs * W} channels, the model has {model.config.n_inputs} inputs")
    if not 0 <= h < model.config.n_hidden:
        raise ValueError(f"hidden neuron {h} is outside 0..{model.config.n_hidden - 1}")
    return model.w_in.detach().float().cpu()[:, h].numpy().reshape(P, Hs, W)
