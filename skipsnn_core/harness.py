"""NeuroBench's own figures for a SkipSNN checkpoint, counted by the ``neurobench`` package's hooks.

    python -m skipsnn_core.evaluate --checkpoint assets/digits_skipsnn.pt --dataset digits --neurobench [--json]

NeuroBench (2.3.0) measures a network by hooks: a forward pre-hook on every ``nn.Linear``/``Conv``/``RNN`` layer
records what the layer was called with (``SynapticOperations``: one AC per non-zero input x non-zero weight, the
bias not counted, MACs where an input is not 0/1), a hook on every activation module records its outputs
(``ActivationSparsity``) and, for snnTorch ``SpikingNeuron`` modules only, their ``.mem`` before and after each
call (``MembraneUpdates``: the membranes whose value changed). ``SkipSNN`` itself offers it little to see: its input
synapses are an ``nn.Parameter`` summed by an embedding-bag (or by the numba kernels, which call no module at all),
and its neurons are pure step functions. So :class:`HarnessNet` runs the same weights and the same equations as a
per-step loop of modules that NeuroBench can hook, wrapped as NeuroBench's own ``TorchModel``:

- ``fc_in``: an ``nn.Linear`` (N -> H) holding ``w_in`` whose forward sums the weight rows of its input's non-zero
  entries (the torch engine's embedding-bag: the same current to the bit), called with the *gated* frame
  ``a[t-1] * x[t]``. A closed gate hands it an all-zero frame: it adds nothing and NeuroBench counts 0 effective ACs
  for it (its ``Dense`` still counts the frame), which is what the compiled kernel does (it sums the events of
  admitted frames only). (The torch training engine projects every frame and masks the current afterwards: it does
  work for skipped frames that no inference path does.)
- ``fc_out`` (H -> C) on the hidden spikes of each step, ``fc_ctrl`` (H + K -> 1) on the controller's input
  ``[s_h[t], P_k[t]]``: all 0/1, so NeuroBench counts ACs, as our ``synops`` does.
- three LIF layers (hidden, output, controller), each an snnTorch ``SpikingNeuron`` subclass whose forward is
  ``neurons.lif_step`` (state in, state out) and which mirrors its membrane in ``.mem`` for NeuroBench's hook.

The forced-open network is the same module with the gate held open and the controller not run (our synops of the
forced-open run count no controller either). ``report`` runs NeuroBench's ``Benchmark`` on both, checks what its
hooks saw, and cross-checks its effective ACs against our own synaptic operations from the numba kernels on the
same samples. A metric its hooks could not see, or one that raised (NeuroBench then stores 0.0), is reported as not
available with the reason, never as a 0.

``neurobench`` is optional (requirements-neurobench.txt, installed with ``--no-deps``): every import of it is inside
a function, and ``NeuroBenchMissing`` says how to install it.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .metrics import decode
from .model import InferenceOptions, SkipSNN, pulse_train
from .neurons import LIFParams, LIFState, lif_step

INSTALL = "python3 -m pip install --no-deps -r requirements-neurobench.txt"
STATIC = ("Footprint", "ConnectionSparsity")
WORKLOAD = ("ClassificationAccuracy", "ActivationSparsity", "SynapticOperations", "MembraneUpdates")


class NeuroBenchMissing(RuntimeError):
    """The ``neurobench`` package (or snnTorch, which it imports) is not installed."""


def require_neurobench() -> None:
    """Raise ``NeuroBenchMissing`` with the install command unless NeuroBench's harness and metrics import."""
    try:
        import neurobench.benchmarks  # noqa: F401
        import neurobench.metrics.static  # noqa: F401
        import neurobench.metrics.workload  # noqa: F401
        import neurobench.models  # noqa: F401
    except ImportError as e:
        raise NeuroBenchMissing(
            f"--neurobench needs the neurobench package ({e}); install it with `{INSTALL}` (no-deps: its own dependency "
            "list pulls torchaudio, whose binary does not load beside torch 2.13; the harness and metrics do not use it)"
        ) from e


