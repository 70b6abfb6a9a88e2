import pytest
import torch

from skipsnn_core.neurons import LIFParams, LIFState, lif_step, spike, surrogate_primitive


def test_lif_golden_values_worked_by_hand():
    # beta = 0.1, theta = 0.5, constant current 0.3:
    # u1 = 0.3 (no spike); u2 = 0.1*0.3 + 0.3 = 0.33; current 0.6 at t3: u3 = 0.033 + 0.6 = 0.633 -> spike;
    # t4 (reset): u4 = 0.1*0.633*(1-1) + 0.3 = 0.3.
    p = LIFParams(beta=0.1, theta=0.5)
    state = LIFState.zeros(1)
    expected = [(0.3, 0.0), (0.33, 0.0), (0.633, 1.0), (0.3, 0.0)]
    for current, (u_want, s_want) in zip([0.3, 0.3, 0.6, 0.3], expected):
        s, state = lif_step(torch.tensor([current]), state, p)
        assert state.u.item() == pytest.approx(u_want, abs=1e-6)
        assert s.item() == s_want


def test_fires_strictly_above_threshold():
    u = torch.tensor([0.5, 0.5000001, 0.49])
    assert spike(u, 0.5).tolist() == [0.0, 1.0, 0.0]


def test_lif_on_numpy_equals_torch():
    import numpy as np

    p = LIFParams()
    cur = torch.rand(50, 8) * 0.8
    st_t, st_n = LIFState.zeros(8), LIFState(np.zeros(8, np.float32), np.zeros(8, np.float32))
    for t in range(50):
        s_t, st_t = lif_step(cur[t], st_t, p)
        s_n, st_n = lif_step(cur[t].numpy(), st_n, p)
        assert np.array_equal(s_t.numpy(), s_n)
        assert np.allclose(st_t.u.numpy(), st_n.u, atol=1e-7)


@pytest.mark.parametrize("lens", [1.0, 0.5, 0.9**3])
def test_surrogate_is_the_derivative_of_its_primitive(lens):
    u = torch.linspace(-2, 3, 101, requires_grad=True)
    spike(u, 0.5, lens).sum().backward()
    surrogate = u.grad.clone()
    v = u.detach().clone().requires_grad_(True)
    surrogate_primitive(v, 0.5, lens).sum().backward()
    assert torch.allclose(surrogate, v.grad, atol=1e-7)
    assert surrogate.max() == pytest.approx(0.25 / lens, rel=1e-3)  # peak p(1-p)/lens at u = theta


def test_gradient_passes_through_the_reset_path():
    u0 = torch.tensor([0.7], requires_grad=True)  # spiked at t-1
    state = LIFState(u0, spike(u0, 0.5, 1.0))
    _, new = lif_step(torch.tensor([0.2]), state, LIFParams())
    new.u.sum().backward()
    assert torch.isfinite(u0.grad).all() and u0.grad.abs().sum() > 0
