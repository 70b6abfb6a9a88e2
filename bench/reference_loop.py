"""SkipSNN written the plain way, straight from shared/SKIPSNN.md: one sample, one step at a time.

This is the yardstick the fast module is checked against (tests) and timed against
(bench/inference.py). It shares no code with skipsnn_core on purpose.
"""

from __future__ import annotations

import torch


def heaviside(v: torch.Tensor) -> torch.Tensor:
    return (v > 0).float()


@torch.no_grad()
def reference_run(
    weights: dict[str, torch.Tensor],
    x: torch.Tensor,
    *,
    beta: float = 0.1,
    theta: float = 0.5,
    theta_c: float = 0.5,
    bias_offset: float = 0.0,
    mode: str = "mask",
    controller: bool = True,
    override: torch.Tensor | None = None,
    periods: tuple[int, ...] = (1, 2, 10, 100),
) -> dict[str, torch.Tensor]:
    """Run one sample x (T, N). ``weights``: W_in (H, N), b_in (H,), W_out (C, H), b_out (C,),
    W_c (1, H + K), b_c (1,). ``override`` (T,): -1 free, 0 closed, 1 open."""
    T = x.shape[0]
    H, C = weights["W_in"].shape[0], weights["W_out"].shape[0]
    u_h, s_h = torch.zeros(H), torch.zeros(H)
    u_o, s_o = torch.zeros(C), torch.zeros(C)
    u_c, a = torch.zeros(1), torch.zeros(1)
    rec = {k: [] for k in ("gate", "a", "u_c", "s_h", "u_h", "s_o", "u_o")}
    for t in range(T):
        # the gate: step 0 open, then the controller's spike from t-1 (or the override)
        g = 1.0 if t == 0 else (float(a) if controller else 1.0)
        if t > 0 and override is not None and override[t] >= 0:
            g = float(override[t])
        rec["gate"].append(g)
        inp = g * x[t]
        if mode == "freeze" and g == 0.0:
            s_h_out = torch.zeros(H)  # hidden and output hold their state, emit nothing
            s_o_out = torch.zeros(C)
        else:
            u_h = beta * u_h * (1 - s_h) + weights["W_in"] @ inp + weights["b_in"]
            s_h = heaviside(u_h - theta)
            u_o = beta * u_o * (1 - s_o) + weights["W_out"] @ s_h + weights["b_out"]
            s_o = heaviside(u_o - theta)
            s_h_out, s_o_out = s_h, s_o
        if controller:
            pulses = torch.tensor([1.0 if t % k == 0 else 0.0 for k in periods])
            c_in = torch.cat([s_h_out, pulses])
            u_c = beta * u_c * (1 - a) + weights["W_c"] @ c_in + weights["b_c"] + bias_offset
            a = heaviside(u_c - theta_c)
        rec["a"].append(float(a))
        rec["u_c"].append(float(u_c))
        rec["s_h"].append(s_h_out)
        rec["u_h"].append(u_h.clone())
        rec["s_o"].append(s_o_out)
        rec["u_o"].append(u_o.clone())
    out = {k: torch.tensor(v) if k in ("gate", "a", "u_c") else torch.stack(v) for k, v in rec.items()}
    n_open = 1 + out["a"][: T - 1].sum() if controller and override is None else out["gate"].sum()
    out["n_open"] = n_open
    out["rates"] = out["s_o"].sum(0) / n_open
    return out


def weights_of(model) -> dict[str, torch.Tensor]:
    """The reference's weight layout from a skipsnn_core.SkipSNN."""
    w = {
        "W_in": model.w_in.detach().cpu().T.contiguous(),
        "b_in": model.b_in.detach().cpu(),
        "W_out": model.fc_out.weight.detach().cpu(),
        "b_out": model.fc_out.bias.detach().cpu(),
    }
    if model.config.controller:
        w["W_c"] = model.fc_ctrl.weight.detach().cpu()
        w["b_c"] = model.fc_ctrl.bias.detach().cpu()
    return w
