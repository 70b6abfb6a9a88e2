"""The SkipSNN module against the plain per-step reference loop, and its inference semantics."""

import pytest
import torch

from bench.reference_loop import reference_run, weights_of
from skipsnn_core import SkipSNN, SkipSNNConfig, TemporalNoise
from skipsnn_core.noise import embed_batch


def lively(controller: bool = True, seed: int = 0, **cfg) -> SkipSNN:
    """A model whose hidden layer fires, whose gate both opens and closes, and whose outputs spike."""
    torch.manual_seed(seed)
    m = SkipSNN(SkipSNNConfig(controller=controller, **cfg))
    with torch.no_grad():
        m.w_in.mul_(20)  # events drive the hidden layer over threshold
        m.fc_out.weight.mul_(40)
        if controller:
            H = m.config.n_hidden
            m.fc_ctrl.weight[0, :H].uniform_(0, 0.02)  # hidden activity keeps the gate open
            m.fc_ctrl.weight[0, H:] = torch.tensor([0.0, 0.0, 0.3, 0.6])  # P_10, P_100 wake it
            m.fc_ctrl.bias.fill_(0.0)
    return m.eval()


@pytest.fixture
def noisy(nmnist_signals):
    signals, labels = nmnist_signals
    x, mask, starts = embed_batch(signals, 300, level=1, generator=torch.Generator().manual_seed(3))
    return x, mask, labels


@pytest.mark.parametrize("mode", ["mask", "freeze"])
@pytest.mark.parametrize("path", ["compiled (inference)", "numpy (inference)", "torch (autograd)"])
def test_module_equals_reference_loop_on_real_nmnist(noisy, mode, path):
    x, mask, _ = noisy
    m = lively(gate_mode=mode)
    if path.startswith("torch"):
        m.train()
        with torch.enable_grad():
            run = m.simulate(x)
        gate, rates, hidden = run.gate.detach(), run.rates.detach(), run.hidden_spikes.detach()
    else:
        tr = m.trace(x, engine=path.split()[0])
        gate, rates, hidden = tr.gate.float(), tr.rates, tr.hidden_spikes.float()
    w = weights_of(m)
    for b in range(x.shape[0]):
        ref = reference_run(w, x[b], mode=mode)
        assert 0 < ref["gate"].mean() < 1, "the fixture must exercise both gate states"
        assert ref["s_h"].sum() > 0 and ref["s_o"].sum() > 0, "the fixture must make neurons fire"
        assert torch.equal(gate[b], ref["gate"]), f"gate differs for sample {b} ({mode}, {path})"
        assert torch.equal(hidden[b], ref["s_h"]), f"hidden spikes differ for sample {b}"
        assert torch.allclose(rates[b], ref["rates"], atol=1e-5)


@pytest.mark.parametrize("mode", ["mask", "freeze"])
@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_trace_records_match_reference(noisy, engine, mode):
    """Every recorded state equals the plain loop's: spikes exactly, membranes to float32 rounding (summation order)."""
    x, _, _ = noisy
    m = lively(gate_mode=mode)
    for override, theta in ((None, None), (torch.randint(-1, 2, (x.shape[1],), generator=torch.Generator().manual_seed(1)), None),
                            (None, 0.65)):
        tr = m.trace(x[:1], engine=engine, gate_override=override, controller_theta=theta)
        ref = reference_run(weights_of(m), x[0], mode=mode, override=override, theta_c=0.5 if theta is None else theta)
        close = dict(atol=1e-5, rtol=1e-5)
        assert torch.allclose(tr.hidden_u[0], ref["u_h"], **close)
        assert torch.allclose(tr.output_u[0], ref["u_o"], **close)
        assert torch.allclose(tr.controller_u[0], ref["u_c"], **close)
        assert torch.equal(tr.controller_spikes[0].float(), ref["a"])
        assert torch.equal(tr.gate[0].float(), ref["gate"]) and torch.equal(tr.output_spikes[0].float(), ref["s_o"])
        assert int(tr.gated.n_open[0]) == int(ref["n_open"])


def test_engines_refuse_what_they_cannot_do(noisy):
    x, _, _ = noisy
    m = lively().train()
    with torch.enable_grad(), pytest.raises(ValueError, match="inference only"):
        m.simulate(x[:1], engine="compiled")
    with torch.no_grad(), pytest.raises(ValueError, match="needs a CUDA GPU"):
        m.simulate(x[:1], engine="triton")


def test_trace_contract_shapes_and_types(noisy):
    x, _, _ = noisy
    tr = lively().trace(x)
    B, T = x.shape[:2]
    assert tr.gate.shape == (B, T) and tr.gate.dtype == torch.bool
    assert tr.gate[:, 0].all(), "step 0 is always open"
    assert tr.rates.shape == (B, 10) and tr.prediction.shape == (B,)
    assert tr.hidden_spikes.shape == (B, T, 800) and tr.output_u.shape == (B, T, 10)
    assert all(v.device.type == "cpu" for v in (tr.gate, tr.rates, tr.hidden_u))
    assert torch.equal(tr.prediction, tr.rates.argmax(1))
    # the running evidence ends in the rates
    assert torch.allclose(tr.gated.evidence[:, -1], tr.rates)
    assert torch.equal(tr.gated.n_open, tr.gate.sum(1).float())


def test_gate_uses_previous_controller_spike(noisy):
    x, _, _ = noisy
    tr = lively().trace(x)
    assert torch.equal(tr.gate[:, 1:], tr.controller_spikes[:, :-1])


