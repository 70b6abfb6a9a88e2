import torch

from skipsnn_core import metrics


def test_precision_recall_by_hand():
    gate = torch.tensor([[1, 1, 0, 0, 1, 1, 0, 0]], dtype=torch.bool)
    signal = torch.tensor([[0, 1, 1, 1, 1, 0, 0, 0]], dtype=torch.bool)
    p, r = metrics.gate_precision_recall(gate, signal)
    assert p.item() == 0.5 and r.item() == 0.5  # 2 hits of 4 open, of 4 signal


def test_state_updates_and_oracle():
    gate = torch.zeros(2, 300, dtype=torch.bool)
    gate[:, :50] = True
    assert torch.allclose(metrics.state_updates(gate), torch.tensor([50 / 300] * 2))
    assert metrics.oracle_state_updates(50, 300) == 50 / 300


def test_synaptic_ops_formula_by_hand():
    events = torch.tensor([[3, 0]])  # admitted input events per step
    hidden = torch.tensor([[[1.0, 0, 1, 0], [0, 0, 0, 1]]])  # H = 4: 2 then 1 spikes
    pulses = torch.tensor([4, 1])
    ops = metrics.synaptic_ops(events, hidden, n_classes=10, n_pulses=pulses)
    # step 0: 3*4 + 2*10 + (2 + 4) = 38; step 1: 0 + 1*10 + (1 + 1) = 12
    assert ops.tolist() == [[38, 12]]
    assert metrics.synaptic_ops(events, hidden, 10, None).tolist() == [[32, 10]]
    assert metrics.synops_saving(torch.tensor([[25]]), torch.tensor([[100]])).item() == 0.75
