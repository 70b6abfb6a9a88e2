"""Training in the background (skipsnn_core.jobs) and the quick recipe, on real recordings."""

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from skipsnn_core import load_checkpoint, metrics
from skipsnn_core import train as train_mod
from skipsnn_core.jobs import ACTIVE, PROBE_SAMPLE, PROBE_SEED, Board, BoardError
from skipsnn_core.train import PRESETS, NoiseSpec, TrainConfig, command_line, load_split, noisy_batch, preset, train
from skipsnn_core.data import FrameSpec
from tests.conftest import copy_nmnist

WAIT = 120  # seconds: generous on a busy 2-core machine


@pytest.fixture
def tiny(nmnist_dir, tmp_path, monkeypatch) -> TrainConfig:
    """The quick recipe shortened to a few seconds: 60 real recordings (48 train, 12 test), short samples."""
    monkeypatch.setenv("SKIPSNN_CACHE", str(tmp_path / "cache"))
    folder = copy_nmnist(nmnist_dir, tmp_path / "nmnist", 60)
    return preset("quick", dataset="nmnist", data_dir=str(folder), hidden=64, T=60, L=20, epochs=2, batch_size=8, lr=1e-2)


def until(condition, what: str, *jobs, timeout: float = WAIT):
    """Wait for ``condition``; fail at once if one of ``jobs`` failed (its reason in the message)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        for job in jobs:
            snap = job.snapshot()
            assert snap.state != "failed", f"waiting for {what}, the run failed: {snap.message}"
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---------------------------------------------------------------- the quick recipe


def test_quick_preset_is_a_recipe_the_other_flags_override(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(train_mod, "train", lambda cfg, **kw: seen.append((cfg, kw["command"])) or (None, {}))
    train_mod.main(["--preset", "quick", "--kind", "snn", "--epochs", "3", "--out", "q.pt", "--quiet"])
    train_mod.main(["--kind", "snn", "--out", "full.pt", "--quiet"])
    (quick, quick_command), (full, _) = seen
    assert quick == TrainConfig(**{**PRESETS["quick"], "kind": "snn", "epochs": 3, "out": "q.pt"})
    assert quick_command == "python -m skipsnn_core.train --preset quick --kind snn --epochs 3 --out q.pt --quiet"
    assert full == TrainConfig(kind="snn", out="full.pt"), "without --preset, the full defaults"
    assert quick.hidden < full.hidden and quick.epochs < full.epochs
    with pytest.raises(ValueError, match="unknown preset 'slow'; presets: quick$"):
        preset("slow")


def test_a_preset_without_a_cuda_variant_is_the_same_on_cuda(monkeypatch):
    monkeypatch.setitem(PRESETS, "tiny", dict(hidden=8, epochs=1))
    assert preset("tiny", "cuda") == preset("tiny", "cpu") == TrainConfig(hidden=8, epochs=1)


def test_on_cuda_the_quick_preset_takes_larger_batches_and_its_command_says_so(monkeypatch):
    import torch

    from skipsnn_core.train import CUDA_PRESETS

    cuda = preset("quick", "cuda")
    assert (cuda.batch_size, cuda.lr, cuda.epochs) == (CUDA_PRESETS["quick"]["batch_size"], CUDA_PRESETS["quick"]["lr"],
                                                       CUDA_PRESETS["quick"]["epochs"])
    assert cuda.batch_size > preset("quick", "cpu").batch_size and preset("quick", torch.device("cpu")) == preset("quick")
    assert cuda.hidden == preset("quick").hidden and cuda.lam == preset("quick").lam, "the same network and price"
    assert "--batch-size 128" in command_line(cuda, "quick"), "the command trains the same recipe on any machine"
    seen = []
    monkeypatch.setattr(train_mod, "default_device", lambda: torch.device("cuda"))
    monkeypatch.setattr(train_mod, "train", lambda cfg, **kw: seen.append(cfg) or (None, {}))
    train_mod.main(["--preset", "quick", "--epochs", "5", "--quiet"])
    assert seen == [replace(cuda, epochs=5)]


def test_command_line_names_the_preset_and_every_flag_that_differs():
    cfg = preset("quick", kind="snn", lam=0.3, noise_level=2, out="mine.pt")
    assert command_line(cfg, "quick") == ("python -m skipsnn_core.train --preset quick --kind snn --noise-level 2 "
                                          "--lam 0.3 --out mine.pt")
    assert command_line(TrainConfig(T=100, L=20, out="x.pt")) == "python -m skipsnn_core.train --T 100 --L 20 --out x.pt"
    assert command_line(preset("quick"), "quick") == "python -m skipsnn_core.train --preset quick --out checkpoint.pt", \
        "the output file is always named, even the default one"
    args = command_line(cfg, "quick").split()[3:]
    assert train_mod._parser().parse_args(args).lam == 0.3, "the command parses back"


def test_quick_recipe_shortened_by_flags_reduces_the_loss_and_writes_a_loadable_checkpoint(tiny, tmp_path, capsys):
    out = tmp_path / "quick.pt"
    train_mod.main(["--preset", "quick", "--dataset", "nmnist", "--data-dir", tiny.data_dir, "--hidden", "64", "--T", "60",
                    "--L", "20", "--epochs", "3", "--batch-size", "8", "--lr", "1e-2", "--out", str(out), "--quiet"])
    printed = json.loads(capsys.readouterr().out)
    model = load_checkpoint(out, "cpu")
    history = model.meta["history"]
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert history[-1]["loss"] < history[0]["loss"], [r["loss"] for r in history]
    assert model.meta["figures"]["accuracy"] == pytest.approx(printed["accuracy"], abs=1e-4)
    assert model.meta["train_config"]["lam"] == PRESETS["quick"]["lam"] and model.config.n_hidden == 64


# ---------------------------------------------------------------- hooks: how the Train page follows and stops a run


def test_hooks_see_every_framed_recording_every_batch_and_every_epoch(tiny, tmp_path):
    from skipsnn_core.train import Hooks

    framed, batches, epochs = [], [], []

    def epoch(row, model, test):
        epochs.append((row, model.training, len(test.y)))

    hooks = Hooks(frames=lambda d, t: framed.append((d, t)), batch=lambda d, t: batches.append((d, t)), epoch=epoch)
    cfg = replace(tiny, batch_size=10, out=str(tmp_path / "hooked.pt"))  # 48 train recordings: 5 batches an epoch, the last of 8
    model, _ = train(cfg, quiet=True, hooks=hooks, resume_file=False)
    assert framed == [(k, 48) for k in range(1, 49)] + [(k, 12) for k in range(1, 13)], "train split, then test split"
    assert batches == [(k, 10) for k in range(1, 11)]
    history = load_checkpoint(cfg.out, "cpu").meta["history"]
    assert [e[0] for e in epochs] == history and [e[1:] for e in epochs] == [(False, 12), (False, 12)], "eval mode, held-out split"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".pt", ".resume")) == ["hooked.pt"], "no resume file"


def test_a_progress_callback_and_the_terminal_bars_go_together(tiny, tmp_path, fake_tqdm):
    """The CLI's framing bars stay when a caller follows the framing too; quiet turns the bars off, not the callback."""
    from skipsnn_core.train import Hooks

    for quiet in (False, True):
        fake_tqdm.clear()
        framed = []
        cache = tmp_path / f"cache-{quiet}"  # framing happens (no cached split)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SKIPSNN_CACHE", str(cache))
            train(replace(tiny, epochs=0, out=str(tmp_path / f"q{quiet}.pt")), quiet=quiet,
                  hooks=Hooks(frames=lambda d, t: framed.append(d)))
        assert framed == list(range(1, 49)) + list(range(1, 13))
        bars = [(b.desc, b.n, b.closed) for b in fake_tqdm if b.desc.startswith("frames")]
        assert bars == ([] if quiet else [("frames nmnist/train", 48, True), ("frames nmnist/test", 12, True)])


