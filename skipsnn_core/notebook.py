"""The Explorer's linked figure in a notebook (Jupyter, VS Code, marimo): an anywidget around the app's own chart.

    from skipsnn_core.notebook import Explorer
    w = Explorer("assets/digits_skipsnn.pt", 3)   # the built-in digits' test recording 3
    w                                             # the figure, its player and cursor, noise and threshold sliders
    w.threshold = 1.0                             # re-runs the network in the kernel; the figure follows
    w.trace.gate                                  # the current run (skipsnn_core.model.Trace)

The drawing code is the Streamlit component's own ``chart.js`` (ui/components/explorer_chart/), mounted by
``notebook_host.js`` instead of ``streamlit_host.js``; the payload is the one the app draws
(``skipsnn_core.figures.explorer_payload``) from the same ``make_sample`` and ``run_trace``. plotly.js travels
from the installed plotly package through the widget's comm (once per page), so nothing is fetched from the
internet.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Union

import anywidget
import numpy as np
import plotly
import torch
import traitlets

from .checkpoint import load_checkpoint
from .data import NMNIST_SENSOR, DataError, Framed, FrameSpec, check_events, framed, frames, open_dataset
from .evaluate import check_fits
from .explore import (UNKNOWN, Sample, SampleSpec, Summary, ViewOptions, edits_override, format_edits, make_sample,
                      parse_edits, run_trace, summarize)
from .figures import explorer_payload
from .model import SkipSNN, Trace
from .roots import ASSETS, PROJECT

CHART = PROJECT / "ui" / "components" / "explorer_chart"  # the component's files, read as text (no ui import)

ModelLike = Union[SkipSNN, str, os.PathLike]
SampleLike = Union[int, tuple, np.ndarray, torch.Tensor]


def _text(*names: str) -> str:
    return "".join((CHART / name).read_text() for name in names)


@functools.cache
def _plotly_js() -> str:
    """plotly.js from the installed plotly package (the app serves the same file from static/vendor)."""
    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()


@functools.cache
def builtin_digits() -> Framed:
    """The built-in digits' test split as signal frames (the app's default dataset; shipped cache in assets/frames)."""
    return framed(open_dataset("digits", split="test"), FrameSpec(), shipped=ASSETS / "frames")


def as_model(model: ModelLike, device: torch.device | str | None = None) -> SkipSNN:
    """A SkipSNN as given, or the checkpoint at a path, in eval mode (load_checkpoint's validation and device)."""
    if isinstance(model, SkipSNN):
        return model.eval()
    return load_checkpoint(model, device=device).eval()


def as_data(x_or_sample: SampleLike, data: Framed | None = None,
            sensor_size: tuple[int, int, int] = NMNIST_SENSOR) -> tuple[Framed, int]:
    """(a split, the index in it) for what the caller named.

    - an int: that recording of ``data`` (default: the built-in digits' test split, as the app's Explore page);
    - ``(events, label)``: a structured event array (fields x, y, t, p; t in µs), framed as the app frames
      an upload (its first 50 ms in 1 ms bins);
    - signal frames ``(L, N)`` 0/1 (NumPy or torch; the layout of ``Framed.x[i]``), or ``(frames, label)``.
    Without a label the true class is unknown (-1). The noise around the signal is added by the widget.
    """
    if isinstance(x_or_sample, (int, np.integer)):
        data = data if data is not None else builtin_digits()
        if not 0 <= int(x_or_sample) < len(data.y):
            raise IndexError(f"sample {int(x_or_sample)} is outside 0..{len(data.y) - 1}")
        return data, int(x_or_sample)
    x, label = x_or_sample if isinstance(x_or_sample, tuple) else (x_or_sample, UNKNOWN)
    if isinstance(x, np.ndarray) and x.dtype.names:  # events
        check_events(x, sensor_size, "the events given to Explorer")
        x = frames(x, sensor_size)
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    W, H, P = sensor_size
    if x.ndim != 2 or x.shape[1] != W * H * P:
        raise DataError(f"signal frames must be (L, {W * H * P}) for a {W}x{H}x{P} sensor, got {x.shape}")
    return Framed((x != 0).astype(np.uint8)[None], np.array([int(label)]), sensor_size), 0


class Explorer(anywidget.AnyWidget):
    """One sample through SkipSNN, as the app's Explore page draws it; every change re-runs the network here.

    Settings (traitlets, shared with the sliders): ``noise_level`` (noise event pairs per noise frame),
    ``threshold`` (the controller's threshold at inference), ``edits`` (steps forced open or closed, e.g.
    ``"o120-169,c200"``; a click or box selection on the gate panel forces those steps open), ``cursor`` (the
    step under the cursor; follows the player). ``trace``, ``sample`` and ``summary`` hold the current run.
    """

    _esm = _text("chart.js", "notebook_host.js")
    _css = _text("chart.css", "notebook.css")

    payload = traitlets.Unicode("").tag(sync=True)  # explorer_payload as JSON text: what chart.js draws
    cursor = traitlets.Int(0).tag(sync=True)
    noise_level = traitlets.Int(1, min=0).tag(sync=True)
    threshold = traitlets.Float(0.5).tag(sync=True)
    edits = traitlets.Unicode("").tag(sync=True)
    gated = traitlets.Bool(True).tag(sync=True)  # False: a plain SNN, whose threshold slider is disabled
    error = traitlets.Unicode("").tag(sync=True)  # why the last change could not run (shown beside the sliders)

    def __init__(self, model: ModelLike, x_or_sample: SampleLike = 0, *, noise_level: int = 1,
                 threshold: float | None = None, start: int = 120, seed: int = 0, T: int = 300, edits: str = "",
                 data: Framed | None = None, sensor_size: tuple[int, int, int] = NMNIST_SENSOR, height: int = 900,
                 device: torch.device | str | None = None, **kwargs) -> None:
        self.model = as_model(model, device)
        self._data, self._index = as_data(x_or_sample, data, sensor_size)
        check_fits(self.model, self._data.sensor_size, "these frames")
        self._start, self._seed, self._T, self._height = start, seed, T, height
        self.classes = [str(c) for c in range(self.model.config.n_classes)]
        config = self.model.config
        theta = float(config.controller_theta) if threshold is None else float(threshold)
        self._sample: Sample | None = None
        super().__init__(noise_level=noise_level, threshold=theta, edits=edits,
                         gated=bool(config.controller), **kwargs)
        self.on_msg(self._on_chart_event)
        self._rerun()  # errors in the arguments raise here; later ones go to ``error``

    # ------------------------------------------------------------------ what a page would read

    @property
    def spec(self) -> SampleSpec:
        return SampleSpec(index=self._index, noise_level=int(self.noise_level), start=self._start, seed=self._seed,
                          T=self._T)

    @property
    def view(self) -> ViewOptions:
        if not self.gated:
            return ViewOptions()
        return ViewOptions(controller_theta=float(self.threshold), edits=self.edits)

    @property
    def sample(self) -> Sample:
        return self._sample

    @property
    def trace(self) -> Trace:
        """The current run (batch of one), detached on the CPU."""
        return self._trace

    @property
    def summary(self) -> Summary:
        """The Explore page's cards for the current run (state updates, gate precision and recall, synaptic ops…)."""
        return summarize(self._sample, self._trace)

    # ------------------------------------------------------------------ re-running

    def _rerun(self) -> None:
        spec = self.spec
        if self._sample is None or self._sample.spec != spec:  # only the noise level changes the sample
            self._sample = make_sample(self._data, spec)
        self._trace = run_trace(self.model, self._sample, self.view)
        meta = {"sample": spec.__dict__, "view": self.view.__dict__}
        self.payload = explorer_payload(self._sample, self._trace, self.classes, height=self._height, meta=meta,
                                        edits=self.view.forced_edits).decode()
        self.error = ""

    @traitlets.validate("edits")
    def _valid_edits(self, proposal) -> str:
        try:
            parse_edits(proposal["value"], self._T)
        except ValueError as e:  # ``w.edits = "o400"`` raises here, naming the part that cannot be read
            raise traitlets.TraitError(str(e)) from None
        return proposal["value"]

    @traitlets.observe("noise_level", "threshold", "edits")
    def _changed(self, change) -> None:
        if self._sample is None:  # still in __init__: the first run comes after
            return
        try:
            self._rerun()
        except (ValueError, IndexError, RuntimeError) as e:  # the last good run stays drawn, the reason beside it
            self.error = str(e)

    def _on_chart_event(self, _widget, content, _buffers) -> None:
        """The front end's messages: a page without plotly.js asks for it once; a click or box selection on the
        gate panel forces those steps open (the app's default brush)."""
        event = content.get("event") if isinstance(content, dict) else None
        if event == "plotly":
            self.send({"plotly": _plotly_js()})
        if event != "edit" or not self.gated:
            return
        value = content.get("value") or {}
        first, last = max(1, int(value.get("t0", 0))), min(self._T - 1, int(value.get("t1", 0)))
        if first > last:
            return
        override = edits_override(parse_edits(self.edits, self._T), self._T)
        override[first : last + 1] = 1
        self.edits = format_edits(override)


__all__ = ["Explorer", "as_data", "as_model", "builtin_digits"]
