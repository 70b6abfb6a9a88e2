"""On a machine with CUDA: the GPU path equals the CPU path and the reference loop."""

import pytest
import torch

from bench.reference_loop import reference_run, weights_of
from skipsnn_core.noise import embed_batch
from tests.test_model import lively

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("engine", ["triton", "torch"])
@pytest.mark.parametrize("mode", ["mask", "freeze"])
def test_cuda_trace_equals_cpu_and_reference(nmnist_signals, mode, engine):
    if engine == "triton":
        pytest.importorskip("triton")
    signals, _ = nmnist_signals
    x, _, _ = embed_batch(signals, 300, level=1, generator=torch.Generator().manual_seed(3))
    cpu = lively(gate_mode=mode)
    gpu = lively(gate_mode=mode).cuda()
    t_cpu, t_gpu = cpu.trace(x), gpu.trace(x.cuda(), engine=engine)
    assert t_gpu.gate.device.type == "cpu", "trace results come back on the CPU"
    assert torch.equal(t_cpu.gate, t_gpu.gate)
    assert torch.allclose(t_cpu.rates, t_gpu.rates, atol=1e-5)
    ref = reference_run(weights_of(cpu), x[0], mode=mode)
    assert torch.equal(t_gpu.gate[0].float(), ref["gate"])
    assert torch.equal(t_cpu.hidden_spikes, t_gpu.hidden_spikes) and torch.equal(t_cpu.output_spikes, t_gpu.output_spikes)
    assert torch.allclose(t_cpu.hidden_u, t_gpu.hidden_u, atol=1e-5, rtol=1e-5)


def test_cuda_training_step_gives_finite_gradients(nmnist_signals):
    signals, labels = nmnist_signals
    x, _, _ = embed_batch(signals, 300, level=1, generator=torch.Generator().manual_seed(3))
    m = lively().cuda().train()
    run = m.simulate(x.cuda())
    target = torch.nn.functional.one_hot(torch.tensor(labels), 10).float().cuda()
    (torch.nn.functional.mse_loss(run.rates, target) + 0.5 * run.penalty()).backward()
    for name, p in m.named_parameters():
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
