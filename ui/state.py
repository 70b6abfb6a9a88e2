"""The sidebar's selection and cached calls into skipsnn_core.

Models and datasets are cached as shared read-only resources (never mutated); samples and
traces are cached as data keyed by frozen specs. Nothing here computes on its own.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.io
import streamlit as st
import torch

from skipsnn_core import CheckpointError, SkipSNN, Trace, load_checkpoint
from skipsnn_core.checkpoint import read_meta
from skipsnn_core.data import NMNIST_SENSOR, DataError, Framed, FrameSpec, framed, open_dataset
from skipsnn_core.drawing import drawing_sample
from skipsnn_core.recordings import recording_frames
from skipsnn_core.sweep import noise_sweep, threshold_sweep
from skipsnn_core.evaluate import check_fits
from skipsnn_core.roots import NotOffered, offered_checkpoint, offered_checkpoints, offered_folder
from skipsnn_core.model import has_triton
from skipsnn_core.explore import Sample, SampleSpec, Summary, ViewOptions, make_sample, run_trace, summarize
from skipsnn_core.explain import GateAttribution, gate_attribution
from skipsnn_core.figures import evidence_spec, explorer_payload
from skipsnn_core.figures.common import json_ready
from skipsnn_core.figures.palette import themed
from skipsnn_core.jobs import Board
from ui import theme

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
DATASET_NAMES = {"digits": "Built-in digits (simulated, no download)", "nmnist": "N-MNIST (a folder on the server)",
                 "upload": "Your recording (upload)", "drawing": "Draw your own digit"}
UPLOAD = "upload:"  # a Selection's checkpoint or data_dir that names a file the user uploaded in this session
UPLOADS = "uploads"  # session_state: {"recording": (name, bytes, label), "checkpoint": (name, bytes)}, never written to disk


def app_device() -> torch.device:
    """Where the app's inference runs: ``SKIPSNN_DEVICE`` if set; else the GPU when it has the fused Triton
    kernels (one launch per layer, milliseconds per trace); else the CPU with the compiled numba kernels.

    Without Triton a GPU would run the per-step torch loop, thousands of tiny launches per trace, slower
    than the CPU (bench/inference.py measured 145 ms on an H100 against 11 ms on 2 CPU cores).
    """
    wanted = os.environ.get("SKIPSNN_DEVICE", "").strip()
    if wanted:
        return torch.device(wanted)
    return torch.device("cuda" if torch.cuda.is_available() and has_triton() else "cpu")


def engine_name(device: torch.device) -> str:
    return "Triton kernels" if device.type == "cuda" and has_triton() else (
        "compiled (numba)" if device.type == "cpu" else "torch step loop")


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose: a dataset (and the folder or text naming it) and a checkpoint file.

    Paths here are only ever checked against what the server offers; they never enter a link.
    """

    dataset: str
    data_dir: str | None
    checkpoint: str
    model_id: str | None = None  # the checkpoint's name in the list; None: typed in


@st.cache_data(show_spinner=False, max_entries=64)
def _meta(path: str, mtime: float) -> dict | None:
    try:
        return read_meta(path)
    except CheckpointError:
        return None


def offered_models() -> dict[str, tuple[Path, dict]]:
    """{id: (file, meta)} of the checkpoints the server offers (shipped, then the models folder)."""
    found = {}
    for model_id, path in offered_checkpoints().items():
        meta = _meta(str(path), path.stat().st_mtime)
        if meta is not None:
            found[model_id] = (path, meta)
    return found


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def load_model(path: str, mtime: float) -> SkipSNN:
    """The checkpoint at path (mtime in the key so an updated file reloads), in eval mode."""
    return load_checkpoint(path, device=app_device()).eval()


@st.cache_resource(show_spinner="Checking the uploaded checkpoint…", max_entries=4)
def load_uploaded_model(digest: str, name: str, _content: bytes) -> SkipSNN:
    """An uploaded checkpoint (validated as any other), kept in memory by its content's hash."""
    return load_checkpoint(name, device=app_device(), content=_content).eval()


def uploaded(kind: str):
    """This session's upload of ``kind`` ("recording" or "checkpoint"), or None."""
    return st.session_state.get(UPLOADS, {}).get(kind)


