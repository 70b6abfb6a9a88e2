"""The equations of shared/SKIPSNN.md, one invariant per test.

Written while mutation-testing the core (bench/mutation.sh, bench/MUTATION.md): each test
states the line of SKIPSNN.md (or the documented contract) it protects, so that a bug
planted there makes the suite fail. Tiny configs, function-scoped fixtures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from skipsnn_core import metrics
from skipsnn_core.neurons import LIFParams, LIFState, lif_step, spike
from skipsnn_core.noise import TemporalNoise, embed_batch, embed_in_noise, noise_frames

SENSOR = (34, 34, 2)
N = 2 * 34 * 34


def events_of(frame: torch.Tensor, sensor=SENSOR) -> list[tuple[int, int, int]]:
    """(p, y, x) of every event in one flattened frame (channel p*H*W + y*W + x)."""
    W, H, _ = sensor
    return [(int(c) // (H * W), int(c) % (H * W) // W, int(c) % W) for c in frame.nonzero().flatten()]


# ---------------------------------------------------------------- neurons: s[t] = H(u[t] - θ), ds/du = p(1-p)/lens


def test_spike_defaults_are_the_reference_threshold_and_temperature():
    """θ = 0.5 and lens = 1.0 when not given: H(u - 0.5), and ds/du = p(1-p) = 0.25 at u = θ."""
    assert spike(torch.tensor([0.5, 0.5001, 0.2])).tolist() == [0.0, 1.0, 0.0]
    u = torch.tensor([0.5], requires_grad=True)
    spike(u).sum().backward()
    assert u.grad.item() == pytest.approx(0.25), "p(1-p)/lens with p = σ(0) = 0.5 and lens = 1"


def test_spike_on_numpy_fires_strictly_above_threshold_and_keeps_dtype():
    u = np.array([0.5, 0.5000001, 0.49], dtype=np.float64)
    s = spike(u, 0.5)
    assert s.tolist() == [0.0, 1.0, 0.0], "H(u - θ) is 0 at u = θ on the NumPy path too"
    assert s.dtype == np.float64


def test_lif_step_surrogate_uses_the_lens_of_its_params():
    """d s[t] / d I[t] = p(1-p)/lens with p = σ((u - θ)/lens): the temperature reaches the step."""
    lens = 0.5
    current = torch.tensor([0.7], requires_grad=True)  # from rest: u = I
    s, _ = lif_step(current, LIFState.zeros(1), LIFParams(beta=0.1, theta=0.5, lens=lens))
    s.sum().backward()
    p = torch.sigmoid(torch.tensor((0.7 - 0.5) / lens))
    assert current.grad.item() == pytest.approx(float(p * (1 - p) / lens), rel=1e-6)


def test_lif_state_zeros_takes_dtype_and_device():
    st = LIFState.zeros(2, 3, dtype=torch.float64)
    assert st.u.shape == (2, 3) and st.u.dtype == torch.float64 and st.s.dtype == torch.float64
    assert not st.u.any() and not st.s.any()
    meta = LIFState.zeros(4, device="meta")  # a device with no data: shows the argument is honoured
    assert meta.u.device.type == "meta" and meta.s.device.type == "meta"


# ---------------------------------------------------------------- metrics


def test_gate_precision_recall_per_sample_with_single_and_empty_denominators():
    """precision = |open ∩ signal| / |open|, recall = |open ∩ signal| / |signal|, 0 when a denominator is empty."""
    gate = torch.tensor([
        [1, 0, 0, 0, 0, 0],  # one open step, on the signal: precision 1/1
        [1, 1, 1, 1, 0, 0],  # four open steps, one on a one-frame signal: precision 1/4, recall 1/1
        [0, 0, 0, 0, 0, 0],  # nothing open: precision 0 (empty), recall 0
        [1, 1, 0, 0, 0, 0],  # no signal at all: recall 0 (empty)
    ], dtype=torch.bool)
    signal = torch.tensor([
        [1, 1, 1, 0, 0, 0],
        [0, 0, 1, 0, 0, 0],
        [0, 1, 1, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ], dtype=torch.bool)
    p, r = metrics.gate_precision_recall(gate, signal)
    assert p.tolist() == [1.0, 0.25, 0.0, 0.0]
    assert r.tolist() == pytest.approx([1 / 3, 1.0, 0.0, 0.0])


def test_state_updates_are_n_open_over_t_per_sample():
    gate = torch.tensor([[1, 0, 0, 0], [1, 1, 1, 0]], dtype=torch.bool)
    assert metrics.state_updates(gate).tolist() == [0.25, 0.75]


def test_synaptic_ops_are_integer_counts_whatever_the_spike_dtype():
    hidden = torch.tensor([[[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]])
    for spikes in (hidden, hidden.bool(), hidden.double()):
        ops = metrics.synaptic_ops(torch.tensor([[2, 1]]), spikes, n_classes=4, n_pulses=torch.tensor([2, 1]))
        assert ops.dtype == torch.int64 and ops.tolist() == [[2 * 3 + 2 * 4 + 2 + 2, 1 * 3 + 0 + 0 + 1]]


def test_synops_saving_is_per_sample_one_minus_gated_over_open():
    """saving[b] = 1 - Σ_t ops_gated[b, t] / Σ_t ops_open[b, t], each sample on its own."""
    gated = torch.tensor([[10, 10, 0], [1, 0, 0], [3, 0, 0]])
    open_ = torch.tensor([[20, 20, 40], [1, 0, 0], [2, 2, 2]])
    saving = metrics.synops_saving(gated, open_)
    assert saving.shape == (3,)
    assert saving.tolist() == pytest.approx([0.75, 0.0, 0.5]), "one op gated of one open saves nothing"


def test_decode_is_argmax_of_each_row_or_silent():
    rates = torch.tensor([[0.0, 0.5, 0.1], [0.0, 0.0, 0.0], [0.3, 0.0, 0.4]])
    assert metrics.decode(rates).tolist() == [1, metrics.SILENT, 2]


def test_per_sample_metrics_take_one_sample_or_any_batch_shape():
    """The time (or class) axis is the last one: one unbatched sample (T,) gives a scalar, (S, B, T) gives (S, B)."""
    gate = torch.tensor([1, 1, 0, 0, 0, 0], dtype=torch.bool)
    signal = torch.tensor([0, 1, 1, 1, 0, 0], dtype=torch.bool)
    p, r = metrics.gate_precision_recall(gate, signal)
    assert (p.item(), r.item()) == (0.5, pytest.approx(1 / 3))
    assert metrics.state_updates(gate).item() == pytest.approx(1 / 3)
    assert metrics.synops_saving(torch.tensor([1, 2, 0]), torch.tensor([4, 4, 8])).item() == pytest.approx(0.8125)
    assert metrics.decode(torch.tensor([0.0, 0.2, 0.1])).item() == 1
    assert metrics.decode(torch.zeros(4)).item() == metrics.SILENT

    stacked = torch.stack([gate, gate.roll(2)]).reshape(2, 1, 6)  # (S=2, B=1, T=6)
    p, r = metrics.gate_precision_recall(stacked, torch.stack([signal, signal]).reshape(2, 1, 6))
    assert p.shape == (2, 1) and p.flatten().tolist() == [0.5, 1.0]
    assert metrics.state_updates(stacked).shape == (2, 1)
    rates = torch.tensor([[[0.0, 0.0, 0.0], [0.1, 0.3, 0.2]]])  # (1, 2, 3)
    assert metrics.decode(rates).tolist() == [[metrics.SILENT, 1]]


@pytest.mark.parametrize("level", [0, 1, 3])
def test_visible_signal_frames_hold_more_events_than_noise_can(level):
    """Noise at `level` puts at most 2·level events in a frame, so a signal frame is plainly visible above 2·max(level, 1)."""
    limit = 2 * max(level, 1)
    events = torch.tensor([limit + 1, limit, limit + 5, 0, limit + 1])
    signal = torch.tensor([1, 1, 1, 1, 0], dtype=torch.bool)
    assert metrics.visible_signal(signal, events, level).tolist() == [True, False, True, False, False]


# ---------------------------------------------------------------- noise: one ON + one OFF event in [c-2, c+1]², c ∈ {2..31}²


def test_noise_window_covers_every_row_and_column_of_the_sensor(gen):
    """Centres {2..31} and offsets {-2..+1} reach exactly the rows and columns 0..32, on both axes."""
    frames = noise_frames(1, 3000, 1, SENSOR, gen)[0]
    ev = [e for f in frames for e in events_of(f)]
    assert {y for _, y, _ in ev} == set(range(33)), "rows 0..32, no more, no fewer"
    assert {x for _, _, x in ev} == set(range(33)), "columns 0..32"


def test_noise_offsets_are_independent_per_polarity(gen):
    """ON and OFF share the centre but draw their own offsets: their distance takes every value -3..3 on each axis."""
    frames = noise_frames(1, 3000, 1, SENSOR, gen)[0]
    dys, dxs = set(), set()
    for f in frames:
        (p0, y0, x0), (p1, y1, x1) = events_of(f)  # channel order: the OFF event (p=0) first
        assert (p0, p1) == (0, 1)
        dys.add(y1 - y0)
        dxs.add(x1 - x0)
    assert dys == set(range(-3, 4)) and dxs == set(range(-3, 4))


def test_noise_level_zero_is_silent_and_small_sensors_are_refused(gen):
    assert not noise_frames(2, 10, 0, SENSOR, gen).any()
    with pytest.raises(ValueError, match="two-polarity"):
        noise_frames(1, 10, 1, (34, 34, 1), gen)
    for sensor in ((34, 4, 2), (4, 34, 2)):  # the 4x4 window needs 5 pixels on each axis
        with pytest.raises(ValueError, match="too small"):
            noise_frames(1, 10, 1, sensor, gen)


def test_embed_batch_default_noise_is_the_reference_one_pair_per_frame(gen):
    sig = torch.zeros(3, 10, N)
    x, mask, _ = embed_batch(sig, 40, generator=gen)
    per_frame = x.sum(-1)
    assert (per_frame[~mask] == 2).all(), "reference: exactly one ON and one OFF event per noise frame"


def test_signal_may_fill_the_whole_sequence(gen):
    """s ∈ [0, T - L]: with T = L the only start is 0 and every frame is signal."""
    sig = (torch.rand(8, 20, N, generator=gen) < 0.01).float()
    x, mask, starts = embed_batch(sig, 20, generator=gen)
    assert starts.tolist() == [0] * 8 and mask.all()
    assert torch.equal(x, sig)


def test_random_starts_draw_from_zero_to_t_minus_l_exclusive(gen):
    """The reference draws s from [0, T - L): with T - L = 1 that is always 0."""
    _, mask, starts = embed_batch(torch.zeros(50, 9, 50), 10, level=0, sensor=(5, 5, 2), generator=gen)
    assert starts.tolist() == [0] * 50
    assert mask[:, :9].all() and not mask[:, 9].any()


def test_given_starts_come_back_as_int64_whatever_their_integer_type(gen):
    sig = torch.zeros(2, 5, 50)
    _, mask, starts = embed_batch(sig, 12, level=0, starts=np.array([7, 0], dtype=np.int32), sensor=(5, 5, 2), generator=gen)
    assert starts.dtype == torch.long and starts.tolist() == [7, 0]
    assert mask[0, 7:12].all() and mask[1, :5].all()


def test_embedding_errors_state_what_was_expected(gen):
    with pytest.raises(ValueError, match=r"signal has 100 channels, sensor \(34, 34, 2\) has 2312"):
        embed_batch(torch.zeros(1, 5, 100), 20, generator=gen)
    with pytest.raises(ValueError, match=r"outside \[0, 15\]"):
        embed_batch(torch.zeros(1, 5, N), 20, starts=torch.tensor([16]), generator=gen)


def test_embed_in_noise_defaults_are_the_reference(gen):
    """One pair per noise frame, no noise on the signal frames; the mask marks s .. s+L-1 and start is an int."""
    sig = torch.zeros(10, N)
    sig[:, 3] = 1
    sample = embed_in_noise(sig, 40, start=12, generator=gen)
    assert isinstance(sample.start, int) and sample.start == 12
    assert sample.signal.dtype == torch.bool and sample.signal.nonzero().flatten().tolist() == list(range(12, 22))
    assert (sample.x[12:22].sum(-1) == 1).all(), "signal frames hold the signal only"
    assert (sample.x[~sample.signal].sum(-1) == 2).all()


@pytest.mark.parametrize("make", ["function", "transform"])
def test_noise_options_reach_the_sample(gen, make):
    """level, in_signal, sensor (and dtype) given to embed_in_noise / TemporalNoise are the ones used."""
    sig = torch.zeros(6, 50)  # a 5x5 two-polarity sensor
    if make == "function":
        sample = embed_in_noise(sig, 30, level=3, in_signal=True, sensor=(5, 5, 2), start=4, generator=gen, dtype=torch.uint8)
        assert sample.x.dtype == torch.uint8, "frames in the dtype asked for"
    else:
        sample = TemporalNoise(T=30, level=3, in_signal=True, sensor=(5, 5, 2))(sig, gen, start=4)
    per_frame = sample.x.sum(-1)
    assert sample.x.shape == (30, 50)
    assert per_frame.max() <= 6 and per_frame.float().mean() > 4, "three pairs per frame (overlaps merge)"
    assert (per_frame[4:10] > 0).all(), "noise falls on the signal frames too"


# ---------------------------------------------------------------- the network: controller, gate, decoding, engines


def lively_tiny(controller: bool = True, N: int = 20, H: int = 8, C: int = 3, seed: int = 0, **cfg):
    """A small network whose hidden and output neurons fire and whose gate opens about half the time,
    with a non-zero controller bias (so its sign shows)."""
    from skipsnn_core import SkipSNN, SkipSNNConfig

    torch.manual_seed(seed)
    m = SkipSNN(SkipSNNConfig(n_inputs=N, n_hidden=H, n_classes=C, controller=controller, **cfg))
    with torch.no_grad():
        m.w_in.mul_(8)
        m.fc_out.weight.mul_(4)
        if controller:
            m.fc_ctrl.weight[0, :H].uniform_(-0.3, 0.3)
            m.fc_ctrl.weight[0, H:] = torch.tensor([0.0, 0.2, 0.3, 0.6])  # P_1, P_2, P_10, P_100
            m.fc_ctrl.bias.fill_(0.3)
    return m.eval()


def pulse_only_controller(T: int = 7, N: int = 6, H: int = 4, C: int = 3, **cfg):
    """A network whose controller sees P_2 only: a[t] = 1 on even t, 0 on odd t (u = 0.6 on even steps, 0 after a spike)."""
    m = lively_tiny(N=N, H=H, C=C, **cfg)
    with torch.no_grad():
        m.fc_ctrl.weight.zero_()
        m.fc_ctrl.weight[0, H + 1] = 0.6
        m.fc_ctrl.bias.zero_()
    return m


def binary_input(B: int, T: int, N: int, seed: int = 0, p: float = 0.3) -> torch.Tensor:
    return (torch.rand(B, T, N, generator=torch.Generator().manual_seed(seed)) < p).float()


def recorded_run(m, x, engine: str, **options):
    """Everything recorded, as a Run, from the given engine (torch: simulate with record=True, no autograd)."""
    from skipsnn_core.model import InferenceOptions

    with torch.no_grad():
        return m.simulate(x, options=InferenceOptions(**options), record=True, engine=engine)


ENGINES = ["torch", "numpy", "compiled"]


@pytest.mark.parametrize("mode", ["mask", "freeze"])
@pytest.mark.parametrize("engine", ENGINES)
def test_controller_integrates_detached_hidden_spikes_pulses_and_bias(engine, mode):
    """u_c[t] = β u_c[t-1] (1 - a[t-1]) + w_h · s_h[t] + w_P · [P_1, P_2, P_10, P_100][t] + b + offset,
    a[t] = H(u_c[t] - θ_c); step 0 is open and a[t-1] gates frame t."""
    m = lively_tiny(gate_mode=mode)
    x = binary_input(3, 40, 20)
    run = recorded_run(m, x, engine, controller_theta=0.55, bias_offset=0.05)
    H = m.config.n_hidden
    w = m.fc_ctrl.weight.detach()[0]
    t = torch.arange(40)
    pulses = torch.stack([(t % k == 0).float() for k in (1, 2, 10, 100)], 1)  # (T, 4)
    drive = run.hidden_spikes.float() @ w[:H] + (pulses @ w[H:])[None] + m.fc_ctrl.bias.detach() + 0.05  # (B, T)
    u, a_prev = torch.zeros(3), torch.zeros(3)
    for step in range(40):
        u = 0.1 * u * (1 - a_prev) + drive[:, step]
        assert torch.allclose(run.controller_u[:, step], u, atol=1e-5), f"controller membrane at t={step} ({engine}, {mode})"
        a_prev = (u > 0.55).float()
        assert torch.equal(run.controller_spikes[:, step].float(), a_prev), f"a[{step}]"
    gate = run.gate.float()
    assert gate[:, 0].eq(1).all(), "step 0 is always open"
    assert torch.equal(gate[:, 1:], run.controller_spikes[:, :-1].float()), "a[t-1] gates frame t"
    assert 0.2 < gate.mean() < 0.8 and run.hidden_spikes.any(), "the fixture must open and close the gate"


def test_penalty_is_the_mean_of_the_t_minus_1_decisions_and_n_open_counts_them():
    """penalty = mean_{b, t<T-1} a[t]; N_open = 1 + Σ_{t=0}^{T-2} a[t]; rate = Σ_t s_out[t] / N_open."""
    m = pulse_only_controller(T=7).train()
    run = m.simulate(binary_input(2, 7, 6))
    a = run.controller_spikes.detach()
    assert a[0].tolist() == [1, 0, 1, 0, 1, 0, 1]
    assert run.gate[0].tolist() == [1, 1, 0, 1, 0, 1, 0]
    assert run.penalty().item() == pytest.approx(3 / 6), "a[0..5] = 1,0,1,0,1,0: the last decision a[6] gates nothing"
    assert run.penalty().requires_grad, "the penalty trains the controller"
    assert run.n_open.tolist() == [4.0, 4.0] and not run.n_open.requires_grad
    assert torch.allclose(run.rates, run.out_spikes.sum(1) / 4)


def test_surrogate_temperature_reaches_hidden_output_and_controller_neurons():
    """ds/du = p(1-p)/lens, p = σ((u - θ)/lens), for all three kinds of neuron (one step, so u is what it got)."""
    lens = 0.5
    m = lively_tiny(N=6, H=4, C=3).train()
    with torch.no_grad():
        m.fc_ctrl.bias.fill_(0.45)  # the controller just below θ_c: a large surrogate
    x = binary_input(2, 1, 6, p=0.5)
    run = m.simulate(x, lens=lens, record=True)

    def surrogate(u, theta):
        p = torch.sigmoid((u.detach() - theta) / lens)
        return p * (1 - p) / lens

    (g_hidden,) = torch.autograd.grad(run.hidden_spikes.sum(), m.b_in, retain_graph=True)
    assert torch.allclose(g_hidden, surrogate(run.hidden_u[:, 0], 0.5).sum(0), atol=1e-6)
    (g_out,) = torch.autograd.grad(run.out_spikes.sum(), m.fc_out.bias, retain_graph=True)
    assert torch.allclose(g_out, surrogate(run.output_u[:, 0], 0.5).sum(0), atol=1e-6)
    (g_ctrl,) = torch.autograd.grad(run.controller_spikes.sum(), m.fc_ctrl.bias)
    assert torch.allclose(g_ctrl, surrogate(run.controller_u[:, 0], 0.5).sum(0, keepdim=True), atol=1e-6)


def test_default_lens_is_one_and_forward_is_simulate():
    m = lively_tiny(N=6, H=4, C=3).train()
    x = binary_input(2, 5, 6, p=0.5)

    def grads(run):
        return torch.autograd.grad(run.rates.sum() + run.penalty(), [m.b_in, m.fc_ctrl.bias])

    pairs = ((m.simulate(x), m.simulate(x, lens=1.0)), (m(x), m.simulate(x, lens=1.0)), (m(x, lens=0.5), m.simulate(x, lens=0.5)))
    for a, b in ((grads(u), grads(v)) for u, v in pairs):
        assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(grads(m(x))[0], grads(m(x, lens=0.5))[0]), "lens changes the gradient"


def test_hidden_spikes_reach_the_controller_detached():
    """The controller sees s_h[t] detached from the graph: the gate penalty sends no gradient into the hidden layer."""
    for mode in ("mask", "freeze"):
        m = lively_tiny(gate_mode=mode).train()
        run = m.simulate(binary_input(3, 40, 20))
        g_in, g_b, g_c = torch.autograd.grad(run.penalty(), [m.w_in, m.b_in, m.fc_ctrl.weight], allow_unused=True)
        assert g_c is not None and g_c.abs().sum() > 0, "the penalty does train the controller"
        for g in (g_in, g_b):
            assert g is None or not g.any(), f"penalty gradient leaked into the hidden layer ({mode})"


@pytest.mark.parametrize("engine", ENGINES)
def test_one_step_one_neuron_network_equals_the_reference(engine):
    """The smallest valid network (T = 1, H = 1, C = 1) runs on every engine, in both gate modes."""
    from bench.reference_loop import reference_run, weights_of

    for mode in ("mask", "freeze"):
        for T in (1, 3):
            m = lively_tiny(N=4, H=1, C=1, gate_mode=mode)
            x = binary_input(2, T, 4, p=0.6)
            run = recorded_run(m, x, engine)
            for b in range(2):
                ref = reference_run(weights_of(m), x[b], mode=mode)
                assert torch.equal(run.gate[b].float(), ref["gate"]) and torch.allclose(run.rates[b], ref["rates"])
                assert torch.allclose(run.hidden_u[b], ref["u_h"], atol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_plain_snn_has_an_open_gate_and_zero_controller_on_every_engine(engine):
    m = lively_tiny(controller=False)
    x = binary_input(2, 12, 20)
    run = recorded_run(m, x, engine)
    assert run.gate.eq(1).all() and run.n_open.tolist() == [12.0, 12.0]
    for name in ("controller_spikes", "controller_u"):
        v = getattr(run, name)
        assert v.shape == (2, 12) and not v.any(), name
    plain = recorded_run(m, x, "torch")
    assert torch.equal(run.out_spikes.float(), plain.out_spikes.float())


def test_simulate_records_only_when_asked_and_applies_the_override():
    m = lively_tiny()
    x = binary_input(2, 10, 20)
    with torch.no_grad():
        for engine in ENGINES:
            bare = m.simulate(x, engine=engine)
            assert bare.hidden_u is None and bare.output_u is None and bare.controller_u is None, engine
            full = m.simulate(x, engine=engine, record=True)
            assert full.hidden_u.shape == (2, 10, 8) and full.output_u.shape == (2, 10, 3) and full.controller_u.shape == (2, 10)
            closed = m.simulate(x, engine=engine, gate_override="closed")
            assert closed.gate[:, 0].eq(1).all() and not closed.gate[:, 1:].any(), "forced closed except step 0"


def test_each_engine_runs_the_code_it_names(monkeypatch):
    """torch: the step functions on tensors; numpy: the same step functions on arrays; compiled: the numba kernels
    (what "auto" means for inference on the CPU)."""
    from skipsnn_core import kernels
    from skipsnn_core import model as model_mod

    seen, kernel_calls = [], []
    real_step, real_kernel = model_mod.lif_step, kernels.hidden_controller
    monkeypatch.setattr(model_mod, "lif_step", lambda cur, st, p: seen.append(type(cur)) or real_step(cur, st, p))
    monkeypatch.setattr(kernels, "hidden_controller", lambda *a, **k: kernel_calls.append(1) or real_kernel(*a, **k))
    m, x = lively_tiny(), binary_input(1, 4, 20)
    results = {}
    for engine in ENGINES:
        seen.clear(), kernel_calls.clear()
        with torch.no_grad():
            results[engine] = m.simulate(x, engine=engine)
        results[engine + " steps"] = set(seen), len(kernel_calls)
    assert results["torch steps"] == ({torch.Tensor}, 0)
    assert results["numpy steps"] == ({np.ndarray}, 0)
    assert results["compiled steps"] == (set(), 1)
    assert torch.equal(results["numpy"].gate, results["compiled"].gate) and torch.equal(results["torch"].gate, results["numpy"].gate)
    for engine, expected in (("auto", (set(), 1)), ("numpy", ({np.ndarray}, 0)), ("torch", ({torch.Tensor}, 0))):
        seen.clear(), kernel_calls.clear()
        tr = m.trace(x) if engine == "auto" else m.trace(x, engine=engine)
        assert (set(seen), len(kernel_calls)) == expected, f"trace with engine {engine}"
        assert torch.equal(tr.gate.float(), results["numpy"].gate)


def test_engine_auto_and_what_each_engine_refuses(monkeypatch):
    """auto: torch with autograd, compiled on the CPU, triton on CUDA when installed (else torch)."""
    from skipsnn_core.model import _engine_for, has_triton

    cpu, cuda, other = torch.device("cpu"), torch.device("cuda"), torch.device("meta")
    assert _engine_for("auto", cpu, True) == "torch" and _engine_for("auto", cuda, True) == "torch"
    assert _engine_for("auto", cpu, False) == "compiled"
    assert _engine_for("auto", cuda, False) == ("triton" if has_triton() else "torch")
    assert _engine_for("auto", other, False) == "torch"
    assert _engine_for("torch", cpu, True) == "torch" and _engine_for("numpy", cpu, False) == "numpy"
    for engine in ("numpy", "compiled", "triton"):
        with pytest.raises(ValueError, match=f"engine '{engine}' runs inference only"):
            _engine_for(engine, cuda, True)
    for engine in ("numpy", "compiled"):
        with pytest.raises(ValueError, match=f"engine '{engine}' runs on the CPU only, the model is on cuda"):
            _engine_for(engine, cuda, False)
    assert _engine_for("triton", cuda, False) == "triton"
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="engine 'triton' needs a CUDA GPU"):
        _engine_for("triton", cpu, False)
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert _engine_for("triton", cpu, False) == "triton"
    import importlib.util

    assert has_triton() == (importlib.util.find_spec("triton") is not None)


def test_gated_synaptic_ops_follow_the_formula():
    """Per step: nnz(gated input)·H + nnz(s_h)·C + nnz(controller input), controller input = [s_h, active pulses]."""
    m = lively_tiny(H=9)  # an odd H: a wrong count of closed-step events cannot vanish in integer wrap-around
    x = binary_input(2, 30, 20)
    tr = m.trace(x)
    events = x.sum(-1) * tr.gate.float()  # (B, T) admitted input events
    s_h = tr.hidden_spikes.sum(-1).float()
    t = torch.arange(30)
    pulses = sum((t % k == 0).float() for k in (1, 2, 10, 100))
    assert (~tr.gate).any()
    assert torch.equal(tr.gated.synops.float(), events * 9 + s_h * 3 + s_h + pulses)


def test_confidence_is_the_predicted_class_share_of_the_rates():
    """confidence = rate[argmax] / Σ_c rate[c], per sample; here class 0 fires every other step (rate 0.5, Σ < 1)."""
    m = lively_tiny(controller=False)
    with torch.no_grad():
        m.fc_out.weight.zero_()
        m.fc_out.bias.copy_(torch.tensor([0.46, -5.0, -5.0]))  # u: 0.46, 0.506 (spike), reset, 0.46, ...
    tr = m.trace(binary_input(2, 10, 20))
    assert tr.rates.tolist() == [[0.5, 0.0, 0.0]] * 2
    assert tr.prediction.tolist() == [0, 0]
    assert tr.confidence.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("autograd", [True, False])
def test_input_current_is_w_in_times_x_for_any_values_and_dtypes(autograd):
    """W_in^T x[t]: the event-driven sum weights each event by its value (counts, uint8 frames, float64),
    empty frames (the last ones too) give zero current; with autograd (training) and without (inference)."""
    m = lively_tiny(N=6, H=4)
    x = torch.tensor([[[0, 2, 0, 1, 0, 3], [1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]]], dtype=torch.float32)
    with torch.set_grad_enabled(autograd):
        for v in (x, x.to(torch.uint8), x.double(), x * 0.5):
            got = m.input_current(v)
            assert got.shape == (1, 3, 4) and got.dtype == torch.float32
            assert torch.allclose(got, v.float() @ m.w_in.detach(), atol=1e-6), v.dtype
            assert not got[0, 2].any(), "an empty frame drives nothing"


def test_events_are_the_non_zero_entries_row_by_row_for_any_dtype(monkeypatch):
    """kernels.events: each row's entries != 0, in column order, with their values as float32 (-0.0 is no event,
    NaN is one; a row's last columns, past its whole blocks of 32, count too); batch_events, which splits the
    samples over the thread pool, gives the same entries with starts into one shared array."""
    from skipsnn_core import kernels

    g = np.random.default_rng(0)
    dense = np.where(g.random((40, 75)) < 0.08, g.integers(1, 4, (40, 75)), 0)  # 75 columns: 2 whole blocks and a tail
    dense[3, 74] = dense[5, 64] = 1
    rows, cols = np.nonzero(dense)
    for dtype in (np.float32, np.float64, np.uint8, np.bool_):
        x = dense.astype(dtype)
        found = kernels.events(x)
        assert np.array_equal(found.counts, np.bincount(rows, minlength=40)), dtype
        assert np.array_equal(found.starts, np.cumsum(found.counts) - found.counts), dtype
        assert np.array_equal(found.cols, cols) and np.array_equal(found.vals, x[rows, cols].astype(np.float32)), dtype
    x = np.zeros((2, 40), np.float32)
    x[0, 3], x[0, 39], x[1, 0] = -0.0, 2.0, np.nan
    found = kernels.events(x)
    assert found.counts.tolist() == [1, 1] and found.cols.tolist() == [39, 0] and found.vals[0] == 2 and np.isnan(found.vals[1])
    monkeypatch.setattr(kernels, "_split", lambda B: [slice(0, 7), slice(7, 13), slice(13, B)])  # three uneven parts
    split = kernels.batch_events(dense.astype(np.float32), rows_per_sample=2)
    whole = kernels.events(dense.astype(np.float32))
    assert all(np.array_equal(a, b) for a, b in zip(split, whole)), "the parts' entries in order, their starts shifted"


@pytest.mark.parametrize("mode", ["mask", "freeze"])
def test_compiled_kernel_sums_each_admitted_frames_events_as_the_projection_does(mode):
    """The compiled engine takes x's events and W_in, not a (B, T, H) current, and adds the weight rows of an
    admitted frame's events itself: hidden membranes equal the torch engine's (fed by input_current) to the bit
    for 0/1 frames (the same rows summed in the same order), and to float rounding for other values (one fused
    multiply-add per event, as embedding_bag; equal to the bit where both use FMA)."""
    m = lively_tiny(gate_mode=mode)
    x = binary_input(3, 40, 20)
    counts = x * torch.randint(1, 4, x.shape, generator=torch.Generator().manual_seed(2)) * 0.3
    for v, exact in ((x, True), (counts, False)):
        fused, ref = recorded_run(m, v, "compiled"), recorded_run(m, v, "torch")
        assert 0 < ref.gate.mean() < 1, "the fixture must admit some frames and skip others"
        assert torch.equal(fused.gate, ref.gate) and torch.equal(fused.hidden_spikes, ref.hidden_spikes), f"{mode}, exact={exact}"
        assert torch.equal(fused.out_spikes, ref.out_spikes)
        if exact:
            assert torch.equal(fused.hidden_u, ref.hidden_u), f"hidden membranes differ ({mode})"
        else:
            assert torch.allclose(fused.hidden_u, ref.hidden_u, atol=1e-6, rtol=1e-6), f"hidden membranes differ ({mode})"


def test_compiled_engine_makes_no_input_current_and_simulate_each_finds_the_events_once(monkeypatch):
    """simulate, trace and simulate_each on the compiled engine never project x to a (B, T, H) current, and the
    runs of one simulate_each share one pass over x."""
    from skipsnn_core import kernels
    from skipsnn_core.model import InferenceOptions

    passes, real = [], kernels.batch_events
    monkeypatch.setattr(kernels, "batch_events", lambda *a, **k: passes.append(1) or real(*a, **k))
    monkeypatch.setattr(kernels, "project", lambda *a, **k: pytest.fail("the compiled engine needs no input current"))
    m, x = lively_tiny(), binary_input(2, 16, 20)
    settings = [(None, InferenceOptions()), (None, InferenceOptions(controller_theta=0.8)), ("open", InferenceOptions())]
    with torch.no_grad():
        runs, events = m.simulate_each(x, settings)
        assert len(list(runs)) == 3 and len(passes) == 1, "one pass over x for all the runs"
        assert torch.equal(events, x.sum(-1).long())
        m.simulate(x)
        m.trace(x)
    assert len(passes) == 3


def test_layer_sizes_of_one_are_valid_and_zero_is_not():
    from skipsnn_core import SkipSNNConfig

    SkipSNNConfig(n_inputs=1, n_hidden=1, n_classes=1)
    for field in ("n_inputs", "n_hidden", "n_classes"):
        with pytest.raises(ValueError, match="layer sizes must be positive"):
            SkipSNNConfig(**{field: 0})
    with pytest.raises(ValueError, match="pulse periods must be >= 1"):
        SkipSNNConfig(pulse_periods=(1, 0))


def test_pulse_train_is_t_mod_k_equals_zero_on_the_given_device():
    from skipsnn_core import pulse_train

    p = pulse_train(12, (1, 2, 10, 5))
    assert p.shape == (12, 4) and p.dtype == torch.float32
    assert p[:, 0].eq(1).all(), "P_1 is always 1"
    assert p[:, 1].tolist() == [1, 0] * 6
    assert p[:, 2].nonzero().flatten().tolist() == [0, 10] and p[:, 3].nonzero().flatten().tolist() == [0, 5, 10]
    assert pulse_train(5, (1, 2), device="meta").device.type == "meta"


def test_override_tensors_are_made_on_the_model_device():
    from skipsnn_core.model import _override_tensors

    for word, value in (("open", 1.0), ("closed", 0.0)):
        forced, v = _override_tensors(word, 2, 3, "cpu")
        assert forced.dtype == torch.bool and forced.all() and v.eq(value).all() and v.shape == (2, 3)
        forced, v = _override_tensors(word, 2, 3, "meta")
        assert forced.device.type == "meta" and v.device.type == "meta"
    with pytest.raises(ValueError, match="gate_override must be None, 'open', 'closed' or a tensor"):
        _override_tensors("half", 2, 3, "cpu")


def test_initialisation_follows_the_reference():
    """Input weights and biases uniform in ±1/√N (nn.Linear's default); controller weights and bias uniform in (0, 1)."""
    from skipsnn_core import SkipSNN, SkipSNNConfig

    biases = []
    for seed in range(12):
        torch.manual_seed(seed)
        m = SkipSNN(SkipSNNConfig(n_inputs=100, n_hidden=64))
        bound = 100**-0.5
        for w in (m.w_in, m.b_in):
            assert w.abs().max() <= bound and w.min() < -bound / 2 and w.max() > bound / 2
        c = m.fc_ctrl.weight
        assert c.min() >= 0 and c.max() <= 1 and c.min() < 0.1 and c.max() > 0.9, "spread over (0, 1)"
        biases.append(m.fc_ctrl.bias.item())
    assert 0 <= min(biases) < 0.3 and 0.7 < max(biases) <= 1


def test_with_config_keeps_weights_and_copies_meta():
    m = lively_tiny()
    m.meta = {"dataset": "digits"}
    other = m.with_config(controller_theta=0.7)
    assert other.config.controller_theta == 0.7 and other.meta == {"dataset": "digits"} and other.meta is not m.meta
    assert torch.equal(other.fc_ctrl.weight, m.fc_ctrl.weight) and other.device == m.device


def test_simulate_each_is_simulate_under_each_override_recording_nothing():
    """One projection, several runs: each equals simulate() under that override; events per frame come back too."""
    m = lively_tiny()
    x = binary_input(2, 16, 20)
    mask = torch.zeros(2, 16, dtype=torch.long)
    mask[:, 4:9] = 1
    from skipsnn_core.model import InferenceOptions

    stricter = InferenceOptions(controller_theta=0.8)
    settings = [(None, InferenceOptions()), (None, stricter), ("open", InferenceOptions()), (mask, stricter)]
    with torch.no_grad():
        runs, events = m.simulate_each(x, settings)
        runs = list(runs)
        assert torch.equal(events, x.sum(-1).long()), "events per frame (B, T), counted by the projection"
        assert len(runs) == len(settings)
        for run, (override, options) in zip(runs, settings):
            alone = m.simulate(x, gate_override=override, options=options)
            assert torch.equal(run.gate, alone.gate) and torch.equal(run.rates, alone.rates)
            assert run.hidden_u is None and run.output_u is None and run.controller_u is None, "evaluation records nothing"
    assert not torch.equal(runs[0].gate, runs[1].gate), "each run takes its own options"
    assert runs[2].gate.eq(1).all() and torch.equal(runs[3].gate[:, 1:], mask[:, 1:].float())


# ---------------------------------------------------------------- training: lens schedule, augmentation, the loop, resume, progress


def test_lens_is_multiplied_by_the_decay_every_lens_every_epochs():
    """lens starts at 1.0 and is multiplied by 0.9 every 10 epochs."""
    from skipsnn_core.train import TrainConfig, lens_at

    cfg = TrainConfig()
    got = [lens_at(cfg, e) for e in (0, 5, 9, 10, 19, 20, 35)]
    assert got == pytest.approx([1.0, 1.0, 1.0, 0.9, 0.9, 0.81, 0.729])
    assert lens_at(TrainConfig(lens=2.0, lens_decay=0.5, lens_every=3), 7) == pytest.approx(0.5)


def shifted(img: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """img (..., H, W) moved by dx columns and dy rows: out[y, x] = img[y - dy, x - dx], zero where that is outside."""
    H, W = img.shape[-2:]
    out = torch.zeros_like(img)
    for y in range(H):
        for x in range(W):
            if 0 <= y - dy < H and 0 <= x - dx < W:
                out[..., y, x] = img[..., y - dy, x - dx]
    return out


def test_shift_frames_moves_each_sample_by_one_offset_within_the_range_with_zero_fill():
    from skipsnn_core.train import shift_frames

    sensor = W, H, P = (6, 5, 2)  # W != H, so a swapped axis shows
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(60, 3, P * H * W, generator=g) < 0.4).float()
    before = x.clone()
    out = shift_frames(x, sensor, 1, g)
    assert out.shape == x.shape and torch.equal(x, before), "the input is not modified"
    seen = set()
    for b in range(x.shape[0]):
        img, moved = x[b].reshape(3, P, H, W), out[b].reshape(3, P, H, W)
        match = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if torch.equal(moved, shifted(img, dx, dy))]
        assert len(match) == 1, f"sample {b} is not one shift of its frames within ±1 pixel"
        seen.add(match[0])
    assert len(seen) == 9, f"every (dx, dy) in [-1, 1]² is drawn, got {sorted(seen)}"
    assert shift_frames(x, sensor, 0, g) is x, "no shift asked, none done"


