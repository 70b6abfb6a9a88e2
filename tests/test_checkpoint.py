import os

import pytest
import torch

from skipsnn_core import CheckpointError, SkipSNN, SkipSNNConfig, load_checkpoint, save_checkpoint

CFG = SkipSNNConfig(n_inputs=2312, n_hidden=32)


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    m = SkipSNN(CFG)
    path = save_checkpoint(m, tmp_path / "m.pt", {"dataset": "digits", "figures": {"accuracy": 0.5}})
    return m, path


def test_round_trip_keeps_config_weights_and_meta(saved):
    m, path = saved
    loaded = load_checkpoint(path, device="cpu")
    assert loaded.config == CFG
    assert loaded.meta["dataset"] == "digits" and loaded.meta["kind"] == "skipsnn"
    for (k, a), (_, b) in zip(m.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    assert not loaded.training
    x = (torch.rand(1, 60, 2312) < 0.01).float()
    assert torch.equal(m.eval().trace(x).gate, loaded.trace(x).gate)


def test_plain_snn_kind(tmp_path):
    path = save_checkpoint(SkipSNN(SkipSNNConfig(n_hidden=8, controller=False)), tmp_path / "s.pt", {"dataset": "nmnist"})
    assert load_checkpoint(path, "cpu").meta["kind"] == "snn"


def test_truncated_file_is_rejected(saved, tmp_path):
    _, path = saved
    data = path.read_bytes()
    bad = tmp_path / "cut.pt"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(bad)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.pt")


def test_wrong_shape_is_rejected(saved, tmp_path):
    _, path = saved
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["fc_out.weight"] = torch.zeros(10, 31)
    torch.save(payload, tmp_path / "shape.pt")
    with pytest.raises(CheckpointError, match="fc_out.weight.*shape"):
        load_checkpoint(tmp_path / "shape.pt")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_rejected(saved, tmp_path, value):
    _, path = saved
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["b_in"][3] = value
    torch.save(payload, tmp_path / "nan.pt")
    with pytest.raises(CheckpointError, match="b_in.*NaN or infinite"):
        load_checkpoint(tmp_path / "nan.pt")


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/skipsnn_pwned",))


def test_pickled_code_is_refused_not_run(saved, tmp_path):
    _, path = saved
    payload = torch.load(path, weights_only=True)
    payload["meta"]["evil"] = Exploit()
    torch.save(payload, tmp_path / "evil.pt")
    if os.path.exists("/tmp/skipsnn_pwned"):
        os.remove("/tmp/skipsnn_pwned")
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not os.path.exists("/tmp/skipsnn_pwned")


def test_not_a_checkpoint(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a SkipSNN checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_failed_save_leaves_the_old_file_and_no_temp(saved, monkeypatch):
    m, path = saved
    before = path.read_bytes()

    def broken_save(obj, f, *a, **k):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(m, path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_device_environment_override(saved, monkeypatch):
    _, path = saved
    monkeypatch.setenv("SKIPSNN_DEVICE", "cpu")
    assert load_checkpoint(path).device.type == "cpu"
    if not torch.cuda.is_available():
        monkeypatch.setenv("SKIPSNN_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            load_checkpoint(path)


def test_read_meta_without_loading_weights(saved):
    from skipsnn_core.checkpoint import read_meta

    _, path = saved
    assert read_meta(path)["dataset"] == "digits"