def model_for(selection: Selection) -> SkipSNN:
    if selection.checkpoint.startswith(UPLOAD):
        upload = uploaded("checkpoint")
        if upload is None:
            raise CheckpointError("choose a checkpoint file to upload (.pt, at most 64 MB)")
        name, content = upload
        return load_uploaded_model(hashlib.sha256(content).hexdigest(), name, content)
    if not selection.checkpoint:
        raise CheckpointError("choose a checkpoint file: type the name of a .pt file in the server's models folder")
    path = offered_checkpoint(selection.checkpoint)
    return load_model(str(path), path.stat().st_mtime)


@st.cache_resource(show_spinner=False, max_entries=6)
def load_split(dataset: str, data_dir: str | None, split: str) -> Framed:
    ds = open_dataset(dataset, data_dir, split)
    bar = st.progress(0.0, text=f"Framing {len(ds)} {dataset} recordings (once; cached on disk)…")
    data = framed(ds, FrameSpec(), shipped=ASSETS / "frames",
                  progress=lambda done, total: bar.progress(done / total, text=f"Framing {dataset}: {done}/{total}"))
    bar.empty()
    return data


@st.cache_data(show_spinner=False, max_entries=8)
def uploaded_recording(digest: str, name: str, label: int, _content: bytes) -> Framed:
    """An uploaded recording as a one-sample split (label -1: unknown), framed in memory."""
    x = recording_frames(_content, name)
    return Framed(x[None], np.array([label]), NMNIST_SENSOR)


@st.cache_data(show_spinner=False, max_entries=8)
def drawn_digit(digest: str, label: int, _pixels: np.ndarray) -> Framed:
    """A drawing seen by the built-in sensor simulator, as a one-sample split."""
    return drawing_sample(_pixels, label)


def data_for(selection: Selection, split: str = "test") -> Framed:
    if selection.dataset == "drawing":
        drawing = uploaded("drawing")
        if drawing is None:
            raise DataError("draw a digit in the sidebar, then press *Use this drawing*")
        pixels, label = drawing
        return drawn_digit(hashlib.sha256(pixels.tobytes()).hexdigest(), label, pixels)
    if selection.dataset == "upload":
        upload = uploaded("recording")
        if upload is None:
            raise DataError("choose a recording to upload: an N-MNIST .bin/.bs2 file or a .npy array of events (x, y, t, p)")
        name, content, label = upload
        return uploaded_recording(hashlib.sha256(content).hexdigest(), name, label, content)
    folder = None
    if selection.dataset != "digits":
        if not selection.data_dir:
            raise DataError("choose a folder: type a folder inside the server's data roots")
        folder = str(offered_folder(selection.data_dir))
    return load_split(selection.dataset, folder, split)


# Cache sizes from measured entries (pickled, T = 300, digits and N-MNIST alike): a Sample 0.7 MB, a Trace 1.26 MB,
# a chart payload 0.2 MB, the forced-open evidence 0.06 MB, the cards 0.4 kB; a framed test split 24-42 MB, a model
# ~8 MB. bench/serve_load.py measures the server's memory under a class's load (README, "Serving a class").
#
# Samples, traces and payloads are frozen values that nothing mutates, so they are shared resources: a hit hands
# out the one object. st.cache_data would unpickle a copy on every hit (a Trace's tensors through torch's storage
# loader), a fifth of a rerun's server CPU when a class moves the same sliders (bench/serve_load.py, py-spy).


@st.cache_resource(show_spinner=False, max_entries=64)
def sample_for(selection: Selection, spec: SampleSpec) -> Sample:
    return make_sample(data_for(selection), spec)


# The sample and trace a caller already holds are passed in unhashed (leading underscore): the key
# (selection, spec, view) determines them, and fetching them again would copy them out of the cache.


@st.cache_resource(show_spinner=False, max_entries=64)
def trace_for(selection: Selection, spec: SampleSpec, view: ViewOptions, _sample: Sample) -> Trace:
    return run_trace(model_for(selection), _sample, view)


@st.cache_resource(show_spinner=False, max_entries=64)
def summary_for(selection: Selection, spec: SampleSpec, view: ViewOptions, _sample: Sample, _trace: Trace) -> Summary:
    """The cards' figures for these settings (skipsnn_core.explore.summarize), computed once."""
    return summarize(_sample, _trace)