def test_shift_frames_reaches_both_ends_of_a_wider_range():
    from skipsnn_core.train import shift_frames

    sensor = W, H, P = (7, 6, 2)
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(40, 1, P * H * W, generator=g) < 0.5).float()
    out = shift_frames(x, sensor, 2, g)
    seen = set()
    for b in range(x.shape[0]):
        img, moved = x[b].reshape(1, P, H, W), out[b].reshape(1, P, H, W)
        seen |= {(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3) if torch.equal(moved, shifted(img, dx, dy))}
    xs, ys = {dx for dx, _ in seen}, {dy for _, dy in seen}
    assert xs == set(range(-2, 3)) and ys == set(range(-2, 3)), (xs, ys)


def tiny_framed(n: int, L: int, labels, sensor=(5, 5, 2), seed: int = 0):
    from skipsnn_core.data import Framed

    W, H, P = sensor
    rng = np.random.default_rng(seed)
    x = (rng.random((n, L, W * H * P)) < 0.15).astype(np.uint8)
    x[:, :, 0] = 1  # every signal frame holds an event
    return Framed(x, np.asarray(labels, dtype=np.int64), sensor)


def test_noisy_batch_places_each_sample_in_the_noise_it_was_asked_for():
    """T frames, the sample's own L signal frames where the mask says, ``level`` pairs per noise frame, noise on
    the signal frames only when asked."""
    from skipsnn_core.train import NoiseSpec, noisy_batch

    data = tiny_framed(3, 4, [0, 1, 2])
    x, mask = noisy_batch(data, range(1, 3), NoiseSpec(T=25, level=3), seed=5)
    assert x.shape == (2, 25, 50) and mask.shape == (2, 25)
    assert x.dtype == torch.uint8, "0/1 frames as bytes: a quarter of the memory of floats"
    for row, i in enumerate((1, 2)):
        assert int(mask[row].sum()) == 4
        assert torch.equal(x[row][mask[row]], torch.from_numpy(data.x[i])), f"sample {i}'s frames"
    noise = x.sum(-1)[~mask]
    assert noise.max() <= 6 and noise.float().mean() > 4, "three pairs per noise frame"
    inside, mask_in = noisy_batch(data, range(1), NoiseSpec(T=25, level=1, in_signal=True), seed=5)
    signal = torch.from_numpy(data.x[0])
    assert (inside[0][mask_in[0]] >= signal).all() and inside[0][mask_in[0]].sum() > signal.sum()