@lru_cache(maxsize=None)
def lif_layer() -> type:
    """``LIFLayer``: a layer of SkipSNN's LIF neurons as an snnTorch ``SpikingNeuron`` (made on first use, so this
    module imports without snnTorch)."""
    from snntorch import SpikingNeuron

    class LIFLayer(SpikingNeuron):
        """``neurons.lif_step`` as a module NeuroBench's hooks recognise (by type: snnTorch's ``SpikingNeuron``).

        ``forward(current, state, opened)`` is pure: state in, (spikes, state) out. ``opened`` (B, 1) is given in
        freeze mode only: where 0 the layer holds its state and emits nothing. ``.mem`` mirrors the membrane after
        the last call, because NeuroBench's ``MembraneUpdates`` reads it before and after each call; nothing reads
        it back into the step. snnTorch's init registers three scalar buffers (threshold θ, reset mechanism
        "zero", graded-spike factor 1): 16 bytes in NeuroBench's Footprint per layer; their values are ours.
        """

        def __init__(self, params: LIFParams):
            super().__init__(threshold=params.theta, reset_mechanism="zero")
            self.params = params
            self.mem: Tensor | None = None

        def forward(self, current: Tensor, state: LIFState, opened: Tensor | None = None) -> tuple[Tensor, LIFState]:
            s, new = lif_step(current, state, self.params)
            if opened is not None:  # freeze: a hibernating layer keeps its state and emits nothing
                new = LIFState(opened * new.u + (1 - opened) * state.u, opened * new.s + (1 - opened) * state.s)
                s = opened * s
            self.mem = new.u
            return s, new

    return LIFLayer


class EventLinear(nn.Linear):
    """An ``nn.Linear`` whose forward sums the weight columns of its input's non-zero entries, scaled by them
    (``F.embedding_bag`` over ``weight.T``, as SkipSNN's torch engine projects a frame): the same current to the bit
    as the model's engines on 0/1 frames, and work only for the events. A mostly non-zero input (NeuroBench's
    all-ones count of ``Dense``) takes the dense product, the same sums."""

    def forward(self, x: Tensor) -> Tensor:  # (B, in) -> (B, out)
        if x.count_nonzero() * 4 > x.numel():
            return F.linear(x, self.weight, self.bias)
        rows, cols = x.nonzero(as_tuple=True)  # row-major: rows sorted
        counts = torch.bincount(rows, minlength=x.shape[0])
        offsets = torch.cumsum(counts, 0) - counts
        table = self.weight.t()  # (in, out): one row per input channel
        current = F.embedding_bag(cols, table, offsets, mode="sum", per_sample_weights=x[rows, cols].to(table.dtype))
        return current if self.bias is None else current + self.bias


