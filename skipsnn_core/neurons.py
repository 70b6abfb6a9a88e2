"""Leaky integrate-and-fire neurons as pure step functions.

Every LIF neuron of SkipSNN (hidden, output, controller) follows

    u[t] = beta * u[t-1] * (1 - s[t-1]) + I[t]        (charge, with reset)
    s[t] = H(u[t] - theta)                             (fire)

where ``I[t] = W @ in[t] + b`` is computed by the caller. The reset to zero comes from
the factor ``(1 - s[t-1])``: a neuron that fired at t-1 starts step t from zero.

The Heaviside step has no useful derivative, so training uses a surrogate: the
derivative of a sigmoid with temperature ``lens``,

    ds/du = p (1 - p) / lens,     p = sigmoid((u - theta) / lens),

i.e. the exact derivative of the smooth primitive ``sigmoid((u - theta) / lens)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Union

import numpy as np
import torch
from torch import Tensor

Array = Union[Tensor, np.ndarray]


@dataclass(frozen=True)
class LIFParams:
    beta: float = 0.1  # membrane decay per step
    theta: float = 0.5  # firing threshold
    lens: float = 1.0  # surrogate temperature (training only)


class LIFState(NamedTuple):
    u: Array  # membrane potential after the last step
    s: Array  # spikes emitted at the last step (0/1, same dtype as u)

    @staticmethod
    def zeros(*shape: int, device=None, dtype=torch.float32) -> "LIFState":
        z = torch.zeros(*shape, device=device, dtype=dtype)
        return LIFState(z, z)


def surrogate_primitive(u: Tensor, theta: float, lens: float) -> Tensor:
    """The smooth function whose derivative is the surrogate: sigmoid((u - theta) / lens)."""
    return torch.sigmoid((u - theta) / lens)


class _SigmoidSurrogateSpike(torch.autograd.Function):
    """H(u - theta) forward, d/du sigmoid((u - theta) / lens) backward."""

    @staticmethod
    def forward(ctx, u: Tensor, theta: float, lens: float) -> Tensor:
        ctx.save_for_backward(u)
        ctx.theta, ctx.lens = theta, lens
        return u.gt(theta).to(u.dtype)

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        (u,) = ctx.saved_tensors
        p = torch.sigmoid((u - ctx.theta) / ctx.lens)
        return grad_out * p * (1 - p) / ctx.lens, None, None


def spike(u: Array, theta: float = 0.5, lens: float = 1.0) -> Array:
    """Heaviside step H(u - theta) (fires when u > theta) with the sigmoid surrogate gradient.

    Without autograd (inference, or a NumPy array) it is a plain comparison.
    """
    if isinstance(u, np.ndarray):
        return (u > theta).astype(u.dtype)
    if u.requires_grad and torch.is_grad_enabled():
        return _SigmoidSurrogateSpike.apply(u, theta, lens)
    return u.gt(theta).to(u.dtype)


def lif_step(current: Array, state: LIFState, p: LIFParams) -> tuple[Array, LIFState]:
    """One LIF update: charge (decay with reset, add current), then fire.

    Works on torch tensors (training, CUDA) and NumPy arrays (the lean CPU inference loop).
    """
    u = p.beta * state.u * (1 - state.s) + current  # charge; reset via (1 - s[t-1])
    s = spike(u, p.theta, p.lens)  # fire
    return s, LIFState(u, s)