class TrainingSpy:
    """Watches train(): the splits it asks for and, for every optimisation step, the input, lens, run and the
    weights the step started from. ``lively`` makes the fresh network fire (input and output weights x10) and
    its controller open on even steps only (P_2 alone drives it), so the rates and the penalty are neither 0 nor 1."""

    def __init__(self, monkeypatch, splits: dict, lively: bool = True, clock=None):
        from skipsnn_core import train as train_mod
        from skipsnn_core.model import SkipSNN

        self.loads, self.steps = [], []
        real = SkipSNN.simulate

        def load_split(dataset, data_dir, split, spec, quiet=False, download=False, progress=None):
            self.loads.append((dataset, data_dir, split, spec, quiet, download))
            return splits[split]

        def simulate(model, x, **kw):
            if not (model.training and torch.is_grad_enabled()):
                return real(model, x, **kw)  # validation
            if lively and not self.steps:
                with torch.no_grad():
                    model.w_in.mul_(10)
                    model.fc_out.weight.mul_(10)
                    if model.config.controller:
                        H = model.config.n_hidden
                        model.fc_ctrl.weight.zero_()
                        model.fc_ctrl.weight[0, H + 1] = 0.6  # P_2
                        model.fc_ctrl.bias.zero_()
            params = {k: v.detach().clone() for k, v in model.named_parameters()}
            run = real(model, x, **kw)
            self.steps.append(dict(x=x.detach().clone(), lens=kw.get("lens"), run=run, params=params))
            if clock is not None:
                clock.step()
            return run

        monkeypatch.setattr(train_mod, "load_split", load_split)
        monkeypatch.setattr(SkipSNN, "simulate", simulate)


