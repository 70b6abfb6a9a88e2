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
