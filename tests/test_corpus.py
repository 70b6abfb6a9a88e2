"""A corpus of bad inputs, built here (never downloaded): each gives a clear error naming the file and the
problem, the app stays usable afterwards, and nothing written before is harmed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from skipsnn_core import CheckpointError, SkipSNN, SkipSNNConfig, load_checkpoint, save_checkpoint
from skipsnn_core.data import DataError, FrameSpec, NMNISTFolder, framed
from tests.conftest import copy_nmnist
from tests.test_app import APP

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120


def bs2(x, y, p, t) -> bytes:
    """Events in the native N-MNIST format: 5 bytes each, big-endian (see shared/data/README.md)."""
    x, y, p, t = (np.asarray(a, dtype=np.uint32) for a in (x, y, p, t))
    raw = np.zeros((len(x), 5), dtype=np.uint8)
    raw[:, 0], raw[:, 1] = x, y
    raw[:, 2] = (p << 7) | ((t >> 16) & 127)
    raw[:, 3], raw[:, 4] = (t >> 8) & 255, t & 255
    return raw.tobytes()


def good_events(n: int = 200, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    return bs2(rng.integers(0, 34, n), rng.integers(0, 34, n), rng.integers(0, 2, n), np.sort(rng.integers(0, 60_000, n)))


# name: (file contents, the words the error must hold). Every recording is row 0 of labels.csv: the test split.
RECORDINGS = {
    "truncated": (lambda real: real[: len(real) - 3], "not a multiple of 5"),
    "zero bytes": (lambda real: b"", "empty file (0 bytes)"),
    "random bytes": (lambda real: np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes(), "outside the 34x34"),
    "outside the sensor": (lambda real: bs2([3, 40], [5, 2], [1, 0], [100, 200]), "1 event outside the 34x34 sensor (first: x=40"),
    "nothing in the first 50 ms": (lambda real: bs2([3, 4], [5, 6], [1, 0], [60_000, 70_000]), "no events in the first 50 ms"),
    "time going backwards": (lambda real: bs2([3, 4, 5], [5, 6, 7], [1, 0, 1], [3000, 8_000_000, 2000]),
                             "timestamps go backwards at event 2"),
}


@pytest.fixture
def real_bytes(nmnist_dir) -> bytes:
    return (nmnist_dir / "samples" / "1.bs2").read_bytes()


def folder_with(root: Path, name: str, first: bytes, labels: str | None = None) -> Path:
    """A labels.csv folder whose row 0 (test split) is ``first`` and row 1 a good recording."""
    folder = root / name.replace(" ", "_")
    folder.mkdir(parents=True)
    (folder / "a.bs2").write_bytes(first)
    (folder / "b.bs2").write_bytes(good_events())
    (folder / "labels.csv").write_text(labels or "filename,label\na.bs2,3\nb.bs2,4\n")
    return folder


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


@pytest.mark.parametrize("case", list(RECORDINGS))
def test_bad_recording_is_named_with_its_problem(case, real_bytes, tmp_path):
    make, words = RECORDINGS[case]
    folder = folder_with(tmp_path, case, make(real_bytes))
    cache = tmp_path / "cache"
    with pytest.raises(DataError) as err:
        framed(NMNISTFolder(folder, "test"), FrameSpec(), cache_dir=cache)
    assert str(folder / "a.bs2") in str(err.value) and words in str(err.value), str(err.value)
    assert not cache.exists() or not any(cache.iterdir()), "a failed framing leaves no cache file, not even a temporary one"


LABELS = {
    "missing file": ("filename,label\na.bs2,3\nb.bs2,4\nmissing.bs2,5\n", "line 4: the recording 'missing.bs2' is not in the folder"),
    "non-integer label": ("filename,label\na.bs2,three\nb.bs2,4\n", "line 2: label 'three' is not an integer digit"),
    "duplicate rows": ("filename,label\na.bs2,3\nb.bs2,4\na.bs2,3\n", "line 4: 'a.bs2' is listed again (first on line 2)"),
    "label out of range": ("filename,label\na.bs2,12\nb.bs2,4\n", "line 2: label 12 is not a digit 0-9"),
    "path out of the folder": ("filename,label\n../../outside.bs2,3\nb.bs2,4\n", "points outside the folder"),
    "wrong columns": ("file,digit\na.bs2,3\n", "needs the columns filename,label"),
}


@pytest.mark.parametrize("case", list(LABELS))
def test_bad_labels_file_is_named_with_line_and_problem(case, tmp_path):
    text, words = LABELS[case]
    (tmp_path / "outside.bs2").write_bytes(good_events())
    folder = folder_with(tmp_path / "x" / "y", case, good_events(), labels=text)
    with pytest.raises(DataError) as err:
        NMNISTFolder(folder, "all")
    assert str(folder / "labels.csv") in str(err.value) and words in str(err.value), str(err.value)


def test_every_shared_recording_passes_the_checks(nmnist_dir, tmp_path):
    """The checks reject nothing real: all 1,000 shared N-MNIST recordings read and frame (no cache: all are read)."""
    ds = NMNISTFolder(nmnist_dir, "all")
    data = framed(ds, FrameSpec(), cache_dir=tmp_path)
    assert data.x.shape == (1000, 50, 2312) and data.x.reshape(1000, -1).any(1).all()


# ---------------------------------------------------------------- checkpoints


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch /tmp/skipsnn_corpus_pwned",))


def _payload(tmp_path: Path) -> dict:
    torch.manual_seed(0)
    path = save_checkpoint(SkipSNN(SkipSNNConfig(n_hidden=16)), tmp_path / "base.pt", {"dataset": "digits"})
    payload = torch.load(path, weights_only=True)
    path.unlink()
    return payload


def _with(change):
    def make(tmp_path: Path, path: Path) -> None:
        payload = _payload(tmp_path)
        change(payload)
        torch.save(payload, path)
    return make


CHECKPOINTS = {
    "nan weights": (_with(lambda p: p["state_dict"]["w_in"].__setitem__((0, 0), float("nan"))), "'w_in' holds NaN or infinite"),
    "wrong shapes": (_with(lambda p: p["state_dict"].__setitem__("fc_out.weight", torch.zeros(10, 15))),
                     "'fc_out.weight' has shape (10, 15), the config needs (10, 16)"),
    "pickled code": (_with(lambda p: p["meta"].__setitem__("x", Exploit())), "refused, the file carries pickled objects"),
    "not a checkpoint": (lambda tmp_path, path: path.write_bytes(np.random.default_rng(2).bytes(3000)),
                         "truncated or not a checkpoint file"),
    "another torch file": (lambda tmp_path, path: torch.save({"weights": torch.zeros(3)}, path), "not a SkipSNN checkpoint"),
    "future format": (_with(lambda p: p.__setitem__("format", "skipsnn-checkpoint/7")),
                      "format 'skipsnn-checkpoint/7', which this version of SkipSNN Explorer cannot read"),
    "wrong sensor": (lambda tmp_path, path: save_checkpoint(SkipSNN(SkipSNNConfig(n_inputs=128 * 128 * 2, n_hidden=4, n_classes=11)),
                                                            path, {"dataset": "dvsgesture"}),
                     "expects 32768 input channels but digits frames have 2312"),
}


@pytest.mark.parametrize("case", list(CHECKPOINTS))
def test_bad_checkpoint_in_the_app_then_a_good_one(case, tmp_path, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("SKIPSNN_MODELS", str(models))
    make, words = CHECKPOINTS[case]
    path = models / "bad.pt"
    make(tmp_path, path)
    before = tree_digest(models), tree_digest(ROOT / "assets")
    if case != "wrong sensor":
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(path, "cpu")
        assert str(path) in str(err.value) and words in str(err.value), str(err.value)
    assert not Path("/tmp/skipsnn_corpus_pwned").exists(), "the pickled code never ran"

    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    app.selectbox(key="model_digits").set_value("other").run()
    app.text_input(key="checkpoint_path").input("bad.pt").run()
    assert not app.exception, [e.message for e in app.exception]
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and words in errors[0], errors
    app.selectbox(key="model_digits").set_value("digits_skipsnn").run()  # the next valid choice renders
    assert not app.exception and not app.error
    assert app.metric and app.get("bidi_component"), "the next valid choice draws its cards and chart"
    assert (tree_digest(models), tree_digest(ROOT / "assets")) == before, "nothing on disk was changed"


@pytest.mark.parametrize("case", ["truncated", "time going backwards"])
def test_bad_recording_in_the_app_then_the_built_in_digits(case, real_bytes, tmp_path, monkeypatch):
    roots = tmp_path / "roots"
    make, words = RECORDINGS[case]
    folder_with(roots, case, make(real_bytes))
    monkeypatch.setenv("SKIPSNN_DATA_ROOTS", str(roots))
    monkeypatch.setenv("SKIPSNN_CACHE", str(tmp_path / "cache"))
    before = tree_digest(roots)
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    app.selectbox(key="dataset").set_value("nmnist").run()
    assert not app.exception
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and words in errors[0] and "a.bs2" in errors[0], errors
    app.selectbox(key="dataset").set_value("digits").run()
    assert not app.exception and not app.error and app.metric
    assert tree_digest(roots) == before


# ---------------------------------------------------------------- two processes framing one split


FRAME_ONE = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from skipsnn_core.data import FrameSpec, NMNISTFolder, framed
data = framed(NMNISTFolder(Path({folder!r}), "all"), FrameSpec(), cache_dir=Path({cache!r}))
print(int(data.x.sum()))
"""


def test_two_processes_framing_the_same_split_both_succeed(nmnist_dir, tmp_path):
    folder = copy_nmnist(nmnist_dir, tmp_path / "nmnist", 40)
    cache = tmp_path / "cache"
    code = FRAME_ONE.format(root=str(ROOT), folder=str(folder), cache=str(cache))
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    direct = framed(NMNISTFolder(folder, "all"), FrameSpec(), cache_dir=tmp_path / "fresh")
    assert {out.strip() for out, _ in outs} == {str(int(direct.x.sum()))}
    files = sorted(p.name for p in cache.iterdir())
    assert len(files) == 1 and files[0].endswith(".npz") and ".tmp" not in files[0], files
    cached = framed(NMNISTFolder(folder, "all"), FrameSpec(), cache_dir=cache)  # read back from the cache
    assert np.array_equal(cached.x, direct.x) and np.array_equal(cached.y, direct.y)