def tiny_train_config(tmp_path, **changes):
    from dataclasses import replace

    from skipsnn_core.train import TrainConfig

    cfg = TrainConfig(dataset="nmnist", data_dir="folder", hidden=12, T=16, L=4, noise_level=2, lam=0.7, epochs=2,
                      lr=1e-2, batch_size=3, lens=1.0, lens_decay=0.5, lens_every=1, seed=3, out=str(tmp_path / "m.pt"))
    return replace(cfg, **changes)


def tiny_splits(train_labels=(2, 2, 2, 2, 2), test_labels=(1, 0, 4)):
    return {"train": tiny_framed(len(train_labels), 4, train_labels), "test": tiny_framed(len(test_labels), 4, test_labels, seed=1)}


def test_training_loss_is_mse_of_rates_plus_lambda_times_the_mean_of_the_t_minus_1_gate_decisions(monkeypatch, tmp_path):
    """loss = MSE(rate, one_hot(y)) + λ · mean_{b, t<T-1} a[t]; history rows average it over the epoch's samples;
    lens follows its schedule; every training sample is used once per epoch."""
    import torch.nn.functional as F

    from skipsnn_core import load_checkpoint
    from skipsnn_core.train import train

    cfg = tiny_train_config(tmp_path)
    spy = TrainingSpy(monkeypatch, tiny_splits())
    model, _ = train(cfg, quiet=True)
    history = load_checkpoint(cfg.out, "cpu").meta["history"]
    assert [len(s["x"]) for s in spy.steps] == [3, 2, 3, 2], "batches of 3 then the remaining 2, each epoch"
    assert [s["lens"] for s in spy.steps] == [1.0, 1.0, 0.5, 0.5]
    assert spy.steps[0]["run"].rates.detach().sum() > 0, "the fixture must make outputs fire"
    a = spy.steps[0]["run"].controller_spikes.detach()
    assert 0 < float(a[:, :-1].mean()) < 1 and float(a[:, :-1].mean()) != float(a.mean()), "the fixture must tell T-1 from T"
    target = torch.zeros(10)
    target[2] = 1.0  # every training label is 2
    for epoch in range(2):
        steps = spy.steps[2 * epoch : 2 * epoch + 2]
        loss = open_ = 0.0
        for s in steps:
            run, B = s["run"], len(s["x"])
            penalty = run.controller_spikes.detach()[:, : cfg.T - 1].mean()  # a[0 .. T-2]
            loss += float(F.mse_loss(run.rates.detach(), target.expand(B, -1)) + cfg.lam * penalty) * B
            open_ += float(run.gate.detach().float().mean()) * B
        row = history[epoch]
        assert row["epoch"] == epoch + 1 and row["lens"] == [1.0, 0.5][epoch]
        assert row["loss"] == pytest.approx(loss / 5, rel=1e-5), f"epoch {epoch + 1}"
        assert row["train_open"] == pytest.approx(open_ / 5, rel=1e-6)
    assert model.config.n_classes == 10, "N-MNIST has 10 digits even if the training split holds only 2s"


