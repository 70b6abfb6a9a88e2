"""SkipSNN: a spiking network whose controller neuron decides which input frames it sees.

    input x[t] (N) --gate--> hidden LIF (H) --> output LIF (C)
                                 |
          [s_h[t] (detached), P_1, P_2, P_10, P_100] --> controller LIF (1) --> a[t]

Step 0 is always open; at t >= 1 the hidden layer receives ``a[t-1] * x[t]``. With
``controller=False`` in the config the same module is the plain SNN (gate always open).
See ``shared/SKIPSNN.md`` for the algorithm this file states.

Speed: the input projection is event-driven. The torch, numpy and triton engines get it for
all steps at once (one embedding-bag over the non-zero entries of x, since ``W (a x) = a (W x)``);
the compiled engine (CPU inference) gets x's events instead and sums the weight rows of a frame's
events inside its kernel, only at steps whose gate is open (a gated run admits ~20 % of frames),
so no (B, T, H) current is made. The output layer, which feeds nothing back, runs after the
hidden/controller recurrence on currents summed over the spikes (one matmul on the array engines).
Only the hidden + controller recurrence is sequential.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, NamedTuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .metrics import decode, synaptic_ops
from .neurons import LIFParams, LIFState, lif_step

if TYPE_CHECKING:
    from .kernels import Events

GateMode = Literal["mask", "freeze"]
# None: the controller decides; "open"/"closed": forced everywhere (step 0 stays open);
# a (T,) or (B, T) tensor: -1 where the controller decides, 0 forced closed, 1 forced open.
GateOverride = Union[None, Literal["open", "closed"], Tensor]
Engine = Literal["auto", "torch", "numpy", "compiled", "triton"]  # how the recurrence runs; see SkipSNN.simulate


def _engine_for(engine: Engine, device: torch.device, autograd: bool) -> Engine:
    """The engine "auto" stands for, or a clear error for one that cannot run here."""
    import os

    if engine == "auto":
        if autograd:
            return "torch"
        if device.type == "cpu":
            return "compiled"
        return "triton" if device.type == "cuda" and has_triton() else "torch"
    if engine != "torch" and autograd:
        raise ValueError(f"engine {engine!r} runs inference only (no autograd)")
    if engine in ("numpy", "compiled") and device.type != "cpu":
        raise ValueError(f"engine {engine!r} runs on the CPU only, the model is on {device}")
    if engine == "triton" and device.type != "cuda" and os.environ.get("TRITON_INTERPRET") != "1":
        raise ValueError("engine 'triton' needs a CUDA GPU (or TRITON_INTERPRET=1 for tests)")
    return engine


def has_triton() -> bool:
    import importlib.util

    return importlib.util.find_spec("triton") is not None


@dataclass(frozen=True)
class SkipSNNConfig:
    n_inputs: int = 2 * 34 * 34  # input channels N (N-MNIST: polarity x 34 x 34)
    n_hidden: int = 800  # hidden LIF neurons H
    n_classes: int = 10  # output LIF neurons C
    beta: float = 0.1  # membrane decay of every LIF neuron
    theta: float = 0.5  # firing threshold of hidden and output neurons
    controller: bool = True  # False: plain SNN, no controller, gate always open
    controller_theta: float = 0.5  # controller threshold (may be changed at inference)
    pulse_periods: tuple[int, ...] = (1, 2, 10, 100)  # synchronisation pulses P_k[t] = [t mod k == 0]
    gate_mode: GateMode = "mask"  # "mask": reference (inputs silenced); "freeze": paper (state held)

    def __post_init__(self) -> None:
        if min(self.n_inputs, self.n_hidden, self.n_classes) < 1:
            raise ValueError(f"layer sizes must be positive, got {self}")
        if self.gate_mode not in ("mask", "freeze"):
            raise ValueError(f"gate_mode must be 'mask' or 'freeze', got {self.gate_mode!r}")
        if any(k < 1 for k in self.pulse_periods):
            raise ValueError(f"pulse periods must be >= 1, got {self.pulse_periods}")


@dataclass(frozen=True)
class InferenceOptions:
    """What may change at inference without retraining. Hashable: a cache key for the UI."""

    controller_theta: float | None = None  # None: the config's threshold
    bias_offset: float = 0.0  # added to the controller's bias
    gate_mode: GateMode | None = None  # None: the config's mode


def pulse_train(T: int, periods: tuple[int, ...], device=None) -> Tensor:
    """Synchronisation pulses, (T, len(periods)): P_k[t] = 1 where t mod k == 0."""
    t = torch.arange(T, device=device)[:, None]
    k = torch.tensor(periods, device=device)[None, :]
    return (t % k == 0).float()


class _Inputs(NamedTuple):
    """x (B, T, N) as an engine takes it (``SkipSNN._inputs``)."""

    current: Tensor | None  # (B, T, H) W_in^T x[t], no bias; None for the compiled engine, which sums the events
    events: Events | None  # the non-zero entries of the B * T frames (compiled engine only), else None
    counts: Tensor  # (B, T) input events per frame

    def twice(self) -> "_Inputs":
        """The samples, then the same samples again (``trace``: gated and forced-open rows), events shared."""
        return _Inputs(None if self.current is None else torch.cat([self.current, self.current]),
                       None if self.events is None else self.events.twice(), torch.cat([self.counts, self.counts]))


class Run(NamedTuple):
    """Output of one simulation; tensors keep their graph (for training)."""

    rates: Tensor  # (B, C) output spikes per open step
    controller_spikes: Tensor  # (B, T) a[t], with surrogate gradient
    gate: Tensor  # (B, T) 1.0 where frame t was admitted
    n_open: Tensor  # (B,) admitted frames, no gradient
    out_spikes: Tensor  # (B, T, C)
    hidden_spikes: Tensor  # (B, T, H)
    hidden_u: Tensor | None  # (B, T, H)
    output_u: Tensor | None  # (B, T, C)
    controller_u: Tensor | None  # (B, T)

    def penalty(self) -> Tensor:
        """mean_{b,t} a[t] over the T-1 gating decisions a[0..T-2]."""
        return self.controller_spikes[:, :-1].mean()


@dataclass(frozen=True)
class Readout:
    """What a reader takes from one run (gated or forced open). CPU tensors."""

    rates: Tensor  # (B, C) output spikes per open step
    prediction: Tensor  # (B,) argmax of rates; metrics.SILENT (-1) where no output neuron spiked
    confidence: Tensor  # (B,) share of the predicted class in the summed rates (0 if silent)
    evidence: Tensor  # (B, T, C) running rate: output spikes so far / open steps so far
    n_open: Tensor  # (B,) admitted frames
    synops: Tensor  # (B, T) synaptic operations per step

    @property
    def state_updates(self) -> Tensor:
        """(B,) fraction of steps whose frame was admitted, N_open / T."""
        return self.n_open / self.evidence.shape[1]

    @property
    def silent(self) -> Tensor:
        """(B,) bool: no output spike in the whole run, so no prediction."""
        return self.prediction < 0


@dataclass(frozen=True)
class Trace:
    """Everything the UI shows about one inference, detached and on the CPU.

    Shapes: B samples, T steps, H hidden, C classes, K pulses.
    """

    gate: Tensor  # (B, T) bool, True where frame t was admitted (step 0 always True)
    controller_u: Tensor  # (B, T) controller membrane (zeros for a plain SNN)
    controller_spikes: Tensor  # (B, T) bool, a[t]: the decision for frame t+1
    controller_theta: float  # threshold the controller used
    pulses: Tensor  # (T, K) synchronisation pulses
    hidden_spikes: Tensor  # (B, T, H) bool
    hidden_u: Tensor  # (B, T, H)
    output_spikes: Tensor  # (B, T, C) bool
    output_u: Tensor  # (B, T, C)
    gated: Readout  # the run as the gate decided (or as overridden)
    forced_open: Readout  # the same weights with the gate forced open
    gate_mode: GateMode
    output_theta: float  # threshold of output (and hidden) neurons
    has_controller: bool = True  # False: a plain SNN, whose gate is always open and controller_* are zeros
    bias_offset: float = 0.0  # added to the controller's bias for this inference

    @property
    def rates(self) -> Tensor:
        return self.gated.rates

    @property
    def prediction(self) -> Tensor:
        return self.gated.prediction

    @property
    def confidence(self) -> Tensor:
        return self.gated.confidence


def _override_tensors(override: GateOverride, B: int, T: int, device) -> tuple[Tensor, Tensor] | None:
    """(forced, value), each (B, T): where ``forced`` the gate is ``value``."""
    if override is None:
        return None
    if isinstance(override, str):
        if override not in ("open", "closed"):
            raise ValueError(f"gate_override must be None, 'open', 'closed' or a tensor, got {override!r}")
        value = torch.full((B, T), 1.0 if override == "open" else 0.0, device=device)
        return torch.ones(B, T, dtype=torch.bool, device=device), value
    o = torch.as_tensor(override, device=device)
    if o.dim() == 1:
        o = o.expand(B, -1)
    if o.shape != (B, T):
        raise ValueError(f"gate_override tensor must be (T,) or (B, T) = ({B}, {T}), got {tuple(o.shape)}")
    if not bool(((o == -1) | (o == 0) | (o == 1)).all()):
        raise ValueError("gate_override tensor values must be -1 (free), 0 (closed) or 1 (open)")
    return o >= 0, o.clamp(min=0).float()


class SkipSNN(nn.Module):
    def __init__(self, config: SkipSNNConfig):
        super().__init__()
        self.config = config
        N, H, C = config.n_inputs, config.n_hidden, config.n_classes
        # Input weights stored one row per input channel, so an event selects a row.
        bound = N**-0.5  # nn.Linear's default init
        self.w_in = nn.Parameter(torch.empty(N, H).uniform_(-bound, bound))  # (N, H)
        self.b_in = nn.Parameter(torch.empty(H).uniform_(-bound, bound))  # (H,)
        self.fc_out = nn.Linear(H, C)
        if config.controller:
            K = len(config.pulse_periods)
            self.fc_ctrl = nn.Linear(H + K, 1)  # input [s_h (H), pulses (K)]
            nn.init.uniform_(self.fc_ctrl.weight, 0.0, 1.0)  # untrained gate starts open
            nn.init.uniform_(self.fc_ctrl.bias, 0.0, 1.0)
        self.meta: dict = {}

    @property
    def device(self) -> torch.device:
        return self.w_in.device

    def input_current(self, x: Tensor) -> Tensor:
        """W_in^T x[t] for every step at once, event-driven: (B, T, N) -> (B, T, H), no bias."""
        return self._project(x)[0]

    def _frames(self, x: Tensor) -> Tensor:
        """x (B, T, N) as B * T frames (rows), after checking its channels."""
        B, T, N = x.shape
        if N != self.config.n_inputs:
            raise ValueError(f"input has {N} channels, the model expects {self.config.n_inputs}")
        return x.reshape(B * T, N)

    def _project(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``input_current`` and the events of each frame (B, T), which the projection counts anyway."""
        B, T, N = x.shape
        flat = self._frames(x)
        if flat.device.type == "cpu" and not (torch.is_grad_enabled() and self.w_in.requires_grad):
            from . import kernels  # one compiled pass over the frames, the batch split over the CPU's cores

            current, counts = kernels.project(flat.numpy(), self.w_in.detach(), rows_per_sample=T)
            return current.reshape(B, T, -1), counts.reshape(B, T)
        rows, cols = flat.nonzero(as_tuple=True)  # row-major: rows sorted
        counts = torch.bincount(rows, minlength=B * T)
        offsets = torch.cumsum(counts, 0) - counts
        weights = flat[rows, cols].to(self.w_in.dtype)
        current = F.embedding_bag(cols, self.w_in, offsets, mode="sum", per_sample_weights=weights)
        return current.reshape(B, T, -1), counts.reshape(B, T)

    def _engine(self, engine: Engine) -> Engine:
        """The engine that runs here (see ``simulate``): "auto" resolved, or a clear error."""
        return _engine_for(engine, self.device, torch.is_grad_enabled() and self.w_in.requires_grad)

    def _inputs(self, x: Tensor, engine: Engine) -> _Inputs:
        """x (B, T, N) as the (resolved) ``engine`` takes it: the compiled kernels get x's events (found in one
        compiled pass, the batch split over the CPU's cores) and sum their weight rows themselves, on admitted
        frames only; the other engines get the input current."""
        x = x.to(self.device)
        if engine == "compiled":
            from . import kernels

            B, T, _ = x.shape
            found = kernels.batch_events(self._frames(x).numpy(), rows_per_sample=T)
            return _Inputs(None, found, torch.from_numpy(found.counts).reshape(B, T))
        current, counts = self._project(x)
        return _Inputs(current, None, counts)

    def simulate(
        self,
        x: Tensor,
        *,
        lens: float = 1.0,
        options: InferenceOptions = InferenceOptions(),
        gate_override: GateOverride = None,
        record: bool = False,
        engine: Engine = "auto",
    ) -> Run:
        """Run the network over x (B, T, N) of 0/1 events.

        ``engine``: "torch" runs the step functions on tensors (training; the reference);
        "numpy" runs the same step functions on arrays; "compiled" runs the numba kernels of
        kernels.py (CPU), which take x's events and sum an admitted frame's weight rows themselves;
        "triton" the Triton kernels of kernels_triton.py (GPU). "auto": torch
        with autograd, compiled on the CPU, triton on CUDA when installed, else torch.
        """
        engine = self._engine(engine)
        return self._run(self._inputs(x, engine), lens, options, gate_override, record, engine)

    def _run(self, inputs: _Inputs, lens: float, options: InferenceOptions, gate_override: GateOverride, record: bool,
             engine: Engine) -> Run:
        """``simulate`` from x as ``_inputs(x, engine)`` gave it, ``engine`` resolved."""
        cfg = self.config
        B, T = inputs.counts.shape
        dev = self.device
        mode = options.gate_mode or cfg.gate_mode
        hid = LIFParams(cfg.beta, cfg.theta, lens)
        theta_c = cfg.controller_theta if options.controller_theta is None else options.controller_theta
        ctl = LIFParams(cfg.beta, theta_c, lens)

        forced = _override_tensors(gate_override, B, T, dev)
        if forced is None:
            forced = (torch.zeros(B, T, dtype=torch.bool, device=dev), torch.zeros(B, T, device=dev))
        w_ctrl_h = ctrl_drive = None
        if cfg.controller:
            H = cfg.n_hidden
            w_ctrl_h = self.fc_ctrl.weight[0, :H]  # (H,)
            pulses = pulse_train(T, cfg.pulse_periods, dev)  # (T, K)
            ctrl_drive = pulses @ self.fc_ctrl.weight[0, H:] + self.fc_ctrl.bias + options.bias_offset  # (T,)

        if engine in ("compiled", "triton"):
            return self._run_kernels(engine, inputs, ctrl_drive, w_ctrl_h, forced, hid, ctl, mode == "freeze", record)
        current = inputs.current  # (B, T, H)
        lean = engine == "numpy"
        convert = (lambda v: v.detach().numpy()) if lean else (lambda v: v)
        stack = (lambda vs, dim: torch.from_numpy(np.stack(vs, dim))) if lean else torch.stack
        arrays = [convert(v) if v is not None else None for v in (current, self.b_in, w_ctrl_h, ctrl_drive)]
        forced_f = convert(forced[0].to(current.dtype))
        rec = _recurrence(
            *arrays, forced_f, convert(forced[1]), hid, ctl, freeze=mode == "freeze", record=record
        )
        gate = stack(rec.gates, 1)  # (B, T)
        s_h_all = stack(rec.hidden_spikes, 1)  # (B, T, H)
        w_out, b_out = convert(self.fc_out.weight), convert(self.fc_out.bias)
        out_current = s_h_all.numpy() @ w_out.T + b_out if lean else self.fc_out(s_h_all)  # (B, T, C)
        s_out, u_out = _output_recurrence(out_current, convert(gate), hid, freeze=mode == "freeze")
        out_spikes = stack(s_out, 1)  # (B, T, C)
        n_open = gate.detach().sum(1)  # (B,) = 1 + sum_{t<T-1} a[t] when not overridden
        rates = out_spikes.sum(1) / n_open[:, None]
        zeros = torch.zeros(B, T, device=gate.device)
        return Run(
            rates=rates,
            controller_spikes=stack(rec.controller_spikes, 1) if cfg.controller else zeros,
            gate=gate,
            n_open=n_open,
            out_spikes=out_spikes,
            hidden_spikes=s_h_all,
            hidden_u=stack(rec.hidden_u, 1) if record else None,
            output_u=stack(u_out, 1) if record else None,
            controller_u=(stack(rec.controller_u, 1) if cfg.controller else zeros) if record else None,
        )

    def _run_kernels(self, engine: Engine, inputs: _Inputs, ctrl_drive, w_ctrl_h, forced, hid: LIFParams,
                     ctl: LIFParams, freeze: bool, record: bool) -> Run:
        """``_run`` through fused kernels, the same equations: numba on the CPU (kernels.py: from x's events, the
        input and output currents summed inside the hidden layer's kernel) or one Triton launch per layer on the
        GPU (kernels_triton.py, from the input current; on a CPU only under TRITON_INTERPRET=1, for tests)."""
        if engine == "compiled":
            from . import kernels as backend

            to, back = (lambda v: None if v is None else v.detach().numpy()), torch.from_numpy
        else:
            from . import kernels_triton as backend

            to, back = (lambda v: v), (lambda v: v)
        args = (to(self.b_in), to(w_ctrl_h), to(ctrl_drive), to(forced[0].float()), to(forced[1].float()))
        settings = dict(beta=hid.beta, theta=hid.theta, theta_c=ctl.theta, freeze=freeze, record=record)
        if engine == "compiled":
            gates, s_h, u_h, a, u_c, out_current = backend.hidden_controller(
                inputs.events, to(self.w_in), *args, **settings, w_out=to(self.fc_out.weight), b_out=to(self.fc_out.bias))
        else:
            gates, s_h, u_h, a, u_c = backend.hidden_controller(inputs.current, *args, **settings)
            out_current = self.fc_out(s_h)  # (B, T, C): one matrix product
        gate, hidden = back(gates), back(s_h)
        s_o, u_o = backend.output_layer(out_current if engine == "compiled" else to(out_current), to(gate), beta=hid.beta,
                                        theta=hid.theta, freeze=freeze)
        out_spikes = back(s_o)
        n_open = gate.sum(1)
        return Run(
            rates=out_spikes.sum(1) / n_open[:, None],
            controller_spikes=back(a),
            gate=gate,
            n_open=n_open,
            out_spikes=out_spikes,
            hidden_spikes=hidden,
            hidden_u=back(u_h) if record else None,
            output_u=back(u_o) if record else None,
            controller_u=back(u_c) if record else None,
        )

    def simulate_each(self, x: Tensor, settings: Sequence[tuple[GateOverride, InferenceOptions]]
                      ) -> tuple[Iterator[Run], Tensor]:
        """Inference runs of the same x (B, T, N), one per (gate override, options), sharing one pass over x
        (its events, or the input projection for engines that take a current; evaluation runs the gated network
        at each threshold, the forced-open and the oracle one on every batch), and the events of each frame
        (B, T). The runs are made one at a time as the caller iterates, so only one run's spikes are held at once."""
        engine = self._engine("auto")
        inputs = self._inputs(x, engine)
        runs = (self._run(inputs, 1.0, options, override, record=False, engine=engine) for override, options in settings)
        return runs, inputs.counts

    def forward(self, x: Tensor, lens: float = 1.0) -> Run:
        return self.simulate(x, lens=lens)

    @torch.no_grad()
    def trace(
        self,
        x: Tensor,
        *,
        controller_theta: float | None = None,
        bias_offset: float = 0.0,
        gate_mode: GateMode | None = None,
        gate_override: GateOverride = None,
        engine: Engine = "auto",
    ) -> Trace:
        """Inference with everything recorded, plus the same sample with the gate forced open.

        The gated and forced-open runs share one batched pass: rows [x; x] (the same events, or the
        same input current, twice), the second half overridden to "open".
        """
        if x.dim() == 2:
            x = x[None]
        B, T, _ = x.shape
        options = InferenceOptions(controller_theta, bias_offset, gate_mode)
        own = _override_tensors(gate_override, B, T, "cpu")
        free = (torch.zeros(B, T, dtype=torch.bool), torch.zeros(B, T))
        forced, value = own if own is not None else free
        override = torch.cat([torch.where(forced, value, -1.0), torch.ones(B, T)]).to(self.device)
        engine = self._engine(engine)
        inputs = self._inputs(x, engine)
        run = self._run(inputs.twice(), 1.0, options, override, record=True, engine=engine)
        run = Run(*(v.detach().cpu() if isinstance(v, Tensor) else v for v in run))
        cfg = self.config
        theta_c = cfg.controller_theta if controller_theta is None else controller_theta
        mode = gate_mode or cfg.gate_mode
        events = inputs.counts.cpu()  # (B, T) input events per frame
        half = slice(0, B), slice(B, 2 * B)
        readouts = []
        for rows, with_controller in zip(half, (cfg.controller, False)):
            ops = self.synaptic_ops(events, run.gate[rows], run.hidden_spikes[rows], with_controller)
            readouts.append(_readout(run, rows, ops))
        return Trace(
            gate=run.gate[half[0]].bool(),
            controller_u=run.controller_u[half[0]].clone(),  # clones: a view would keep (and pickle) both halves
            controller_spikes=run.controller_spikes[half[0]].bool(),
            controller_theta=float(theta_c),
            pulses=pulse_train(T, cfg.pulse_periods),
            hidden_spikes=run.hidden_spikes[half[0]].bool(),
            hidden_u=run.hidden_u[half[0]].clone(),
            output_spikes=run.out_spikes[half[0]].bool(),
            output_u=run.output_u[half[0]].clone(),
            gated=readouts[0],
            forced_open=readouts[1],
            gate_mode=mode,
            output_theta=cfg.theta,
            has_controller=cfg.controller,
            bias_offset=float(bias_offset),
        )

    def synaptic_ops(self, events: Tensor, gate: Tensor, hidden_spikes: Tensor, with_controller: bool) -> Tensor:
        """Synaptic operations per step (B, T) of a run: ``events`` (B, T) input events per frame,
        ``gate`` and ``hidden_spikes`` from the run; the controller's input counts only ``with_controller``."""
        T = gate.shape[1]
        pulses = pulse_train(T, self.config.pulse_periods).sum(1) if with_controller else None
        return synaptic_ops(events * gate, hidden_spikes, self.config.n_classes, pulses)

    def with_config(self, **changes) -> "SkipSNN":
        """A copy of this model with config fields changed and the same weights where they fit."""
        other = SkipSNN(replace(self.config, **changes)).to(self.device)
        other.load_state_dict(self.state_dict(), strict=False)
        other.meta = dict(self.meta)
        return other