def test_a_stop_while_framing_ends_the_run_before_the_frames_are_cached(tiny, tmp_path):
    from skipsnn_core.train import Hooks, Stopped

    asked = []
    hooks = Hooks(stop=lambda: asked.append(1) or len(asked) >= 5)  # stop only: no progress callback
    with pytest.raises(Stopped):
        train(replace(tiny, out=str(tmp_path / "never.pt")), quiet=True, hooks=hooks)
    assert len(asked) == 5, "asked once per framed recording, and stopped at the fifth"
    left = sorted(p.name for p in (tmp_path / "cache").iterdir()) if (tmp_path / "cache").exists() else []
    assert left == [], f"framing stopped: no frame cache written, no temporary folder left: {left}"
    assert not (tmp_path / "never.pt").exists() and not (tmp_path / "never.pt.resume").exists()


# ---------------------------------------------------------------- one run: progress, probes, an atomic save


def test_a_run_reports_progress_and_history_and_its_probe_is_the_saved_network_on_that_sample(tiny, tmp_path):
    models = tmp_path / "models"
    board = Board(models)
    job = board.submit("me", tiny, "run1")
    seen = []
    while not job.wait(0.02):
        seen.append(job.snapshot())
    snap = job.snapshot()
    assert snap.state == "done", snap.message
    assert "training" in [s.state for s in seen]
    per_epoch = -(-48 // tiny.batch_size)
    assert snap.batches == (tiny.epochs * per_epoch, tiny.epochs * per_epoch)
    fractions = [s.fraction for s in seen if s.state == "training"]
    assert fractions == sorted(fractions) and 0 < fractions[0] <= fractions[-1] <= 1
    assert [r["epoch"] for r in snap.history] == [1, 2] and [p.epoch for p in snap.probes] == [1, 2]
    assert snap.message == "Finished 2 epochs." and snap.path == str(models / "run1.pt")
    assert sorted(p.name for p in models.iterdir()) == ["run1.pt"], "no temporary or resume file is left"

    model = load_checkpoint(snap.path, "cpu")
    assert model.meta["history"] == list(snap.history) and model.meta["figures"] == snap.figures
    assert model.meta["command"] == snap.command == command_line(replace(tiny, out="run1.pt"), "quick")
    test = load_split("nmnist", tiny.data_dir, "test", FrameSpec(L=tiny.L), quiet=True)
    x, mask = noisy_batch(test, range(PROBE_SAMPLE, PROBE_SAMPLE + 1), NoiseSpec(tiny.T, tiny.noise_level), PROBE_SEED)
    trace = model.trace(x)
    last = snap.probes[-1]
    assert np.array_equal(last.gate, trace.gate[0].numpy()) and np.array_equal(last.signal, mask[0].numpy())
    assert np.allclose(last.controller_u, trace.controller_u[0].numpy())
    assert last.prediction == int(metrics.decode(trace.rates)[0]) and last.label == int(test.y[PROBE_SAMPLE])
    assert last.theta == model.config.controller_theta


def test_stopping_mid_epoch_ends_the_run_and_writes_nothing(tiny, tmp_path):
    models = tmp_path / "models"
    board = Board(models)
    job = board.submit("me", replace(tiny, epochs=200), "long")
    until(lambda: job.snapshot().batches[0] >= 2, "two training batches", job)
    job.stop()
    assert job.wait(WAIT)
    snap = job.snapshot()
    assert snap.state == "stopped" and snap.message.startswith("Stopped during epoch") and "nothing was saved" in snap.message
    assert snap.batches[0] < snap.batches[1] and snap.path is None
    assert not models.exists() or list(models.iterdir()) == [], "no checkpoint, temporary or resume file"


def test_a_failing_run_says_why_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("SKIPSNN_CACHE", str(tmp_path / "cache"))
    board = Board(tmp_path / "models")
    job = board.submit("me", preset("quick", dataset="nmnist", data_dir=str(tmp_path / "missing")), "broken")
    assert job.wait(WAIT)
    snap = job.snapshot()
    assert snap.state == "failed" and "missing" in snap.message, snap.message
    assert not (tmp_path / "models").exists() or list((tmp_path / "models").iterdir()) == []
    assert board.active() == (0, 0), "a failed run frees its slot"


def test_the_wall_clock_cap_ends_a_run_after_the_epoch_that_passes_it_and_keeps_what_was_trained(tiny, tmp_path):
    board = Board(tmp_path / "models", cap_minutes=1e-4)  # 6 ms: passed during the first epoch
    job = board.submit("me", replace(tiny, epochs=5), "capped")
    assert job.wait(WAIT)
    snap = job.snapshot()
    assert snap.state == "done" and len(snap.history) == 1
    assert "cap after 1 of 5 epochs" in snap.message
    assert load_checkpoint(snap.path, "cpu").meta["epochs_run"] == 1


# ---------------------------------------------------------------- the board: one per session, a limit, a queue


def test_one_run_per_owner_at_most_limit_at_once_and_a_first_come_queue(tiny, tmp_path):
    long = replace(tiny, epochs=200)
    board = Board(tmp_path / "models", limit=1)
    a = board.submit("alice", long, "a")
    with pytest.raises(BoardError, match="already training"):
        board.submit("alice", long, "a2")
    b = board.submit("bob", long, "b")
    c = board.submit("carol", long, "c")
    until(lambda: a.snapshot().state == "training", "alice's run to train", a)
    assert (b.snapshot().state, b.snapshot().queue_position) == ("queued", 1)
    assert (c.snapshot().state, c.snapshot().queue_position) == ("queued", 2)
    assert board.active() == (1, 2)
    c.stop()  # leaving the queue
    assert c.wait(WAIT) and c.snapshot().state == "stopped" and "Left the queue" in c.snapshot().message
    assert b.snapshot().queue_position == 1 and b.snapshot().state == "queued", "still waiting: alice holds the slot"
    a.stop()
    assert a.wait(WAIT)
    until(lambda: b.snapshot().state in ("framing", "training"), "bob's run to start", b)
    assert board.active() == (1, 0)
    assert board.job_of("alice") is a and board.job_of("bob") is b and board.job_of("dave") is None
    again = board.submit("alice", long, "a3")  # alice's first run ended: she may start another, queued behind bob
    assert again.snapshot().queue_position == 1
    for job in (b, again):
        job.stop()
        assert job.wait(WAIT)
    assert board.active() == (0, 0)
    assert all(j.snapshot().state not in ACTIVE for j in (a, b, c, again))


def test_checkpoint_names_are_plain_and_never_overwrite(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "taken.pt").write_bytes(b"")
    board = Board(models)
    for bad in ("", "../escape", "a b", "x" * 65, "/abs", ".hidden"):
        with pytest.raises(BoardError, match="letters, digits"):
            board.check_name(bad)
    with pytest.raises(BoardError, match="'taken' exists"):
        board.check_name("taken")
    assert board.check_name(" digits_skipsnn_lam0.1 ") == "digits_skipsnn_lam0.1"


def test_board_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SKIPSNN_TRAININGS", "3")
    monkeypatch.setenv("SKIPSNN_TRAIN_MINUTES", "2.5")
    board = Board.from_env(tmp_path)
    assert (board.limit, board.cap_minutes, board.models_dir) == (3, 2.5, Path(tmp_path))
    monkeypatch.delenv("SKIPSNN_TRAININGS")
    monkeypatch.delenv("SKIPSNN_TRAIN_MINUTES")
    assert (Board.from_env(tmp_path).limit, Board.from_env(tmp_path).cap_minutes) == (2, 10.0)