def test_training_inputs_are_t_frames_of_the_configured_noise_and_adam_steps_by_lr(monkeypatch, tmp_path):
    from skipsnn_core.data import FrameSpec
    from skipsnn_core.train import train

    cfg = tiny_train_config(tmp_path, epochs=1)
    spy = TrainingSpy(monkeypatch, tiny_splits())
    train(cfg, quiet=True)
    assert [load[2:] for load in spy.loads] == [("train", FrameSpec(L=4), True, False), ("test", FrameSpec(L=4), True, False)]
    assert all(load[:2] == ("nmnist", "folder") for load in spy.loads)
    for s in spy.steps:
        x = s["x"]
        assert x.shape[1:] == (cfg.T, 50)
        assert (x.sum(-1) > 2).float().mean() > 0.7, "noise frames hold two ON/OFF pairs (noise_level=2), not one"
    before, after = spy.steps[0]["params"], spy.steps[1]["params"]
    for name in before:
        step = (after[name] - before[name]).abs().max().item()
        assert step == pytest.approx(cfg.lr, rel=1e-2), f"Adam's first step moves {name} by lr, got {step}"


def test_checkpoint_meta_records_what_was_trained_and_measured(monkeypatch, tmp_path):
    from dataclasses import asdict

    from skipsnn_core import load_checkpoint
    from skipsnn_core.device import default_device, describe
    from skipsnn_core.train import train

    cfg = tiny_train_config(tmp_path, out=str(tmp_path / "a" / "b" / "m.pt"))
    TrainingSpy(monkeypatch, tiny_splits())
    _, figures = train(cfg, command="python -m skipsnn_core.train --x", quiet=True)
    meta = load_checkpoint(cfg.out, "cpu").meta
    assert meta["noise"] == {"T": 16, "level": 2, "in_signal": False}
    assert meta["signal_frames"] == 4 and meta["split"] == "test (held out)" and meta["epochs_run"] == 2
    assert meta["train_config"] == asdict(cfg) and meta["device"] == describe(default_device())
    assert meta["figures"] == figures and figures["n_samples"] == 3 and figures["noise_level"] == 2
    assert meta["command"] == "python -m skipsnn_core.train --x" and meta["dataset"] == "nmnist" and meta["kind"] == "skipsnn"
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["m.pt"], "no resume or temp file left"