class _Recorded(NamedTuple):
    gates: list  # T x (B,)
    hidden_spikes: list  # T x (B, H)
    hidden_u: list  # T x (B, H), when recorded
    controller_spikes: list  # T x (B,)
    controller_u: list  # T x (B,), when recorded


def _recurrence(current, b_in, w_ctrl_h, ctrl_drive, forced, value, hid, ctl, *, freeze, record) -> _Recorded:
    """The sequential part: hidden layer and controller, step by step.

    Array-agnostic (torch or NumPy). current (B, T, H) without bias; w_ctrl_h (H,) and
    ctrl_drive (T,) are None for a plain SNN; forced/value (B, T): override as 0/1 floats.
    """
    B, T, H = current.shape
    zeros_h, zeros_c = current[:, 0] * 0, current[:, 0, 0] * 0
    h, c = LIFState(zeros_h, zeros_h), LIFState(zeros_c, zeros_c)
    always = zeros_c + 1
    currents, forced_at, value_at = _per_step(current), _per_step(forced), _per_step(value)
    drives = _per_step(ctrl_drive[None]) if ctrl_drive is not None else None  # T x (1,)
    out = _Recorded([always], [], [], [], [])
    for t in range(T):
        opened = out.gates[t][:, None]  # (B, 1); step 0 always open
        if freeze:  # hibernating layers hold their state and emit nothing
            s_new, h_new = lif_step(currents[t] + b_in, h, hid)
            h = LIFState(_blend(opened, h_new.u, h.u), _blend(opened, h_new.s, h.s))
            s_h = opened * s_new
        else:  # mask: only the input synapses are silenced
            s_h, h = lif_step(opened * currents[t] + b_in, h, hid)
        out.hidden_spikes.append(s_h)
        if record:
            out.hidden_u.append(h.u)
        decision = always  # a plain SNN never closes
        if w_ctrl_h is not None:
            ctrl_in = s_h.detach() if isinstance(s_h, Tensor) else s_h  # no gradient into the hidden layer
            a, c = lif_step(ctrl_in @ w_ctrl_h + drives[t], c, ctl)
            out.controller_spikes.append(a)
            if record:
                out.controller_u.append(c.u)
            decision = a
        if t + 1 < T:  # the decision for frame t+1, unless overridden there
            out.gates.append(_blend(forced_at[t + 1], value_at[t + 1], decision))
    return out


