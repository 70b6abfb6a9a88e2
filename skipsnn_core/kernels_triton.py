"""GPU inference: the whole time loop of SkipSNN in one Triton launch.

One program per sample walks all T steps with the hidden layer's state (H <= a few thousand)
in registers, the way fused recurrent kernels do; the per-step torch loop would launch
thousands of tiny kernels instead. A second launch runs the output layer over currents from
one matrix product. The equations are those of ``model._recurrence`` (the reference, on
torch tensors) and ``kernels.py`` (numba, CPU). On a machine without a GPU, Triton's
interpreter (``TRITON_INTERPRET=1``, set before importing triton) runs the same kernels on CPU
tensors, which is how the tests check them here.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _hidden_controller_kernel(
    current, b_in, w_ctrl_h, drive, forced, value,  # (B, T, H), (H,), (H,), (T,), (B, T), (B, T)
    gates, s_h, u_h, a_out, u_c_out,  # outputs: (B, T), (B, T, H), (B, T, H) when RECORD, (B, T), (B, T)
    T, H, beta, theta, theta_c,
    HAS_CONTROLLER: tl.constexpr, FREEZE: tl.constexpr, RECORD: tl.constexpr, BLOCK_H: tl.constexpr,
):
    b = tl.program_id(0)
    offs = tl.arange(0, BLOCK_H)
    inside = offs < H
    bias = tl.load(b_in + offs, mask=inside, other=0.0)
    w = tl.load(w_ctrl_h + offs, mask=inside, other=0.0)
    u = tl.zeros([BLOCK_H], dtype=tl.float32)  # hidden membranes
    s = tl.zeros([BLOCK_H], dtype=tl.float32)  # hidden spikes of the last step
    uc = 0.0  # controller membrane and spike
    sc = 0.0
    opened = 1.0  # step 0 is always open
    row = b * T
    for t in range(T):
        tl.store(gates + row + t, opened)
        cur = tl.load(current + (row + t) * H + offs, mask=inside, other=0.0)
        if FREEZE:  # hibernating layers hold their state and emit nothing
            un = beta * u * (1.0 - s) + (cur + bias)
            sn = (un > theta).to(tl.float32)
            u = opened * un + (1.0 - opened) * u
            s = opened * sn + (1.0 - opened) * s
            out = opened * sn
        else:  # mask: only the input synapses are silenced
            u = beta * u * (1.0 - s) + (opened * cur + bias)
            s = (u > theta).to(tl.float32)
            out = s
        tl.store(s_h + (row + t) * H + offs, out, mask=inside)
        if RECORD:
            tl.store(u_h + (row + t) * H + offs, u, mask=inside)
        decision = 1.0  # a plain SNN never closes
        if HAS_CONTROLLER:
            uc = beta * uc * (1.0 - sc) + (tl.sum(out * w, axis=0) + tl.load(drive + t))
            sc = (uc > theta_c).to(tl.float32)
            tl.store(a_out + row + t, sc)
            tl.store(u_c_out + row + t, uc)
            decision = sc
        nxt = tl.minimum(t + 1, T - 1)  # the decision for frame t+1 (unused after the last step)
        f = tl.load(forced + row + nxt)
        opened = f * tl.load(value + row + nxt) + (1.0 - f) * decision


@triton.jit
def _output_kernel(current, gates, s_o, u_o, T, C, beta, theta, FREEZE: tl.constexpr, BLOCK_C: tl.constexpr):
    b = tl.program_id(0)
    offs = tl.arange(0, BLOCK_C)
    inside = offs < C
    u = tl.zeros([BLOCK_C], dtype=tl.float32)
    s = tl.zeros([BLOCK_C], dtype=tl.float32)
    for t in range(T):
        cur = tl.load(current + (b * T + t) * C + offs, mask=inside, other=0.0)
        un = beta * u * (1.0 - s) + cur
        sn = (un > theta).to(tl.float32)
        if FREEZE:
            g = tl.load(gates + b * T + t)
            u = g * un + (1.0 - g) * u
            s = g * sn + (1.0 - g) * s
            out = g * sn
        else:
            u = un
            s = sn
            out = sn
        tl.store(s_o + (b * T + t) * C + offs, out, mask=inside)
        tl.store(u_o + (b * T + t) * C + offs, u, mask=inside)


def hidden_controller(current: torch.Tensor, b_in: torch.Tensor, w_ctrl_h: torch.Tensor | None, drive: torch.Tensor | None,
                      forced: torch.Tensor, value: torch.Tensor, *, beta: float, theta: float, theta_c: float, freeze: bool,
                      record: bool):
    """Like ``kernels.hidden_controller``, on torch tensors of one device: gates, s_h, u_h or None, a, u_c."""
    B, T, H = current.shape
    dev = current.device
    f32 = lambda v: v.detach().to(dev, torch.float32).contiguous()  # noqa: E731
    has_controller = w_ctrl_h is not None
    gates = torch.empty(B, T, device=dev)
    s_h = torch.empty(B, T, H, device=dev)
    u_h = torch.empty(B, T, H, device=dev) if record else torch.empty(1, device=dev)
    a = torch.zeros(B, T, device=dev)
    u_c = torch.zeros(B, T, device=dev)
    w = f32(w_ctrl_h) if has_controller else torch.zeros(H, device=dev)
    d = f32(drive) if has_controller else torch.zeros(T, device=dev)
    block = triton.next_power_of_2(H)
    _hidden_controller_kernel[(B,)](
        f32(current), f32(b_in), w, d, f32(forced), f32(value), gates, s_h, u_h, a, u_c, T, H, float(beta), float(theta),
        float(theta_c), HAS_CONTROLLER=has_controller, FREEZE=freeze, RECORD=record, BLOCK_H=block,
        num_warps=max(1, min(8, block // 128)),
    )
    return gates, s_h, (u_h if record else None), a, u_c


def output_layer(current: torch.Tensor, gates: torch.Tensor, *, beta: float, theta: float, freeze: bool):
    """The output layer over current (B, T, C) with the run's gates (B, T): spikes and membranes."""
    B, T, C = current.shape
    s_o = torch.empty(B, T, C, device=current.device)
    u_o = torch.empty(B, T, C, device=current.device)
    _output_kernel[(B,)](current.detach().float().contiguous(), gates.contiguous(), s_o, u_o, T, C, float(beta), float(theta),
                         FREEZE=freeze, BLOCK_C=max(16, triton.next_power_of_2(C)), num_warps=1)
    return s_o, u_o
