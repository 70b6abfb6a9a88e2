"""Gate attribution and receptive fields against the model's own numbers."""

import numpy as np
import pytest
import torch

from skipsnn_core import SkipSNN, SkipSNNConfig
from skipsnn_core.explain import gate_attribution, receptive_field
from skipsnn_core.noise import embed_batch
from tests.test_model import lively


@pytest.fixture
def noisy(nmnist_signals):
    signals, _ = nmnist_signals
    x, _, _ = embed_batch(signals, 300, level=1, generator=torch.Generator().manual_seed(3))
    return x


@pytest.mark.parametrize("mode", ["mask", "freeze"])
def test_attribution_sums_to_the_current_the_controller_integrated(noisy, mode):
    """total[t] = u_c[t] - beta * u_c[t-1] * (1 - a[t-1]): the recurrence's own input, recovered from its membrane."""
    m = lively(gate_mode=mode)
    for offset in (0.0, -0.3):
        tr = m.trace(noisy, bias_offset=offset, controller_theta=0.6)
        att = gate_attribution(m, tr)
        u, a = tr.controller_u, tr.controller_spikes.float()
        integrated = u.clone()
        integrated[:, 1:] -= m.config.beta * u[:, :-1] * (1 - a[:, :-1])
        assert torch.allclose(att.total, integrated, atol=1e-5, rtol=1e-5), f"{mode}, offset {offset}"
        assert torch.allclose(att.total, att.hidden.sum(-1) + att.pulses.sum(-1) + att.bias)
        assert att.hidden.shape == (4, 300, 800) and att.pulses.shape == (4, 300, 4) and att.periods == (1, 2, 10, 100)
        w = m.fc_ctrl.weight[0].detach()
        assert torch.allclose(att.bias[0, 0], m.fc_ctrl.bias.detach()[0] + offset)
        assert torch.equal(att.pulses[0, 10], w[800:] * torch.tensor([1.0, 1.0, 1.0, 0.0])), "P1, P2, P10 fire at t=10; P100 not"
        assert torch.equal(att.hidden[0, 10] != 0, tr.hidden_spikes[0, 10] & (w[:800] != 0))


def test_top_hidden_is_ordered_and_only_active_neurons(noisy):
    m = lively()
    tr = m.trace(noisy[:1])
    att = gate_attribution(m, tr)
    t = int(tr.hidden_spikes[0].sum(1).argmax())  # the busiest step
    ids, values = att.top_hidden(t, k=10)
    assert len(ids) == 10 and np.all(np.diff(values) <= 0), "largest first"
    assert tr.hidden_spikes[0, t, ids].all(), "only neurons that spiked at t contribute"
    rest = att.hidden[0, t].numpy().copy()
    rest[ids] = -np.inf
    assert values[-1] >= rest.max(), "nothing outside the top 10 pushes harder"
    wid, wval = att.top_hidden_window(t - 5, t + 5, k=3)
    assert np.allclose(wval, att.hidden[0, t - 5 : t + 5].sum(0).numpy()[wid])
    silent_steps = (~tr.hidden_spikes[0].any(1)).nonzero().flatten()
    assert len(silent_steps), "the fixture has steps where no hidden neuron spikes"
    assert len(att.top_hidden(int(silent_steps[0]), k=10)[0]) == 0, "a step with no hidden spike has no top neuron"


def test_plain_snn_has_nothing_to_attribute(noisy):
    m = lively(controller=False)
    with pytest.raises(ValueError, match="plain SNN"):
        gate_attribution(m, m.trace(noisy[:1]))


def test_receptive_field_layout_matches_the_input_weights():
    m = SkipSNN(SkipSNNConfig(n_hidden=5))
    field = receptive_field(m, 3)
    assert field.shape == (2, 34, 34)
    p, y, x = 1, 7, 20
    assert field[p, y, x] == m.w_in[p * 34 * 34 + y * 34 + x, 3].item()
    with torch.no_grad():
        m.w_in.zero_()
        m.w_in[0 * 34 * 34 + 2 * 34 + 30, 4] = 1.0  # OFF, y=2, x=30
    assert np.argwhere(receptive_field(m, 4)).tolist() == [[0, 2, 30]]
    with pytest.raises(ValueError, match="outside"):
        receptive_field(m, 5)


def test_the_step_to_explain_is_the_first_crossing_the_hidden_neurons_drove_inside_the_signal():
    """On the shipped digits checkpoint the first crossing inside the signal is a P10 wake-up (the hidden layer
    silent); the step the Why page opens on is the first one after it that the hidden neurons drove."""
    from pathlib import Path

    from skipsnn_core import load_checkpoint
    from skipsnn_core.data import FrameSpec, framed, open_dataset
    from skipsnn_core.explain import hidden_driven, step_to_explain
    from skipsnn_core.explore import SampleSpec, ViewOptions, make_sample, run_trace

    model = load_checkpoint(Path(__file__).resolve().parents[1] / "assets" / "digits_skipsnn.pt", device="cpu")
    sample = make_sample(framed(open_dataset("digits", None, "test"), FrameSpec()), SampleSpec(index=0, start=120, T=300))
    trace = run_trace(model, sample, ViewOptions())
    att = gate_attribution(model, trace)
    signal = sample.signal.numpy()
    spiked = trace.controller_spikes[0].numpy()
    step = step_to_explain(att, trace, signal)
    hidden, rest = float(att.hidden[0, step].sum()), float(att.pulses[0, step].sum() + att.bias[0, step])
    assert spiked[step] and signal[step], "a crossing inside the signal"
    assert hidden > rest and hidden > 0, f"driven mainly by hidden neurons: {hidden:.3f} vs pulses + bias {rest:.3f}"
    first_inside = int(np.flatnonzero(spiked & signal)[0])
    assert step > first_inside and not trace.hidden_spikes[0, first_inside].any(), \
        "the first crossing inside the signal was the pulses' (the case the page must not open on)"
    earlier = np.flatnonzero(spiked & signal)[np.flatnonzero(spiked & signal) < step]
    for t in earlier:  # every crossing before it inside the signal had a weaker hidden push than the rest
        assert float(att.hidden[0, t].sum()) <= float(att.pulses[0, t].sum() + att.bias[0, t])
    assert hidden_driven(att, trace)[step] and not hidden_driven(att, trace)[~spiked].any(), "only crossings count"


def test_the_step_to_explain_falls_back_when_no_hidden_neuron_drove_a_crossing(noisy):
    m = lively()
    with torch.no_grad():
        m.fc_ctrl.weight[0, :800] = 0.0  # the hidden layer cannot push: only the pulses wake the controller
    tr = m.trace(noisy[:1])
    att = gate_attribution(m, tr)
    from skipsnn_core.explain import step_to_explain

    spiked = tr.controller_spikes[0].numpy()
    nowhere = np.zeros(300, bool)
    assert spiked.any()
    assert step_to_explain(att, tr, nowhere) == int(np.flatnonzero(spiked)[0]), "no signal, no driven crossing: the first"
    window = np.zeros(300, bool)
    window[np.flatnonzero(spiked)[-1]] = True
    assert step_to_explain(att, tr, window) == int(np.flatnonzero(spiked)[-1]), "else the first crossing inside the signal"