def _output_recurrence(current, gate, hid: LIFParams, *, freeze: bool) -> tuple[list, list]:
    """The output layer over precomputed currents (B, T, C); array-agnostic. Returns spikes, membranes."""
    currents, gates = _per_step(current), _per_step(gate)
    zeros = currents[0] * 0
    state = LIFState(zeros, zeros)
    spikes, membranes = [], []
    for t in range(len(currents)):
        s_o, new = lif_step(currents[t], state, hid)
        if freeze:
            opened = gates[t][:, None]
            state = LIFState(_blend(opened, new.u, state.u), _blend(opened, new.s, state.s))
            s_o = opened * s_o
        else:
            state = new
        spikes.append(s_o)
        membranes.append(state.u)
    return spikes, membranes


def _per_step(a):
    """Slices a[:, t] for every t, made at once (a single backward for torch, unlike T selects)."""
    return a.unbind(1) if isinstance(a, Tensor) else list(np.moveaxis(a, 1, 0))


def _blend(opened: Tensor, new: Tensor, old: Tensor) -> Tensor:
    """``new`` where opened is 1, ``old`` where 0; arithmetic so a gate with a gradient trains."""
    return opened * new + (1 - opened) * old


def _readout(run: Run, rows: slice, synops: Tensor) -> Readout:
    out = run.out_spikes[rows]  # (B, T, C)
    gate = run.gate[rows]
    evidence = out.cumsum(1) / gate.cumsum(1)[..., None]
    rates = run.rates[rows].clone()
    total = rates.sum(1)
    prediction = decode(rates)
    top = rates.gather(1, prediction.clamp(min=0)[:, None])[:, 0]
    confidence = torch.where(total > 0, top / total.clamp(min=1e-12), 0.0)
    return Readout(rates, prediction, confidence, evidence, run.n_open[rows].clone(), synops)
