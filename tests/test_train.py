"""Training and evaluation CLIs on a tiny real-data problem."""

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from skipsnn_core import load_checkpoint
from tests.conftest import copy_nmnist
from skipsnn_core import train as train_mod
from skipsnn_core.train import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny_nmnist(nmnist_dir, tmp_path):
    """60 real recordings (48 train, 12 test by the row % 5 rule) in a folder of their own."""
    return copy_nmnist(nmnist_dir, tmp_path / "nmnist", 60)


@pytest.fixture
def cfg(tiny_nmnist, tmp_path, monkeypatch):
    monkeypatch.setenv("SKIPSNN_CACHE", str(tmp_path / "cache"))
    return TrainConfig(dataset="nmnist", data_dir=str(tiny_nmnist), hidden=128, T=80, L=20, epochs=2, lr=1e-2,
                       batch_size=8, lam=0.5, out=str(tmp_path / "tiny.pt"))


def test_two_epochs_reduce_loss_and_write_a_loadable_checkpoint(cfg):
    train(cfg, command="python -m skipsnn_core.train --tiny", quiet=True)
    loaded = load_checkpoint(cfg.out, "cpu")
    history = loaded.meta["history"]
    assert len(history) == 2 and history[1]["loss"] < history[0]["loss"], history
    assert loaded.meta["dataset"] == "nmnist" and loaded.meta["kind"] == "skipsnn"
    assert loaded.meta["command"] == "python -m skipsnn_core.train --tiny"
    assert loaded.config.n_hidden == 128 and loaded.meta["figures"]["n_samples"] == 12
    assert not Path(cfg.out + ".resume").exists(), "the resume file goes once training is done"


def interrupt_in_epoch_2(cfg, monkeypatch):
    """Run training until the validation of epoch 2, as if the user pressed Ctrl-C there."""
    calls = {"n": 0}
    real = train_mod.evaluate

    def interrupted(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(train_mod, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, quiet=True)
    monkeypatch.setattr(train_mod, "evaluate", real)


def test_resume_continues_after_an_interruption(cfg, monkeypatch):
    interrupt_in_epoch_2(cfg, monkeypatch)
    assert Path(cfg.out + ".resume").is_file() and not Path(cfg.out).exists()
    train(cfg, resume=True, quiet=True)
    assert [row["epoch"] for row in load_checkpoint(cfg.out, "cpu").meta["history"]] == [1, 2]
    assert not Path(cfg.out + ".resume").exists()


def test_resume_refuses_another_configuration(cfg, monkeypatch):
    interrupt_in_epoch_2(cfg, monkeypatch)
    with pytest.raises(SystemExit, match="different training configuration"):
        train(replace(cfg, lr=2e-2), resume=True, quiet=True)


def test_plain_snn_kind(cfg):
    train(replace(cfg, kind="snn", epochs=1), quiet=True)
    m = load_checkpoint(cfg.out, "cpu")
    assert m.meta["kind"] == "snn" and not m.config.controller and m.meta["figures"]["state_updates"] == 1.0


def test_evaluate_cli_json_and_sweep(cfg, capsys):
    from skipsnn_core import evaluate

    train(replace(cfg, epochs=1), quiet=True)
    base = ["--checkpoint", cfg.out, "--dataset", "nmnist", "--data-dir", cfg.data_dir, "--json"]
    # main() in this process: the same code as `python -m skipsnn_core.evaluate`
    assert evaluate.main(base) == 0
    one = json.loads(capsys.readouterr().out)
    assert set(one) >= {"accuracy", "state_updates", "gate_precision", "gate_recall", "synops_saving"}
    assert 0 <= one["accuracy"] <= 1 and 0 < one["state_updates"] <= 1 and 0 <= one["gate_recall_visible"] <= 1
    assert one["oracle_state_updates"] == pytest.approx(20 / 80)
    assert evaluate.main(base + ["--sweep", "0,2"]) == 0
    sweep = json.loads(capsys.readouterr().out)
    assert [row["noise_level"] for row in sweep] == [0, 2]


def test_evaluate_cli_errors_are_clear(cfg, tmp_path, capsys):
    from skipsnn_core import evaluate

    train(replace(cfg, epochs=1), quiet=True)
    assert evaluate.main(["--checkpoint", cfg.out, "--dataset", "nmnist", "--data-dir", str(tmp_path / "absent")]) == 2
    missing = capsys.readouterr()
    assert "absent: no such folder" in missing.err and "Traceback" not in missing.err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"junk")
    assert evaluate.main(["--checkpoint", str(bad), "--dataset", "digits"]) == 2
    broken = capsys.readouterr()
    assert "bad.pt" in broken.err and "Traceback" not in broken.err