@pytest.mark.parametrize("dataset, labels, classes", [("digits", (0, 1), 10), ("dvsgesture", (0, 2), 3)])
def test_output_neurons_are_the_classes_of_the_dataset(monkeypatch, tmp_path, dataset, labels, classes):
    """Digit datasets always get 10 outputs; others get max label + 1 (over both splits)."""
    from skipsnn_core.train import train

    spy = TrainingSpy(monkeypatch, tiny_splits(train_labels=labels, test_labels=(1,)))
    cfg = tiny_train_config(tmp_path, dataset=dataset, epochs=0)
    model, figures = train(cfg, quiet=True, download=True)
    assert model.config.n_classes == classes
    assert figures["n_samples"] == 1
    assert [load[-1] for load in spy.loads] == [True, True], "--download reaches both splits"
    meta = torch.load(cfg.out, weights_only=True)["meta"]
    assert meta["command"] == "" and meta["history"] == [] and meta["epochs_run"] == 0


def test_quiet_training_prints_nothing_and_loud_training_reports_on_stderr(monkeypatch, tmp_path, capfd):
    import json

    from skipsnn_core.train import train

    cfg = tiny_train_config(tmp_path)
    TrainingSpy(monkeypatch, tiny_splits())
    train(cfg, quiet=True)
    assert capfd.readouterr() == ("", ""), "quiet: no progress bar, no rows"
    train(cfg)  # not quiet by default
    out, err = capfd.readouterr()
    assert out == "", "reports go to stderr; stdout is left for the final JSON"
    assert "training skipsnn on nmnist (5 train, 3 test)" in err
    rows = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [r["epoch"] for r in rows] == [1, 2]


class FakeClock:
    """perf_counter for train(): starts at 1000 s and moves only when a training step runs."""

    def __init__(self, seconds_per_step: float):
        self.now, self.per_step = 1000.0, seconds_per_step

    def perf_counter(self) -> float:
        return self.now

    def step(self) -> None:
        self.now += self.per_step


