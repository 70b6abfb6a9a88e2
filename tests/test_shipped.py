"""What ships in assets/ loads offline and is what the code would make."""

from pathlib import Path

import numpy as np
import pytest

from skipsnn_core import load_checkpoint
from skipsnn_core.data import BuiltinDigits, FrameSpec, framed, frames

ASSETS = Path(__file__).resolve().parents[1] / "assets"
CHECKPOINTS = sorted(ASSETS.glob("*.pt"))


def test_four_checkpoints_ship():
    kinds = {(load_checkpoint(p, "cpu").meta["dataset"], load_checkpoint(p, "cpu").meta["kind"]) for p in CHECKPOINTS}
    assert kinds == {("digits", "skipsnn"), ("digits", "snn"), ("nmnist", "skipsnn"), ("nmnist", "snn")}


@pytest.mark.parametrize("path", CHECKPOINTS, ids=lambda p: p.name)
def test_checkpoint_loads_offline_and_is_small(path):
    model = load_checkpoint(path, "cpu")
    assert path.stat().st_size < 10 * 2**20
    meta = model.meta
    assert meta["command"].startswith("python -m skipsnn_core.train")
    assert {"accuracy", "state_updates", "gate_precision", "gate_recall", "synops_saving"} <= set(meta["figures"])
    assert (meta["kind"] == "skipsnn") == model.config.controller


def test_shipped_digit_frames_match_the_simulator(tmp_path):
    ds = BuiltinDigits("test")
    shipped = framed(ds, FrameSpec(), cache_dir=tmp_path, shipped=ASSETS / "frames",
                     progress=lambda d, t: pytest.fail("the shipped cache was not used"))
    for i in (0, 1, 100, 359):
        events, label = ds[i]
        assert np.array_equal(shipped.x[i], frames(events, ds.sensor_size)), f"shipped frames of sample {i} are stale"
        assert shipped.y[i] == label


def test_published_figures_are_what_the_code_measures_now():
    """The one source of the published figures (assets/model_cards.json: README, MODEL_CARDS.md, Model card page)
    still equals the evaluate function for the shipped digits checkpoints at the reference noise."""
    import json

    from skipsnn_core.cards import README_BEGIN, README_END, readme_table
    from skipsnn_core.train import NoiseSpec, evaluate

    cards = json.loads((ASSETS / "model_cards.json").read_text())
    data = framed(BuiltinDigits("test"), FrameSpec(), shipped=ASSETS / "frames")
    for name in ("digits_skipsnn.pt", "digits_snn.pt"):
        published = next(r for r in cards[name]["sweep"] if r["noise_level"] == 1)
        now = evaluate(load_checkpoint(ASSETS / name, "cpu"), data, NoiseSpec(300, 1))
        for key in ("accuracy", "forced_open_accuracy", "silent", "n_samples"):
            assert now[key] == published[key], f"{name}: {key} is {now[key]} now, {published[key]} published"
        for key in ("state_updates", "gate_precision", "gate_recall", "synops_saving"):
            assert abs(now[key] - published[key]) < 1e-6, f"{name}: {key}"
    readme = (ASSETS.parent / "README.md").read_text()
    table = readme[readme.index(README_BEGIN): readme.index(README_END) + len(README_END)]
    assert table == readme_table(cards), "README's table is written from the cards (python3 tools/model_cards.py)"
    assert all(c["sha256"] for c in cards.values())