def test_a_training_sample_gets_the_same_draw_in_any_batch():
    """Shift, start and noise come from (seed, epoch, sample index): rows 0-3 in one batch or in two halves (two
    ranks' shares of a global batch) are the same tensors; another epoch or seed draws others."""
    import torch

    from skipsnn_core.train import training_batch

    cfg = TrainConfig(T=30, L=6, noise_level=2, shift=2, seed=5)
    sig = (torch.rand(4, 6, 2312, generator=torch.Generator().manual_seed(1)) < 0.05).to(torch.uint8)
    whole = training_batch(sig, [10, 11, 12, 13], cfg, 3, (34, 34, 2))
    halves = torch.cat([training_batch(sig[:2], [10, 11], cfg, 3, (34, 34, 2)),
                        training_batch(sig[2:], [12, 13], cfg, 3, (34, 34, 2))])
    assert whole.shape == (4, 30, 2312) and torch.equal(whole, halves)
    assert torch.equal(training_batch(sig[2:3], [12], cfg, 3, (34, 34, 2))[0], whole[2]), "alone as in a batch"
    assert not torch.equal(whole, training_batch(sig, [10, 11, 12, 13], cfg, 4, (34, 34, 2))), "a new epoch, new noise"
    assert not torch.equal(whole, training_batch(sig, [10, 11, 12, 13], replace(cfg, seed=6), 3, (34, 34, 2)))


def test_tonic_nmnist_layout_trains_on_train_and_evaluates_on_test(nmnist_dir, tmp_path, monkeypatch, capsys):
    """--data-dir at tonic's NMNIST root (Train/<digit>/*.bin, Test/<digit>/*.bin): trained on Train/, measured on Test/."""
    import shutil

    from skipsnn_core import evaluate
    from skipsnn_core.data import NMNISTFolder

    monkeypatch.setenv("SKIPSNN_CACHE", str(tmp_path / "cache"))
    src = NMNISTFolder(nmnist_dir, "all")
    for part, picks in (("Train", range(0, 12)), ("Test", range(12, 17))):
        for i in picks:
            dest = tmp_path / "root" / "NMNIST" / part / str(src.labels[i])
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(src.files[i], dest / f"{i:05d}.bin")
    out = tmp_path / "tonic.pt"
    train_mod.main(["--dataset", "nmnist", "--data-dir", str(tmp_path / "root"), "--hidden", "16", "--T", "30", "--L", "10",
                    "--epochs", "1", "--batch-size", "4", "--out", str(out), "--quiet"])
    assert json.loads(capsys.readouterr().out)["n_samples"] == 5, "figures on Test/"
    assert load_checkpoint(out, "cpu").meta["train_config"]["data_dir"] == str(tmp_path / "root")
    assert evaluate.main(["--checkpoint", str(out), "--dataset", "nmnist", "--data-dir", str(tmp_path / "root"),
                          "--split", "train", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_samples"] == 12


def test_limit_trains_on_the_first_recordings_and_checks_on_the_whole_held_out_split(cfg, monkeypatch):
    """--limit 20 of the 48: each epoch's batches cover exactly the first 20 (20 / 8 -> 3 batches; the noise
    seeds are the recordings' own indices), and the held-out figures still count all 12."""
    from skipsnn_core.train import Hooks

    seen = []
    real = train_mod.training_batch

    def recording(signals, rows, *args, **kwargs):
        seen.append(list(rows))
        return real(signals, rows, *args, **kwargs)

    monkeypatch.setattr(train_mod, "training_batch", recording)
    batches = []
    train(replace(cfg, limit=20, epochs=1), quiet=True, hooks=Hooks(batch=lambda done, total: batches.append((done, total))))
    assert sorted(i for rows in seen for i in rows) == list(range(20)), seen
    assert batches[-1] == (3, 3)
    loaded = load_checkpoint(cfg.out, "cpu")
    assert loaded.meta["figures"]["n_samples"] == 12 and loaded.meta["train_config"]["limit"] == 20
    with pytest.raises(ValueError, match="--limit -1"):
        train(replace(cfg, limit=-1), quiet=True)
