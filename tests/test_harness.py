"""NeuroBench's own metrics on a shipped checkpoint (skipsnn_core/harness.py), checked against our synops.

Needs the neurobench package (`python3 -m pip install --no-deps -r requirements-neurobench.txt`); without it these
tests skip and say why, or fail where SKIPSNN_REQUIRE_NEUROBENCH=1 (.ci/run sets it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from skipsnn_core import load_checkpoint
from skipsnn_core.data import BuiltinDigits, FrameSpec, framed
from skipsnn_core.harness import HarnessNet, NeuroBenchMissing, benchmark, require_neurobench
from skipsnn_core.train import NoiseSpec, noisy_batch

from tests.conftest import missing

ASSETS = Path(__file__).resolve().parents[1] / "assets"
T, LIMIT = 60, 3  # short sequences, three held-out digits: a few seconds per network under NeuroBench's hooks


@pytest.fixture
def neurobench():
    try:
        require_neurobench()
    except NeuroBenchMissing as e:
        missing(str(e), "SKIPSNN_REQUIRE_NEUROBENCH")


@pytest.fixture(scope="module")
def digits():
    return framed(BuiltinDigits("test"), FrameSpec(), shipped=ASSETS / "frames")


def test_neurobench_effective_acs_are_our_synops_on_a_shipped_checkpoint(neurobench, digits, capsys):
    from skipsnn_core.evaluate import main

    argv = ["--checkpoint", str(ASSETS / "digits_skipsnn.pt"), "--dataset", "digits", "--T", str(T), "--limit", str(LIMIT),
            "--noise-level", "2", "--neurobench", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    nb = out["neurobench"]
    gated, opened = nb["gated"], nb["forced_open"]
    assert gated["not_available"] == {} and opened["not_available"] == {}, "our harness hides nothing from the hooks"

    # Our synops, from another path than the harness's own cross-check: the model's trace of the same samples.
    model = load_checkpoint(ASSETS / "digits_skipsnn.pt", "cpu")
    x, _ = noisy_batch(digits, range(LIMIT), NoiseSpec(T, 2), seed=1234)
    trace = model.trace(x)
    ours_gated, ours_open = int(trace.gated.synops.sum()), int(trace.forced_open.synops.sum())
    assert round(gated["SynapticOperations"]["Effective_ACs"] * LIMIT) == ours_gated
    assert round(opened["SynapticOperations"]["Effective_ACs"] * LIMIT) == ours_open
    assert gated["SynapticOperations"]["Effective_MACs"] == 0 == opened["SynapticOperations"]["Effective_MACs"]

    # The gate's saving, as NeuroBench counts it, is our synops saving from the evaluate CLI (the numba kernels).
    saving = 1 - gated["SynapticOperations"]["Effective_ACs"] / opened["SynapticOperations"]["Effective_ACs"]
    assert saving > 0.05, "the fixture must make the gate skip frames"
    assert saving == pytest.approx(out["synops_saving"], abs=1e-12) == pytest.approx(nb["effective_acs_saving"], abs=1e-12)
    # NeuroBench averages in float32: compare the counts of correct samples.
    assert round(gated["ClassificationAccuracy"] * LIMIT) == round(out["accuracy"] * LIMIT)
    assert round(opened["ClassificationAccuracy"] * LIMIT) == round(out["forced_open_accuracy"] * LIMIT)
    assert nb["cross_check"]["gated"]["synops_equal"] and nb["cross_check"]["forced_open"]["accuracy_equal"]

    # Dense counts every frame, skipped or not: T x every synapse (the controller's only where it runs).
    N, H, C, K = 2312, 800, 10, 4
    assert gated["SynapticOperations"]["Dense"] == T * (N * H + H * C + (H + K))
    assert opened["SynapticOperations"]["Dense"] == T * (N * H + H * C)
    # Every parameter (float32) plus snnTorch's three scalar buffers (4 + 4 + 8 bytes) in each of three LIF layers.
    assert gated["Footprint"] == opened["Footprint"] == 4 * sum(p.numel() for p in model.parameters()) + 3 * 16
    # Membranes that changed at a step: at most every neuron at every step, and all of them at the first.
    assert (H + C) * 1 < opened["MembraneUpdates"] <= (H + C) * T
    assert gated["MembraneUpdates"] <= (H + C + 1) * T
    assert gated["hooks_saw"]["layers"] == {"fc_in (EventLinear)": T, "fc_out (Linear)": T, "fc_ctrl (Linear)": T}
    assert opened["hooks_saw"]["layers"]["fc_ctrl (Linear)"] == 0, "forced open, the controller does not run"


@pytest.mark.parametrize("change", ["mask", "freeze", "theta 0.8"])
def test_harness_net_runs_what_the_compiled_kernel_runs(neurobench, digits, change):
    model = load_checkpoint(ASSETS / "digits_skipsnn.pt", "cpu")
    theta = 0.8 if change == "theta 0.8" else None
    if change == "freeze":
        model = model.with_config(gate_mode="freeze")
    x, _ = noisy_batch(digits, range(4), NoiseSpec(T, 1), seed=5)
    from skipsnn_core.model import InferenceOptions

    options = InferenceOptions(controller_theta=theta)
    with torch.no_grad():
        kernel = model.simulate(x, options=options, engine="compiled")
        open_kernel = model.simulate(x, options=options, gate_override="open", engine="compiled")
    net = HarnessNet(model, "controller", options).run(x)
    assert 0 < float(kernel.gate.mean()) < 1, "the fixture must exercise both gate states"
    assert torch.equal(net.gate, kernel.gate)
    assert torch.equal(net.hidden_spikes, kernel.hidden_spikes)
    assert torch.equal(net.rates, kernel.rates)
    opened = HarnessNet(model, "open", options).run(x)
    assert bool(opened.gate.all()) and torch.equal(opened.hidden_spikes, open_kernel.hidden_spikes)
    assert torch.equal(opened.rates, open_kernel.rates)


class Direct(nn.Module):
    """The naive wrapping: SkipSNN itself as NeuroBench's network, returning its rates (B, C)."""

    def __init__(self, model, grad: bool):
        super().__init__()
        self.model, self.grad = model, grad

    def forward(self, x):
        with torch.set_grad_enabled(self.grad):  # no grad: the numba kernels; with grad: the torch engine
            return self.model.simulate(x).rates.detach()