def test_gradients_reach_every_parameter_group(noisy):
    x, _, labels = noisy
    for mode in ("mask", "freeze"):
        m = lively(gate_mode=mode).train()
        run = m.simulate(x, lens=1.0)
        target = torch.nn.functional.one_hot(torch.tensor(labels), 10).float()
        loss = torch.nn.functional.mse_loss(run.rates, target) + 0.5 * run.penalty()
        loss.backward()
        for name, p in m.named_parameters():
            assert p.grad is not None, f"{name} got no gradient ({mode})"
            assert torch.isfinite(p.grad).all(), f"{name} has a non-finite gradient ({mode})"
            assert p.grad.abs().sum() > 0, f"{name} has an all-zero gradient ({mode})"


def test_controller_init_is_uniform_0_1_and_gate_starts_open(gen):
    m = SkipSNN(SkipSNNConfig(n_inputs=2312, n_hidden=64))
    w, b = m.fc_ctrl.weight, m.fc_ctrl.bias
    assert w.min() >= 0 and w.max() <= 1 and 0 <= b.item() <= 1
    x = TemporalNoise()(torch.zeros(50, 2312), gen).x[None]
    assert m.trace(x).gate.float().mean() > 0.3


def test_override_open_closed_and_per_step(noisy):
    x, _, _ = noisy
    m = lively()
    T = x.shape[1]
    assert m.trace(x, gate_override="open").gate.all()
    closed = m.trace(x, gate_override="closed").gate
    assert closed[:, 0].all() and not closed[:, 1:].any()
    free = m.trace(x).gate
    steps = torch.full((T,), -1)
    steps[100:120] = 1
    steps[200:210] = 0
    edited = m.trace(x, gate_override=steps).gate
    assert edited[:, 100:120].all() and not edited[:, 200:210].any()
    assert torch.equal(edited[:, :100], free[:, :100]), "before the first forced step nothing changes"
    with pytest.raises(ValueError, match="-1 \\(free\\), 0 \\(closed\\) or 1"):
        m.trace(x, gate_override=torch.full((T,), 2))
    with pytest.raises(ValueError, match="must be \\(T,\\)"):
        m.trace(x, gate_override=torch.full((T + 1,), -1))


def test_higher_controller_threshold_opens_less(noisy):
    x, _, _ = noisy
    m = lively()
    opens = [m.trace(x, controller_theta=th).gate.float().mean().item() for th in (0.3, 0.5, 0.8, 1.5)]
    assert opens == sorted(opens, reverse=True) and opens[0] > opens[-1], opens
    base = m.trace(x).gate.float().mean().item()
    assert m.trace(x, bias_offset=-0.3).gate.float().mean().item() < base


def test_forced_open_equals_plain_network_with_same_weights(noisy):
    x, _, _ = noisy
    m = lively()
    plain = m.with_config(controller=False)
    tr, pl = m.trace(x), plain.trace(x)
    assert torch.equal(tr.forced_open.rates, pl.rates)
    assert torch.equal(tr.forced_open.prediction, pl.prediction)
    assert torch.equal(tr.forced_open.synops, pl.gated.synops)
    assert pl.gate.all()
    assert (tr.gated.synops.sum(1) < tr.forced_open.synops.sum(1)).all(), "a closing gate saves work"


def test_freeze_mode_holds_state_while_closed(noisy):
    x, _, _ = noisy
    tr = lively(gate_mode="freeze").trace(x)
    closed = ~tr.gate
    assert closed.any()
    prev_u = torch.roll(tr.hidden_u, 1, dims=1)
    held = closed[:, 1:]
    assert torch.equal(tr.hidden_u[:, 1:][held], prev_u[:, 1:][held])
    assert not tr.hidden_spikes[closed].any() and not tr.output_spikes[closed].any()


def test_mask_mode_still_integrates_while_closed(noisy):
    x, _, _ = noisy
    tr = lively(gate_mode="mask").trace(x)
    closed = ~tr.gate
    changed = (tr.hidden_u[:, 1:] != tr.hidden_u[:, :-1]).any(-1)
    assert changed[closed[:, 1:]].any(), "membranes decay and take the bias on closed steps"


def test_same_seed_same_noise_and_trace(nmnist_signals):
    signals, _ = nmnist_signals
    m = lively()
    a = TemporalNoise()(signals[0], torch.Generator().manual_seed(11))
    b = TemporalNoise()(signals[0], torch.Generator().manual_seed(11))
    assert torch.equal(a.x, b.x) and a.start == b.start
    ta, tb = m.trace(a.x), m.trace(b.x)
    assert torch.equal(ta.gate, tb.gate) and torch.equal(ta.hidden_u, tb.hidden_u)


def test_trace_does_not_mutate_input(noisy):
    x, _, _ = noisy
    before = x.clone()
    lively().trace(x)
    assert torch.equal(x, before)


def test_wrong_input_width_is_a_clear_error():
    m = SkipSNN(SkipSNNConfig(n_hidden=16))
    with pytest.raises(ValueError, match="2312"):
        m.trace(torch.zeros(1, 10, 100))


def test_plain_snn_has_no_controller_and_trains():
    m = SkipSNN(SkipSNNConfig(n_inputs=50, n_hidden=20, controller=False))
    assert not hasattr(m, "fc_ctrl")
    run = m.simulate((torch.rand(2, 30, 50) < 0.3).float())
    assert run.gate.all() and run.n_open.tolist() == [30.0, 30.0]


def test_config_validation():
    with pytest.raises(ValueError, match="gate_mode"):
        SkipSNNConfig(gate_mode="skip")
    with pytest.raises(ValueError, match="positive"):
        SkipSNNConfig(n_hidden=0)
