"""One sample through SkipSNN, as the Explorer shows it: the sample, the trace, the figures' numbers.

Pages call these functions with frozen, hashable specs (cache keys) and render the result;
they compute nothing themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from . import metrics
from .data import Framed
from .metrics import SILENT
from .model import GateMode, SkipSNN, Trace
from .noise import embed_in_noise


@dataclass(frozen=True)
class SampleSpec:
    index: int = 0  # recording in the split
    noise_level: int = 1  # noise event pairs per noise frame
    start: int | None = None  # first signal frame; None: drawn from the seed
    seed: int = 0  # noise (and start) generator seed
    T: int = 300  # frames


@dataclass(frozen=True)
class Sample:
    x: torch.Tensor  # (T, N) uint8 0/1 frames: signal at start..start+L-1, noise elsewhere
    signal: torch.Tensor  # (T,) bool, the true signal window
    start: int
    label: int
    sensor_size: tuple[int, int, int]  # (W, H, P)
    spec: SampleSpec


def make_sample(data: Framed, spec: SampleSpec) -> Sample:
    if not 0 <= spec.index < len(data.y):
        raise IndexError(f"sample {spec.index} is outside 0..{len(data.y) - 1}")
    signal = torch.from_numpy(data.x[spec.index])
    L = signal.shape[0]
    start = None if spec.start is None else min(max(spec.start, 0), spec.T - L)
    noisy = embed_in_noise(
        signal, spec.T, level=spec.noise_level, start=start, sensor=data.sensor_size,
        generator=torch.Generator().manual_seed(spec.seed), dtype=torch.uint8,
    )
    return Sample(noisy.x, noisy.signal, noisy.start, int(data.y[spec.index]), data.sensor_size, spec)


GateChoice = Literal["controller", "oracle", "open"]
EDIT_CODES = {"o": 1, "c": 0}  # forced open, forced closed


def parse_edits(text: str, T: int) -> tuple[tuple[int, int, int], ...]:
    """Gate edits from their compact form, e.g. ``"o120-169,c200"``: (first, last, value) runs, value 1 open, 0 closed.

    Raises ValueError naming the part that cannot be read or that falls outside steps 1..T-1 (step 0 is always open).
    """
    runs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, span = part[:1], part[1:]
        first, dash, last = span.partition("-")
        if code not in EDIT_CODES or not first.isdigit() or (dash and not last.isdigit()):
            raise ValueError(f"gate edit {part!r} is not of the form o120-169 (open) or c200 (closed)")
        a, b = int(first), int(last or first)
        if not 1 <= a <= b <= T - 1:
            raise ValueError(f"gate edit {part!r} is outside steps 1-{T - 1}")
        runs.append((a, b, EDIT_CODES[code]))
    return tuple(runs)


def edits_override(edits: tuple[tuple[int, int, int], ...], T: int) -> torch.Tensor:
    """(T,) gate override from edits applied in order: -1 where the controller decides, else the forced value."""
    override = torch.full((T,), -1)
    for a, b, value in edits:
        override[a : b + 1] = value
    return override


def format_edits(override: torch.Tensor) -> str:
    """The compact form of an override: its runs of forced steps, e.g. ``"o120-169,c200"`` ("" when none)."""
    o = override.tolist()
    parts, t = [], 0
    while t < len(o):
        if o[t] < 0:
            t += 1
            continue
        end = t
        while end + 1 < len(o) and o[end + 1] == o[t]:
            end += 1
        code = "o" if o[t] == 1 else "c"
        parts.append(f"{code}{t}" if end == t else f"{code}{t}-{end}")
        t = end + 1
    return ",".join(parts)


@dataclass(frozen=True)
class ViewOptions:
    controller_theta: float | None = None  # gate threshold at inference; None: as trained
    gate_mode: GateMode | None = None  # None: as trained
    bias_offset: float = 0.0
    gate: GateChoice = "controller"  # who decides: the controller, the oracle (open on the signal only), always open
    edits: str = ""  # steps forced open or closed on top of the controller, compact form (parse_edits)

    @property
    def forced_edits(self) -> str:
        """The edits this view runs with: they apply on top of the controller only (run_trace)."""
        return self.edits if self.gate == "controller" else ""


def run_trace(model: SkipSNN, sample: Sample, view: ViewOptions) -> Trace:
    override = None
    if view.gate == "oracle":  # "what if it had looked exactly here?": open on the true signal window only
        override = sample.signal.long()
    elif view.gate == "open":
        override = "open"
    elif view.forced_edits:  # "what if it had looked here?": the controller decides except where the user forced the gate
        T = sample.x.shape[0]
        override = edits_override(parse_edits(view.forced_edits, T), T)
    return model.trace(
        sample.x[None], controller_theta=view.controller_theta, gate_mode=view.gate_mode, bias_offset=view.bias_offset,
        gate_override=override,
    )


@dataclass(frozen=True)
class Summary:
    """The numbers on the metric cards, for sample 0 of a trace.

    A silent run (no output spike at all) has ``prediction == SILENT`` and is never correct.
    """

    label: int
    prediction: int
    confidence: float
    correct: bool
    silent: bool
    state_updates: float
    oracle_state_updates: float
    gate_precision: float
    gate_recall: float
    synops: int
    synops_open: int
    synops_saving: float
    open_prediction: int
    open_confidence: float
    open_correct: bool
    open_silent: bool


def summarize(sample: Sample, trace: Trace) -> Summary:
    gate = trace.gate[:1]
    precision, recall = metrics.gate_precision_recall(gate, sample.signal[None])
    ops, ops_open = trace.gated.synops[0].sum(), trace.forced_open.synops[0].sum()
    L = int(sample.signal.sum())
    prediction, open_prediction = int(trace.prediction[0]), int(trace.forced_open.prediction[0])
    return Summary(
        label=sample.label,
        prediction=prediction,
        confidence=float(trace.confidence[0]),
        correct=prediction == sample.label >= 0,  # SILENT (-1) never equals a label; an unknown label is never "correct"
        silent=prediction == SILENT,
        state_updates=float(metrics.state_updates(gate)[0]),
        oracle_state_updates=metrics.oracle_state_updates(L, gate.shape[1]),
        gate_precision=float(precision[0]),
        gate_recall=float(recall[0]),
        synops=int(ops),
        synops_open=int(ops_open),
        synops_saving=float(metrics.synops_saving(ops[None, None], ops_open[None, None])[0]),
        open_prediction=open_prediction,
        open_confidence=float(trace.forced_open.confidence[0]),
        open_correct=open_prediction == sample.label >= 0,
        open_silent=open_prediction == SILENT,
    )


@dataclass(frozen=True)
class GateStory:
    """When the gate opened for the signal, how late, and what it let through: sample 0 of a trace.

    ``first_open`` is the first admitted frame inside the signal window (None: none was); ``delay`` its distance
    from the window's first frame, in steps (= ms). Frame 0 is always admitted and counts as a noise frame.
    """

    signal_start: int
    signal_frames: int
    first_open: int | None
    signal_admitted: int
    noise_frames: int
    noise_admitted: int
    synops_saving: float

    @property
    def delay(self) -> int | None:
        return None if self.first_open is None else self.first_open - self.signal_start

    def text(self) -> str:
        a, b = self.signal_start, self.signal_start + self.signal_frames - 1
        if self.first_open is None:
            seen = f"The gate admitted none of the digit's {self.signal_frames} frames (t = {a}–{b} ms)"
        else:
            late = "at once" if self.delay == 0 else f"{self.delay} ms late"
            seen = (f"The digit came at t = {a}–{b} ms; the gate first let one of its frames in at t = {self.first_open} "
                    f"({late}) and admitted {self.signal_admitted} of its {self.signal_frames}")
        return (f"{seen}, and {self.noise_admitted} of the {self.noise_frames} noise frames. Synaptic work saved against "
                f"the gate forced open: {percent(self.synops_saving)}.")


def gate_story(sample: Sample, trace: Trace, summary: Summary) -> GateStory:
    gate, signal = trace.gate[0].numpy(), sample.signal.numpy()
    inside = np.flatnonzero(gate & signal)
    return GateStory(
        signal_start=int(np.flatnonzero(signal)[0]) if signal.any() else sample.start,
        signal_frames=int(signal.sum()),
        first_open=int(inside[0]) if len(inside) else None,
        signal_admitted=len(inside),
        noise_frames=int((~signal).sum()),
        noise_admitted=int((gate & ~signal).sum()),
        synops_saving=summary.synops_saving,
    )


UNKNOWN = -1  # the label of a recording whose true class nobody gave (an upload)


def verdict(prediction: int, label: int | None, classes) -> str:
    """The prediction card's text: "3 ✓", "5 ✗", "3" (true class unknown), or no verdict for a silent network."""
    if prediction == SILENT:
        return "none (silent network)"
    mark = "" if label is None or label < 0 else (" ✓" if prediction == label else " ✗")
    return f"{classes[prediction]}{mark}"