def _linear(weight: Tensor, bias: Tensor, cls: type = nn.Linear) -> nn.Linear:
    layer = cls(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer


class HarnessRun(NamedTuple):
    """One run of :class:`HarnessNet`, detached."""

    predictions: Tensor  # (B,) argmax of rates; metrics.SILENT (-1) where no output neuron spiked
    rates: Tensor  # (B, C) output spikes per admitted frame
    gate: Tensor  # (B, T) 1.0 where frame t was admitted
    hidden_spikes: Tensor  # (B, T, H)


class HarnessNet(nn.Module):
    """SkipSNN's equations as a per-step loop of hookable modules (see the module docstring), the same weights.

    ``gate="controller"``: the controller decides (step 0 open); ``"open"``: every frame admitted, the controller not
    run. ``options``: the controller threshold, bias offset and gate mode, as ``SkipSNN.simulate`` takes them.
    ``forward`` returns the predictions (B,), which NeuroBench compares with the labels.
    """

    def __init__(self, model: SkipSNN, gate: Literal["controller", "open"] = "controller",
                 options: InferenceOptions = InferenceOptions()):
        super().__init__()
        cfg = model.config
        if gate not in ("controller", "open"):
            raise ValueError(f"gate must be 'controller' or 'open', got {gate!r}")
        self.config, self.freeze = cfg, (options.gate_mode or cfg.gate_mode) == "freeze"
        self.use_controller = cfg.controller and gate == "controller"
        LIF = lif_layer()
        hid = LIFParams(cfg.beta, cfg.theta)
        with torch.no_grad():
            self.fc_in = _linear(model.w_in.detach().t().cpu(), model.b_in.detach().cpu(), EventLinear)  # (H, N)
            self.lif_hidden = LIF(hid)
            self.fc_out = _linear(model.fc_out.weight.detach().cpu(), model.fc_out.bias.detach().cpu())
            self.lif_out = LIF(hid)
            if cfg.controller:  # kept when forced open too: the same weights, only not run
                theta_c = cfg.controller_theta if options.controller_theta is None else options.controller_theta
                self.fc_ctrl = _linear(model.fc_ctrl.weight.detach().cpu(),
                                       model.fc_ctrl.bias.detach().cpu() + options.bias_offset)
                self.lif_ctrl = LIF(LIFParams(cfg.beta, theta_c))

    @torch.no_grad()
    def run(self, x: Tensor) -> HarnessRun:
        """x (B, T, N) of 0/1 events."""
        B, T, N = x.shape
        cfg = self.config
        H, C = cfg.n_hidden, cfg.n_classes
        zeros = lambda *shape: torch.zeros(*shape)  # noqa: E731
        h, o, c = LIFState(zeros(B, H), zeros(B, H)), LIFState(zeros(B, C), zeros(B, C)), LIFState(zeros(B), zeros(B))
        layers = [self.lif_hidden, self.lif_out] + ([self.lif_ctrl] if self.use_controller else [])
        for layer, state in zip(layers, (h, o, c)):
            layer.mem = state.u  # what NeuroBench's pre-hook reads before the first step
        pulses = pulse_train(T, cfg.pulse_periods)  # (T, K)
        opened = torch.ones(B)  # (B,) step 0 is always open
        gates, hidden, out = [], [], []
        for t in range(T):
            frame = x[:, t].float() * opened[:, None]  # (B, N) a[t-1] x[t]: a closed gate admits no event
            held = opened[:, None] if self.freeze else None
            s_h, h = self.lif_hidden(self.fc_in(frame), h, held)  # (B, H)
            s_o, o = self.lif_out(self.fc_out(s_h), o, held)  # (B, C)
            gates.append(opened)
            hidden.append(s_h)
            out.append(s_o)
            if self.use_controller:
                a, c = self.lif_ctrl(self.fc_ctrl(torch.cat([s_h, pulses[t].expand(B, -1)], 1))[:, 0], c)  # (B,)
                opened = a
        gate = torch.stack(gates, 1)  # (B, T)
        rates = torch.stack(out, 1).sum(1) / gate.sum(1)[:, None]
        return HarnessRun(decode(rates), rates, gate, torch.stack(hidden, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.run(x).predictions


@lru_cache(maxsize=None)
def _hook_coverage() -> type:
    """A NeuroBench workload metric that records what its hooks saw in each batch (made on first use)."""
    from neurobench.metrics.abstract.workload_metric import AccumulatedMetric

    class HookCoverage(AccumulatedMetric):
        """Per layer, how many calls NeuroBench's hooks recorded: the evidence for which metrics could be counted."""

        def __init__(self):
            super().__init__(requires_hooks=True)
            self.reset()

        def reset(self):
            self.layers: dict[str, int] = {}
            self.activations: dict[str, int] = {}
            self.membranes: dict[str, int] = {}

        def __call__(self, model, preds, data):
            names = {id(m): n for n, m in model.__net__().named_modules()}
            for hook in model.connection_hooks:
                key = f"{names.get(id(hook.layer), '?')} ({type(hook.layer).__name__})"
                self.layers[key] = self.layers.get(key, 0) + len(hook.inputs)
            for hook in model.activation_hooks:
                key = f"{names.get(id(hook.layer), hook.name)} ({type(hook.layer).__name__})"
                self.activations[key] = self.activations.get(key, 0) + len(hook.activation_outputs)
                self.membranes[key] = self.membranes.get(key, 0) + len(hook.post_fire_mem_potential)
            return self.compute()

        def compute(self):
            return {"layers": dict(self.layers), "activations": dict(self.activations), "membranes": dict(self.membranes)}

    return HookCoverage


@dataclass(frozen=True)
class Figures:
    """NeuroBench's results for one network: ``values`` as its harness returned them (metric name -> value; the
    SynapticOperations entry a dict of Effective_MACs, Effective_ACs, Dense, per sample), ``not_available`` metric
    name -> why not (those are absent from ``values``), ``coverage`` the calls its hooks recorded per layer."""

    values: dict
    not_available: dict
    coverage: dict

    def as_dict(self) -> dict:
        return {**self.values, "not_available": dict(self.not_available), "hooks_saw": self.coverage}


_ERROR = re.compile(r"Error running (?:workload )?metric '([^']+)': (.*)")


def benchmark(nb_model, loader, static: tuple[str, ...] = STATIC, workload: tuple[str, ...] = WORKLOAD) -> Figures:
    """Run NeuroBench's ``Benchmark`` on a NeuroBench model over ``loader`` (x, y) and say what it could count.

    Its harness prints and swallows a metric's exception (a workload metric then reads 0.0, a static one None): the
    printed errors are captured and those metrics reported as not available, with the error. A hook-based metric
    whose hooks recorded nothing (no connection layer called, no activation module run, no snnTorch neuron with a
    ``.mem``) is not available either, with the reason.
    """
    require_neurobench()
    from neurobench.benchmarks import Benchmark
    from neurobench.metrics import static as static_metrics
    from neurobench.metrics import workload as workload_metrics

    coverage_metric = _hook_coverage()
    metrics = [[getattr(static_metrics, n) for n in static], [*(getattr(workload_metrics, n) for n in workload), coverage_metric]]
    bench = Benchmark(nb_model, loader, [], [], metrics)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
            results = bench.run(quiet=False)  # quiet=True would discard the errors it prints; the bar goes to stderr
    finally:
        bench.workload_metric_manager.cleanup_hooks(nb_model)
    coverage = results.pop(coverage_metric.__name__)
    missing = {m: f"NeuroBench raised: {msg}" for m, msg in _ERROR.findall(printed.getvalue())}
    if "ActivationSparsity" in workload and not any(coverage["activations"].values()):
        missing.setdefault("ActivationSparsity", "no activation module ran that NeuroBench's hooks recognise (by type: ReLU, "
                           "Sigmoid or snnTorch's SpikingNeuron)")
    if "MembraneUpdates" in workload and not any(coverage["membranes"].values()):
        missing.setdefault("MembraneUpdates", "NeuroBench reads membranes only from snnTorch SpikingNeuron modules with a "
                           "`.mem` (neurobench/hooks/neuron.py); no such module ran")
    if "SynapticOperations" in workload:
        outside = _outside_connection_layers(nb_model.__net__())
        if not any(coverage["layers"].values()):
            where = ", ".join(coverage["layers"]) or "none found"
            missing.setdefault("SynapticOperations", f"no connection layer (nn.Linear, Conv, RNN) was called; layers hooked: {where}")
        elif outside:
            missing.setdefault("SynapticOperations", f"the weights {', '.join(outside)} are not in an nn.Linear, Conv or RNN "
                               "layer, so NeuroBench's hooks cannot count their synapses (its count would leave them out)")
    values = {k: v for k, v in results.items() if k not in missing}
    return Figures(values, missing, coverage)


def _outside_connection_layers(net: nn.Module) -> list[str]:
    """Names of the network's parameters that NeuroBench's connection hooks cannot see: outside every nn.Linear,
    Conv and RNN layer and outside every snnTorch neuron (whose parameters are not synapses)."""
    from neurobench.blocks.layer import SUPPORTED_LAYERS
    from snntorch import SpikingNeuron

    inside = {id(p) for m in net.modules() if isinstance(m, (*SUPPORTED_LAYERS, SpikingNeuron)) for p in m.parameters()}
    return [name for name, p in net.named_parameters() if id(p) not in inside]


class _NoisySamples(torch.utils.data.Dataset):
    """Sample i of a split in its fixed noise, exactly as ``evaluate`` draws it (its own generator per sample)."""

    def __init__(self, data, noise, seed: int, n: int):
        self.data, self.noise, self.seed, self.n = data, noise, seed, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        from .train import noisy_batch

        x, _ = noisy_batch(self.data, range(i, i + 1), self.noise, self.seed)
        return x[0], torch.tensor(int(self.data.y[i]))


class _KernelRun(NamedTuple):
    synops: dict  # network -> our synaptic operations summed over the samples
    correct: dict  # network -> samples predicted right


def _kernel_run(model: SkipSNN, loader, options: InferenceOptions, networks: tuple[str, ...]) -> _KernelRun:
    """Our synaptic operations and correct predictions over the samples, from the model's own inference path (the
    numba kernels on the CPU), for the gated run and the same weights forced open (whose synops count no controller)."""
    synops, correct = dict.fromkeys(networks, 0), dict.fromkeys(networks, 0)
    cfg = model.config
    for x, y in loader:
        settings = [(None if name == "gated" else "open", options) for name in networks]
        runs, events = model.simulate_each(x, settings)
        for name, run in zip(networks, runs):
            with_controller = cfg.controller and name == "gated"
            synops[name] += int(model.synaptic_ops(events.cpu(), run.gate.cpu(), run.hidden_spikes.cpu(), with_controller).sum())
            correct[name] += int((decode(run.rates.cpu()) == y).sum())
    return _KernelRun(synops, correct)


NOTES = (
    "NeuroBench counts per sample: Effective_ACs = non-zero 0/1 inputs x non-zero weights over every nn.Linear call "
    "(bias not counted), Effective_MACs = the same for non-binary inputs (none here: frames, spikes and pulses are 0/1), "
    "Dense = every input x every weight of every call.",
    "The gate reaches the input layer as a 0/1 factor on the frame: a skipped frame arrives as an all-zero frame, its "
    "event-driven Linear adds nothing and NeuroBench counts 0 effective ACs for it (Dense still counts it); the "
    "compiled kernel skips the frame's events outright.",
    "Forced open: the same weights with every frame admitted and the controller not run (as our synops count it).",
    "MembraneUpdates counts membranes whose value changed at a step: in mask mode a closed frame still decays the "
    "membranes and adds the bias, until a membrane reaches its float32 fixed point.",
)


def report(model: SkipSNN, data, noise, *, seed: int = 1234, controller_theta: float | None = None,
           limit: int | None = None, batch_size: int = 32) -> dict:
    """NeuroBench's figures for the gated network and the same weights forced open on a split in fixed noise (the
    samples ``evaluate`` uses with the same seed and limit), the Effective_ACs saving, and the cross-check against
    our synaptic operations from the model's own inference path on the same samples. JSON-ready."""
    require_neurobench()
    from neurobench.models import TorchModel

    model = model.cpu()
    n = len(data.y) if limit is None else min(limit, len(data.y))
    loader = torch.utils.data.DataLoader(_NoisySamples(data, noise, seed, n), batch_size=batch_size)
    options = InferenceOptions(controller_theta=controller_theta)
    networks = ("gated", "forced_open") if model.config.controller else ("gated",)
    out: dict = {"n_samples": n, "neurobench_version": _version()}
    for name in networks:
        nb_model = TorchModel(HarnessNet(model, "controller" if name == "gated" else "open", options))
        nb_model.add_activation_module(lif_layer())
        out[name] = benchmark(nb_model, loader).as_dict()
    kernel = _kernel_run(model, loader, options, networks)
    acs = {k: out[k].get("SynapticOperations", {}).get("Effective_ACs") for k in networks}
    cross: dict = {}
    for k in networks:
        accuracy = out[k].get("ClassificationAccuracy")
        cross[k] = {"ours_synops_per_sample": kernel.synops[k] / n, "neurobench_effective_acs": acs[k],
                    "synops_equal": acs[k] is not None and round(acs[k] * n) == kernel.synops[k],
                    "kernel_accuracy": kernel.correct[k] / n,
                    "accuracy_equal": accuracy is not None and round(accuracy * n) == kernel.correct[k]}
    if model.config.controller:
        cross["ours_synops_saving"] = 1 - kernel.synops["gated"] / max(kernel.synops["forced_open"], 1)
        if None not in acs.values():
            out["effective_acs_saving"] = 1 - acs["gated"] / acs["forced_open"]
    equal = all(cross[k]["synops_equal"] for k in networks)
    zero_weights = out["gated"].get("ConnectionSparsity")
    cross["explained"] = ("equal: both count one addition per 0/1 input x weight (input events x H + hidden spikes x C + "
                          "the controller's hidden spikes and pulses), bias excluded; no weight is exactly 0 "
                          f"(ConnectionSparsity {zero_weights})") if equal else (
        "not equal: NeuroBench skips weights that are exactly 0 (ConnectionSparsity "
        f"{zero_weights}), our synops count every synapse of an event; or the harness's run differs from the kernel's")
    out["cross_check"] = cross
    out["notes"] = list(NOTES)
    return out


def _version() -> str:
    from importlib.metadata import version

    return version("neurobench")


def format_report(nb: dict) -> str:
    """The report as a few lines of text for the evaluate CLI."""
    def value(fig: dict, key: str, sub: str | None = None) -> str:
        if key in fig.get("not_available", {}):
            return "n/a"
        v = fig.get(key)
        v = v.get(sub) if sub and isinstance(v, dict) else v
        return f"{v:,.0f}" if isinstance(v, (int, float)) and abs(v) >= 100 else f"{v:.4g}" if isinstance(v, float) else str(v)

    rows = [("Footprint (bytes)", "Footprint", None), ("ConnectionSparsity", "ConnectionSparsity", None),
            ("ClassificationAccuracy", "ClassificationAccuracy", None), ("ActivationSparsity", "ActivationSparsity", None),
            ("Effective_ACs / sample", "SynapticOperations", "Effective_ACs"),
            ("Effective_MACs / sample", "SynapticOperations", "Effective_MACs"),
            ("Dense / sample", "SynapticOperations", "Dense"), ("MembraneUpdates / sample", "MembraneUpdates", None)]
    nets = [k for k in ("gated", "forced_open") if k in nb]
    lines = [f"NeuroBench {nb['neurobench_version']} harness, {nb['n_samples']} samples (its TorchModel over our time loop)",
             f"{'metric':<26}" + "".join(f"{k if len(nets) > 1 else 'plain SNN':>16}" for k in nets)]
    lines += [f"{label:<26}" + "".join(f"{value(nb[k], key, sub):>16}" for k in nets) for label, key, sub in rows]
    c = nb["cross_check"]
    if "effective_acs_saving" in nb:
        lines.append(f"Effective_ACs saved by the gate: {nb['effective_acs_saving']:.1%} (our synops saving on the same "
                     f"samples: {c['ours_synops_saving']:.1%})")
    for k in nets:
        lines.append(f"cross-check ({k}): NeuroBench Effective_ACs {c[k]['neurobench_effective_acs']} vs our synops "
                     f"{c[k]['ours_synops_per_sample']} per sample; ClassificationAccuracy vs the compiled kernel's "
                     f"{c[k]['kernel_accuracy']:.4g}: {'equal' if c[k]['accuracy_equal'] else 'NOT equal'}")
    lines.append(f"cross-check: {c['explained']}")
    for k in nets:
        for metric, why in nb[k]["not_available"].items():
            lines.append(f"not available ({k}): {metric}: {why}")
    lines += [f"note: {n}" for n in nb["notes"]]
    return "\n".join(lines)
