"""Your own checkpoint and recording: uploads validated, kept in the session's memory, run like any sample."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from skipsnn_core import SkipSNN, SkipSNNConfig, load_checkpoint, save_checkpoint
from skipsnn_core.data import DataError, FrameSpec, framed, open_dataset, read_nmnist_file
from skipsnn_core.explore import SampleSpec, ViewOptions, make_sample, run_trace, summarize, verdict
from skipsnn_core.recordings import recording_frames
from skipsnn_core.data import Framed
from tests.test_app import APP
from tests.test_corpus import RECORDINGS, bs2

ROOT = Path(__file__).resolve().parents[1]
CLASSES = [str(c) for c in range(10)]


def recording_app(name: str, content: bytes, label: str = "unknown") -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.selectbox(key="dataset").set_value("upload").run()
    app.selectbox(key="upload_label").set_value(label)
    app.file_uploader(key="upload_recording_file").set_value((name, content, "application/octet-stream")).run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def test_an_uploaded_nmnist_recording_runs_like_any_sample(nmnist_dir, tmp_path):
    path = nmnist_dir / "samples" / "7.bs2"
    cache = tmp_path / "cache"
    before = sorted(cache.rglob("*")) if cache.exists() else []
    app = recording_app(path.name, path.read_bytes(), label="1")
    assert not app.error
    assert app.session_state["selection"].model_id == "nmnist_skipsnn", "a recording runs through the N-MNIST model first"
    model = load_checkpoint(ROOT / "assets" / "nmnist_skipsnn.pt", "cpu")
    x = recording_frames(path.read_bytes(), path.name)
    sample = make_sample(Framed(x[None], np.array([1]), (34, 34, 2)), SampleSpec(start=120, T=300))
    s = summarize(sample, run_trace(model, sample, ViewOptions()))
    cards = {}
    for m in app.metric:
        cards.setdefault(m.label, m.value)
    assert cards["Prediction"] == verdict(s.prediction, 1, CLASSES) and cards["State updates"].startswith(f"{100 * s.state_updates:.1f}")
    assert np.array_equal(x, framed_one(path)), "the upload frames exactly like the same file read from disk"
    assert (sorted(cache.rglob("*")) if cache.exists() else []) == before


def framed_one(path: Path) -> np.ndarray:
    from skipsnn_core.data import frames

    return frames(read_nmnist_file(path), (34, 34, 2), FrameSpec())


def test_an_npy_recording_and_an_unknown_label():
    rng = np.random.default_rng(0)
    n = 400
    events = np.zeros(n, dtype=[("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "?")])
    events["x"], events["y"], events["p"] = rng.integers(5, 30, n), rng.integers(5, 30, n), rng.integers(0, 2, n)
    events["t"] = np.sort(rng.integers(0, 50_000, n))
    buf = io.BytesIO()
    np.save(buf, events)
    app = recording_app("mine.npy", buf.getvalue())
    assert not app.error
    cards = {}
    for m in app.metric:  # the main cards (the forced-open column repeats some labels further down)
        cards.setdefault(m.label, (m.value, m.delta))
    assert "✓" not in cards["Prediction"][0] and "✗" not in cards["Prediction"][0], "no verdict against an unknown label"
    assert cards["Prediction"][1] == "true label unknown"


BAD = {
    **{case: (f"{case}.bs2", RECORDINGS[case][0], RECORDINGS[case][1]) for case in RECORDINGS if case != "truncated"},
    "truncated": ("cut.bs2", RECORDINGS["truncated"][0], "not a multiple of 5"),
    "npy without fields": ("plain.npy", None, "needs a structured array with fields x, y, t, p"),
    "not an array": ("bytes.npy", b"\x93NUMPY garbage", "not a NumPy array file"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_each_bad_recording_upload_gets_its_reason(case, nmnist_dir):
    name, make, words = BAD[case]
    if make is None:
        buf = io.BytesIO()
        np.save(buf, np.zeros((10, 4)))
        content = buf.getvalue()
    elif callable(make):
        content = make((nmnist_dir / "samples" / "1.bs2").read_bytes())
    else:
        content = make
    app = recording_app(name, content)
    errors = [e.value for e in app.error]
    assert any(words in e and name in e for e in errors), errors
    app.selectbox(key="dataset").set_value("digits").run()
    assert not app.exception and not app.error and app.metric, "the app keeps working"


def test_an_uploaded_checkpoint_is_validated_and_used(tmp_path):
    torch.manual_seed(3)
    good = save_checkpoint(SkipSNN(SkipSNNConfig(n_hidden=40)), tmp_path / "mine.pt", {"dataset": "digits"})
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.selectbox(key="model_digits").set_value("upload").run()
    assert any("choose a checkpoint file to upload" in e.value for e in app.error)
    app.file_uploader(key="upload_checkpoint_file").set_value(("mine.pt", good.read_bytes(), "application/octet-stream")).run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    model = load_checkpoint(good, "cpu")
    sample = make_sample(framed(open_dataset("digits", None, "test"), FrameSpec()), SampleSpec(start=120, T=300))
    s = summarize(sample, run_trace(model, sample, ViewOptions()))
    assert next(m.value for m in app.metric if m.label == "Synaptic ops") == f"{s.synops / 1e6:.2f} M"
    assert "model" not in app.query_params, "an upload is not a name the server offers: no link to it"
    bad = tmp_path / "bad.pt"
    payload = torch.load(good, weights_only=True)
    payload["state_dict"]["w_in"][0, 0] = float("nan")
    torch.save(payload, bad)
    app.file_uploader(key="upload_checkpoint_file").set_value(("bad.pt", bad.read_bytes(), "application/octet-stream")).run()
    assert not app.exception and any("bad.pt" in e.value and "NaN" in e.value for e in app.error)
    app.selectbox(key="model_digits").set_value("digits_skipsnn").run()
    assert not app.exception and not app.error


def test_upload_readers_refuse_what_they_cannot_read():
    from skipsnn_core.recordings import MAX_BYTES, read_recording

    with pytest.raises(DataError, match="AEDAT4 is not supported"):
        read_recording(b"x" * 10, "cam.aedat4")
    with pytest.raises(DataError, match="over the 64 MB limit"):
        read_recording(b"\0" * (MAX_BYTES + 5), "huge.bs2")
    with pytest.raises(DataError, match="x=40"):
        read_recording(bs2([40], [3], [1], [10]), "far.bs2", (34, 34, 2))