def signed(value: float, digits: int = 2, unit: str = "") -> str:
    """A difference with its sign, rounded first, so a tiny negative shows as "+0.00", never "-0.00"."""
    return f"{round(value, digits) + 0.0:+.{digits}f}{unit}"


def percent(value: float, digits: int = 0) -> str:
    """A fraction as a percentage, rounded first, so a tiny negative never shows as "-0%"."""
    rounded = round(100 * value, digits)
    return f"{rounded + 0.0:.{digits}f}%"  # + 0.0 turns -0.0 into 0.0


def label_text(label: int, classes) -> str:
    return f"true label {classes[label]}" if label >= 0 else "true label unknown"


def events_at(sample: Sample, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, polarity) of the events in frame t, from the flattened channel p*H*W + y*W + x."""
    W, H, _ = sample.sensor_size
    ch = np.flatnonzero(sample.x[t].numpy())
    return ch % W, (ch // W) % H, ch // (H * W)


@dataclass(frozen=True)
class RunSetting:
    """What makes one run of a sample: the checkpoint (by the name the app lists it under), the sample, the gate."""

    model: str
    spec: SampleSpec
    view: ViewOptions
    gated: bool = True  # False: a plain SNN, whose gate settings mean nothing


GATE_NAMES = {"controller": "controller's gate", "oracle": "oracle gate", "open": "gate always open"}


def _facets(run: RunSetting, gate_too: bool) -> dict[str, str]:
    """The settings a label may name, each already worded ("θc 0.8"), keyed by what they are."""
    facets = {"model": run.model, "noise": f"noise {run.spec.noise_level}", "seed": f"seed {run.spec.seed}",
              "sample": f"sample {run.spec.index}", "start": f"signal at {run.spec.start}"}
    if gate_too:
        v = run.view
        facets.update({"theta": "θc as trained" if v.controller_theta is None else f"θc {v.controller_theta:g}",
                       "mode": v.gate_mode or "mode as trained", "gate": GATE_NAMES.get(v.gate, v.gate),
                       "edits": f"edits {v.edits}" if v.edits else "no edits"})
    return facets


def run_labels(a: RunSetting, b: RunSetting) -> tuple[str, str]:
    """Short names for two runs of one sample: the settings in which they differ, e.g. ("θc 0.5", "θc 0.8") or
    ("θc 0.5, mask", "θc 0.8, freeze"); ("A", "B") when nothing differs. Gate settings are compared only when both
    runs have a gate (a plain SNN differs by its checkpoint)."""
    gate_too = a.gated and b.gated
    fa, fb = _facets(a, gate_too), _facets(b, gate_too)
    keys = [k for k in fa if fa[k] != fb[k]]
    if not keys:
        return "A", "B"
    return ", ".join(fa[k] for k in keys), ", ".join(fb[k] for k in keys)


def gate_differences(a: Trace, b: Trace) -> np.ndarray:
    """The steps (sorted) where two runs' gates (sample 0) differ: one admitted the frame, the other skipped it."""
    return np.flatnonzero(a.gate[0].numpy() != b.gate[0].numpy())