@pytest.mark.parametrize("epoch_seconds, epochs_run", [(120.0, 2), (120.34, 1)])
def test_time_budget_stops_after_the_epoch_that_passes_it(monkeypatch, tmp_path, capfd, epoch_seconds, epochs_run):
    """--max-minutes 2: stop at the first epoch boundary where more than 120 s have passed."""
    import types

    from skipsnn_core import train as train_mod

    clock = FakeClock(epoch_seconds / 2)  # two steps per epoch; "seconds" in a history row is rounded to 0.1 s
    monkeypatch.setattr(train_mod, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    TrainingSpy(monkeypatch, tiny_splits(), clock=clock)
    cfg = tiny_train_config(tmp_path, epochs=5, max_minutes=2.0)
    _, _ = train_mod.train(cfg, quiet=epochs_run == 2)
    history = train_mod.torch.load(cfg.out, weights_only=True)["meta"]["history"]
    assert [row["epoch"] for row in history] == list(range(1, epochs_run + 1))
    assert [row["seconds"] for row in history] == [round(epoch_seconds, 1)] * epochs_run
    err = capfd.readouterr().err
    if epochs_run == 2:
        assert err == ""
    else:
        assert "stopping after 1 epochs: --max-minutes 2.0 spent" in err


def test_resumed_training_ends_with_the_same_weights_as_an_uninterrupted_one(monkeypatch, tmp_path, capfd):
    """A resume file holds the model, the optimizer and the history, and each epoch's noise, order and shifts come
    from that epoch's own seeded generator: continuing from it is exact."""
    from skipsnn_core import load_checkpoint
    from skipsnn_core import train as train_mod

    whole = tiny_train_config(tmp_path, shift=1, out=str(tmp_path / "whole.pt"))
    TrainingSpy(monkeypatch, tiny_splits(), lively=False)
    train_mod.train(whole, quiet=True)

    cut = tiny_train_config(tmp_path, shift=1, out=str(tmp_path / "cut.pt"))
    real, calls = train_mod.evaluate, []

    def interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # during epoch 2's validation: the resume file holds epoch 1
        return real(*a, **k)

    monkeypatch.setattr(train_mod, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_mod.train(cut, quiet=True)
    monkeypatch.setattr(train_mod, "evaluate", real)
    assert not list(tmp_path.glob("*.tmp")), "the resume file is written atomically"
    capfd.readouterr()
    train_mod.train(cut, resume=True, quiet=False)
    out, err = capfd.readouterr()
    assert out == "" and f"resuming from {cut.out}.resume at epoch 2" in err
    a, b = load_checkpoint(whole.out, "cpu"), load_checkpoint(cut.out, "cpu")
    for name, w in a.state_dict().items():
        assert torch.equal(w, b.state_dict()[name]), f"{name} differs after resuming"
    assert [r["loss"] for r in a.meta["history"]] == [r["loss"] for r in b.meta["history"]]


def test_without_resume_an_old_resume_file_is_ignored(monkeypatch, tmp_path):
    from skipsnn_core import train as train_mod

    cfg = tiny_train_config(tmp_path)
    spy = TrainingSpy(monkeypatch, tiny_splits(), lively=False)
    train_mod.train(cfg, quiet=True)
    Path(cfg.out + ".resume").write_bytes(b"an old resume file")
    spy.steps.clear()
    train_mod.train(cfg, quiet=True)
    assert len(spy.steps) == 4, "both epochs trained again from scratch"


class Marker:
    """Unpickling this touches a file: proof that a pickle ran code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_a_resume_file_cannot_run_code(monkeypatch, tmp_path):
    """Resume files are read with weights_only: a pickled object that would run code is refused."""
    import pickle

    from skipsnn_core import train as train_mod

    cfg = tiny_train_config(tmp_path)
    TrainingSpy(monkeypatch, tiny_splits(), lively=False)
    marker = tmp_path / "ran"
    torch.save({"train_config": Marker(str(marker))}, cfg.out + ".resume")
    with pytest.raises(pickle.UnpicklingError):
        train_mod.train(cfg, resume=True, quiet=True)
    assert not marker.exists()


def test_training_progress_bar_counts_epochs_and_shows_the_last_loss(monkeypatch, tmp_path, fake_tqdm):
    from skipsnn_core.train import train

    spy = TrainingSpy(monkeypatch, tiny_splits())
    train(tiny_train_config(tmp_path))
    assert [bar.desc for bar in fake_tqdm] == ["epoch 1/2", "epoch 2/2"]
    assert [bar.disable for bar in fake_tqdm] == [False, False]
    last = spy.steps[-1]["run"]
    postfix = fake_tqdm[-1].postfix
    assert set(postfix) == {"loss", "open"}
    assert float(postfix["open"]) == pytest.approx(float(last.gate.detach().float().mean()), abs=0.005)
    target = torch.zeros(last.rates.shape)
    target[:, 2] = 1.0  # every training label is 2
    loss = torch.nn.functional.mse_loss(last.rates.detach(), target) + 0.7 * last.controller_spikes.detach()[:, :-1].mean()
    assert float(postfix["loss"]) == pytest.approx(float(loss), abs=5e-5)
    fake_tqdm.clear()
    train(tiny_train_config(tmp_path), quiet=True)
    assert [bar.disable for bar in fake_tqdm] == [True, True], "quiet: the bars are off on any terminal"


@pytest.fixture
def nmnist_folder(nmnist_dir, tmp_path, monkeypatch):
    """Ten real recordings (8 train, 2 test by the row % 5 rule) in a folder of their own, with a fresh frame cache."""
    from tests.conftest import copy_nmnist

    folder = copy_nmnist(nmnist_dir, tmp_path / "nmnist", 10)
    monkeypatch.setenv("SKIPSNN_CACHE", str(tmp_path / "cache"))
    return folder


def test_load_split_frames_every_recording_with_a_progress_bar(nmnist_folder, monkeypatch, fake_tqdm):
    from skipsnn_core import train as train_mod
    from skipsnn_core.data import FrameSpec

    opened = []
    real = train_mod.open_dataset
    monkeypatch.setattr(train_mod, "open_dataset", lambda *a, **k: opened.append(k) or real(*a, **k))
    data = train_mod.load_split("nmnist", str(nmnist_folder), "test", FrameSpec(L=6))  # defaults: not quiet, no download
    assert data.x.shape == (2, 6, 2312) and data.sensor_size == (34, 34, 2) and data.x[:].any()
    assert not isinstance(data.x, np.ndarray), "training reads the split from its on-disk store, by index"
    assert opened == [{"download": False}]
    (bar,) = fake_tqdm
    assert (bar.desc, bar.total, bar.n, bar.closed) == ("frames nmnist/test", 2, 2, True), "one step per recording"
    fake_tqdm.clear()
    train_mod.load_split("nmnist", str(nmnist_folder), "train", FrameSpec(L=6), quiet=True, download=True)
    assert fake_tqdm == [] and opened[-1] == {"download": True}


def test_shift_frames_takes_its_randomness_from_the_generator_only():
    """Same generator seed, same shifts; the global RNG is left alone (STYLE.md)."""
    from skipsnn_core.train import shift_frames

    x = (torch.rand(20, 2, 2 * 5 * 6, generator=torch.Generator().manual_seed(2)) < 0.4).float()
    torch.manual_seed(0)
    state = torch.get_rng_state()
    a = shift_frames(x, (6, 5, 2), 2, torch.Generator().manual_seed(9))
    b = shift_frames(x, (6, 5, 2), 2, torch.Generator().manual_seed(9))
    assert torch.equal(a, b)
    assert torch.equal(torch.get_rng_state(), state), "the global RNG was used"


# ---------------------------------------------------------------- evaluation figures and the trace


def test_evaluate_reports_each_figure_as_defined():
    """Per sample in its own fixed noise: accuracy (silence is wrong), N_open / T, gate precision and recall
    (and recall on the frames with more events than noise can make), 1 - Σ gated ops / Σ open ops, oracle accuracy."""
    from skipsnn_core.data import Framed
    from skipsnn_core.train import NoiseSpec, evaluate, noisy_batch

    base = tiny_framed(5, 4, [0] * 5)
    x_frames = base.x.copy()
    x_frames[2] = 0
    x_frames[2, :, 7] = 1  # sample 2: one event per signal frame, no more than a noise frame holds
    m = lively_tiny(N=50)
    noise = NoiseSpec(T=20, level=1)
    per_sample = []
    for i in range(5):
        x, mask = noisy_batch(Framed(x_frames, base.y, base.sensor_size), range(i, i + 1), noise, seed=7)
        tr = m.trace(x.float(), controller_theta=0.55)
        oracle = m.trace(x.float(), controller_theta=0.55, gate_override=mask[0].long())
        per_sample.append((x[0].float(), mask[0], tr, oracle))
    gated = [int(tr.prediction[0]) for _, _, tr, _ in per_sample]
    labels = np.array([gated[i] if i in (0, 1, 3) else (max(gated[i], 0) + 1) % 3 for i in range(5)])
    data = Framed(x_frames, labels, base.sensor_size)

    def mean(values):
        return sum(values) / len(values)

    precision, recall, visible_recall = [], [], []
    for x, mask, tr, _ in per_sample:
        gate = tr.gate[0]
        hit = int((gate & mask).sum())
        precision.append(hit / int(gate.sum()))
        recall.append(hit / int(mask.sum()))
        visible = mask & (x.sum(-1) > 2)
        if visible.any():
            visible_recall.append(int((gate & visible).sum()) / int(visible.sum()))
    assert len(visible_recall) == 4, "sample 2 has no frame that noise could not have made"
    ops_gated = sum(float(tr.gated.synops.sum()) for _, _, tr, _ in per_sample)
    ops_open = sum(float(tr.forced_open.synops.sum()) for _, _, tr, _ in per_sample)
    expected = {
        "accuracy": mean([g == y for g, y in zip(gated, labels)]),
        "state_updates": mean([float(tr.gate.float().mean()) for _, _, tr, _ in per_sample]),
        "oracle_state_updates": 4 / 20,
        "gate_precision": mean(precision),
        "gate_recall": mean(recall),
        "gate_recall_visible": mean(visible_recall),
        "synops_saving": 1 - ops_gated / ops_open,
        "forced_open_accuracy": mean([int(tr.forced_open.prediction[0]) == y for (_, _, tr, _), y in zip(per_sample, labels)]),
        "oracle_accuracy": mean([int(o.prediction[0]) == y for (_, _, _, o), y in zip(per_sample, labels)]),
        "silent": sum(g == metrics.SILENT for g in gated),
        "forced_open_silent": sum(int(tr.forced_open.prediction[0]) == metrics.SILENT for _, _, tr, _ in per_sample),
        "n_samples": 5,
        "noise_level": 1,
    }
    assert 0 < expected["accuracy"] < 1 and 0 < expected["state_updates"] < 1, "the fixture must be neither all nor nothing"
    got = evaluate(m, data, noise, seed=7, batch_size=2, controller_theta=0.55, oracle=True)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-6), key
    first3 = evaluate(m, data, noise, seed=7, batch_size=2, controller_theta=0.55, limit=3)
    assert first3["n_samples"] == 3 and "oracle_accuracy" not in first3
    assert first3["accuracy"] == pytest.approx(mean([g == y for g, y in zip(gated[:3], labels[:3])]))
    assert first3["state_updates"] == pytest.approx(mean([float(tr.gate.float().mean()) for _, _, tr, _ in per_sample[:3]]))


def test_evaluating_many_thresholds_at_once_equals_one_at_a_time():
    """A threshold sweep shares the noise and the forced-open and oracle runs; each row is still exactly evaluate's."""
    from skipsnn_core.train import NoiseSpec, evaluate, evaluate_thresholds

    data = tiny_framed(5, 4, [0, 1, 2, 1, 0])
    m = lively_tiny(N=50)
    noise = NoiseSpec(T=20)
    thetas = (0.2, None, 0.9)
    done = []
    rows = evaluate_thresholds(m, data, noise, thetas, seed=7, batch_size=2, oracle=True, limit=5,
                               progress=lambda d, t: done.append((d, t)))
    assert rows == [evaluate(m, data, noise, seed=7, batch_size=2, controller_theta=theta, oracle=True, limit=5)
                    for theta in thetas]
    assert rows[0]["state_updates"] > rows[2]["state_updates"], "the fixture's thresholds differ in effect"
    assert done == [(1, 3), (2, 3), (3, 3)], "progress after each batch"


def test_a_plain_snn_is_its_own_forced_open_network():
    """No controller, no gate: evaluate runs it once and reports the same figures for it forced open, which are
    those of the network run with the gate forced open."""
    from skipsnn_core.train import NoiseSpec, evaluate, noisy_batch

    data = tiny_framed(5, 4, [0, 1, 2, 1, 0])
    m = lively_tiny(controller=False, N=50)
    noise = NoiseSpec(T=20)
    row = evaluate(m, data, noise, seed=7, batch_size=2)
    x, _ = noisy_batch(data, range(5), noise, 7)
    with torch.no_grad():
        opened = metrics.decode(m.simulate(x, gate_override="open").rates)
    y = torch.from_numpy(data.y)
    assert row["forced_open_accuracy"] == row["accuracy"] == int((opened == y).sum()) / 5
    assert row["forced_open_silent"] == row["silent"] == int((opened == metrics.SILENT).sum())
    assert row["synops_saving"] == 0 and row["state_updates"] == 1
    assert 0 < row["accuracy"] < 1, "the fixture must be neither all nor nothing"


def test_evaluate_defaults_use_the_config_threshold_and_its_own_seed():
    from skipsnn_core.train import NoiseSpec, evaluate, evaluate_thresholds

    data = tiny_framed(3, 4, [0, 1, 2])
    m = lively_tiny(N=50)
    noise = NoiseSpec(T=20)
    assert evaluate(m, data, noise) == evaluate(m, data, noise, seed=1234, batch_size=64, controller_theta=0.5)
    assert evaluate(m, data, noise) != evaluate(m, data, noise, seed=1), "the seed draws the noise"
    assert evaluate_thresholds(m, data, noise, [None]) == [evaluate(m, data, noise)], "the same defaults, no oracle"


def test_trace_records_its_settings_and_each_sample_alone():
    """A trace says which threshold, offset, gate mode and pulses it ran with; batching changes nothing."""
    m = lively_tiny()
    x = binary_input(2, 24, 20)
    tr = m.trace(x)
    assert (tr.controller_theta, tr.bias_offset, tr.gate_mode, tr.output_theta, tr.has_controller) == (0.5, 0.0, "mask", 0.5, True)
    assert torch.equal(tr.pulses, torch.stack([(torch.arange(24) % k == 0).float() for k in (1, 2, 10, 100)], 1))
    other = m.trace(x, controller_theta=0.6, bias_offset=-0.1, gate_mode="freeze")
    assert (other.controller_theta, other.bias_offset, other.gate_mode) == (0.6, -0.1, "freeze")
    assert not torch.equal(other.gate, tr.gate)
    run = recorded_run(m.with_config(gate_mode="freeze"), x, "numpy", controller_theta=0.6, bias_offset=-0.1)
    assert torch.equal(other.gate.float(), run.gate) and torch.allclose(other.hidden_u, run.hidden_u, atol=1e-5)
    for b in range(2):
        alone = m.trace(x[b])  # a single (T, N) sample is a batch of one
        assert torch.equal(alone.gate[0], tr.gate[b]) and torch.equal(alone.rates[0], tr.rates[b])
        assert torch.equal(alone.gated.synops[0], tr.gated.synops[b]) and torch.equal(alone.forced_open.synops[0], tr.forced_open.synops[b])
    plain = lively_tiny(controller=False).trace(x)
    assert plain.has_controller is False and not plain.controller_spikes.any() and plain.gate.all()


def test_trace_forced_open_half_is_the_same_sample_with_every_frame_admitted():
    """forced_open: same weights, gate open everywhere, synaptic ops without the controller's input."""
    m = lively_tiny()
    x = binary_input(2, 24, 20)
    tr = m.trace(x, controller_theta=0.6)
    run = recorded_run(m, x, "numpy", controller_theta=0.6)
    with torch.no_grad():
        open_run = m.simulate(x, gate_override="open", engine="numpy")
    assert torch.equal(tr.gate.float(), run.gate) and torch.allclose(tr.controller_u, run.controller_u, atol=1e-5)
    assert torch.equal(tr.output_spikes.float(), run.out_spikes) and torch.allclose(tr.output_u, run.output_u, atol=1e-5)
    assert torch.equal(tr.forced_open.rates, open_run.rates) and tr.forced_open.n_open.tolist() == [24.0, 24.0]
    events = x.sum(-1)
    assert torch.equal(tr.forced_open.synops.float(), events * 8 + open_run.hidden_spikes.sum(-1) * 3)
    edited = torch.full((24,), -1)
    edited[5:9] = 0
    tr_edit = m.trace(x, gate_override=edited)
    assert not tr_edit.gate[:, 5:9].any() and tr_edit.forced_open.n_open.tolist() == [24.0, 24.0]


@pytest.mark.parametrize("level", [1, 2])
def test_visible_recall_counts_signal_frames_with_more_events_than_the_noise_can_make(level):
    """A noise frame holds at most 2 events per pair: a signal frame is visible when it holds more than 2 x level."""
    from skipsnn_core.data import Framed
    from skipsnn_core.train import NoiseSpec, evaluate, noisy_batch

    counts = (3, 2, 5, 4, 1, 6, 7)  # events on each signal frame
    L, n = len(counts), 8
    x = np.zeros((n, L, 50), dtype=np.uint8)
    for i in range(n):
        for t, count in enumerate(counts):
            x[i, t, np.random.default_rng(i * 10 + t).choice(50, count, replace=False)] = 1
    data = Framed(x, np.zeros(n, dtype=np.int64), (5, 5, 2))
    m = pulse_only_controller(N=50)  # gate open on t = 0 and every odd t: half the signal frames
    noise = NoiseSpec(T=20, level=level)

    def visible_recall(threshold):
        recalls = []
        for i in range(n):
            xi, mask = noisy_batch(data, range(i, i + 1), noise, seed=3)
            gate = m.trace(xi.float()).gate[0]
            visible = mask[0] & (xi[0].sum(-1) > threshold)
            if visible.any():
                recalls.append(int((gate & visible).sum()) / int(visible.sum()))
        return sum(recalls) / len(recalls)

    expected = visible_recall(2 * level)
    slips = {2 * level - 1, 2 * level + 1, 3 * level, 2 // level, 2 * max(level, 2)} - {2 * level}
    assert all(visible_recall(other) != expected for other in slips), "the fixture must tell the threshold from a slip"
    assert evaluate(m, data, noise, seed=3)["gate_recall_visible"] == pytest.approx(expected)