@pytest.mark.parametrize("grad", [False, True], ids=["compiled kernels", "torch engine"])
def test_a_metric_the_hooks_cannot_see_is_not_available_with_a_reason(neurobench, digits, grad):
    from neurobench.models import TorchModel

    model = load_checkpoint(ASSETS / "digits_skipsnn.pt", "cpu")
    x, _ = noisy_batch(digits, range(2), NoiseSpec(T, 1), seed=1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, torch.from_numpy(digits.y[:2]).long()), batch_size=2)
    figures = benchmark(TorchModel(Direct(model, grad)), loader)
    why = figures.not_available
    assert "snnTorch SpikingNeuron" in why["MembraneUpdates"]
    assert "no activation module ran" in why["ActivationSparsity"]
    if grad:  # fc_out is called once on all steps' spikes, but the input synapses are a bare nn.Parameter
        assert figures.coverage["layers"]["model.fc_out (Linear)"] == 1
        assert "model.w_in" in why["SynapticOperations"] and "cannot count" in why["SynapticOperations"]
    else:  # the kernels take the weights as arrays: no module is called at all
        assert "no connection layer" in why["SynapticOperations"] and "model.fc_out (Linear)" in why["SynapticOperations"]
    # NeuroBench's harness prints the error and stores 0.0 for a metric that raises: we report its error instead.
    assert why["ClassificationAccuracy"].startswith("NeuroBench raised:") and "same shape" in why["ClassificationAccuracy"]
    assert not set(why) & set(figures.values), "a metric not available has no value, not a 0"
    assert figures.values["Footprint"] == 4 * sum(p.numel() for p in model.parameters())


def test_evaluate_says_how_to_install_neurobench_when_it_is_missing(monkeypatch, capsys):
    from skipsnn_core.evaluate import main

    monkeypatch.setitem(sys.modules, "neurobench.benchmarks", None)  # what a missing package raises: ImportError
    code = main(["--checkpoint", str(ASSETS / "digits_skipsnn.pt"), "--dataset", "digits", "--neurobench"])
    err = capsys.readouterr().err
    assert code == 2 and "pip install --no-deps -r requirements-neurobench.txt" in err and "torchaudio" in err


def test_published_neurobench_tables_are_written_from_the_cards():
    from skipsnn_core.cards import NB_BEGIN, NB_END, neurobench_markdown, neurobench_table

    cards = json.loads((ASSETS / "model_cards.json").read_text())
    assert all("neurobench" in c for c in cards.values()), "run python3 tools/model_cards.py"
    readme = (ASSETS.parent / "README.md").read_text()
    assert readme[readme.index(NB_BEGIN): readme.index(NB_END) + len(NB_END)] == neurobench_table(cards)
    shipped = (ASSETS / "MODEL_CARDS.md").read_text()
    for name, card in cards.items():
        nb = card["neurobench"]
        assert neurobench_markdown(nb) in shipped, name
        assert nb["n_samples"] == next(r for r in card["sweep"] if r["noise_level"] == 1)["n_samples"]
        assert all(nb["cross_check"][k]["synops_equal"] and nb["cross_check"][k]["accuracy_equal"]
                   for k in ("gated", "forced_open") if k in nb), f"{name}: NeuroBench disagrees with our figures"