def open_evidence_for(selection: Selection, spec: SampleSpec, view: ViewOptions, _sample: Sample, _trace: Trace) -> str:
    """The forced-open run's evidence figure, as the live figure's JSON text, in the active theme."""
    return _open_evidence(selection, spec, view, theme.current(), _sample, _trace)


@st.cache_resource(show_spinner=False, max_entries=64)
def _open_evidence(selection: Selection, spec: SampleSpec, view: ViewOptions, theme_type: str, _sample: Sample,
                   _trace: Trace) -> str:
    classes = [str(c) for c in range(model_for(selection).config.n_classes)]
    figure = evidence_spec(_trace.forced_open, classes, "Evidence, gate open", label=_sample.label)
    return plotly.io.to_json({"figure": json_ready(themed(figure, theme_type))}, validate=False)


@st.cache_resource(show_spinner=False, max_entries=16)
def attribution_for(selection: Selection, spec: SampleSpec, view: ViewOptions, _sample: Sample, _trace: Trace) -> GateAttribution:
    """The controller's input by source for these settings (about 1 MB: the hidden part is (1, T, H))."""
    return gate_attribution(model_for(selection), _trace)


def explorer_payload_for(selection: Selection, spec: SampleSpec, view: ViewOptions, full_range: bool, _sample: Sample,
                         _trace: Trace, projector: bool = False) -> str:
    """The live Explorer chart's payload for these settings in the active theme (JSON text, ~150 kB), built once."""
    return _explorer_payload(selection, spec, view, full_range, projector, theme.current(), _sample, _trace)


@st.cache_resource(show_spinner=False, max_entries=64)
def _explorer_payload(selection: Selection, spec: SampleSpec, view: ViewOptions, full_range: bool, projector: bool,
                      theme_type: str, _sample: Sample, _trace: Trace) -> str:
    classes = [str(c) for c in range(model_for(selection).config.n_classes)]
    return explorer_payload(_sample, _trace, classes, height=640 if projector else 900,
                            meta={"sample": spec.__dict__, "view": view.__dict__}, full_range=full_range,
                            projector=projector, edits=view.forced_edits, theme=theme_type).decode()


# What one setting of one sample costs, shared by every session while any is here (ui/presence.py clears it
# when the last one leaves).
PER_SETTING = (sample_for, trace_for, summary_for, _open_evidence, attribution_for, _explorer_payload)


@st.cache_resource(show_spinner=False)
def _sweeps() -> dict:
    return {}  # (selection, kind, grid, limit, plain, level or theta) -> rows; the 16 newest are kept


def sweep_for(selection: Selection, kind: str, grid: tuple, limit: int | None, at: float | None, plain: Selection | None,
              progress) -> list[dict]:
    """A noise or threshold sweep (skipsnn_core.sweep), computed once per settings and kept for every session.

    ``at``: the gate threshold of a noise sweep, or the noise level of a threshold sweep.
    """
    key = (selection, kind, grid, limit, at, plain)
    store = _sweeps()
    if key not in store:
        model, data = model_for(selection), data_for(selection)
        if kind == "noise":
            store[key] = noise_sweep(model, data, grid, theta=at, limit=limit, plain=model_for(plain) if plain else None,
                                     progress=progress)
        else:
            store[key] = threshold_sweep(model, data, grid, level=int(at), limit=limit, progress=progress)
        while len(store) > 16:
            store.pop(next(iter(store)))
    return store[key]


def check_selection(selection: Selection) -> tuple[SkipSNN, Framed]:
    """The model and test split, or a DataError/CheckpointError explaining what does not fit."""
    model = model_for(selection)
    data = data_for(selection)
    check_fits(model, data.sensor_size, selection.dataset)
    return model, data


SHOWN_ERRORS = (DataError, CheckpointError, NotOffered, OSError, ValueError, IndexError)


@st.cache_resource(show_spinner=False)
def training_board(models_folder: str) -> Board:
    """The server's one training board for this models folder: every session's runs, the limit and the queue."""
    return Board.from_env(Path(models_folder))
