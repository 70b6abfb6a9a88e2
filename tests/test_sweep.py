"""Sweeps equal the evaluate CLI on the same grid, and the Sweeps page draws them."""

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from skipsnn_core import load_checkpoint
from skipsnn_core.data import FrameSpec, framed, open_dataset
from skipsnn_core.sweep import noise_sweep, threshold_sweep
from tests.test_app import APP

ROOT = Path(__file__).resolve().parents[1]


def test_noise_sweep_equals_the_evaluate_cli(capsys):
    from skipsnn_core import evaluate

    args = ["--checkpoint", str(ROOT / "assets" / "digits_skipsnn.pt"), "--dataset", "digits", "--json", "--sweep", "0,3",
            "--limit", "40", "--oracle", "--controller-theta", "0.6"]
    assert evaluate.main(args) == 0  # the CLI's main in this process: the same code as python -m skipsnn_core.evaluate
    cli = json.loads(capsys.readouterr().out)
    model = load_checkpoint(ROOT / "assets" / "digits_skipsnn.pt", "cpu")
    data = framed(open_dataset("digits", None, "test"), FrameSpec())
    rows = noise_sweep(model, data, (0, 3), theta=0.6, limit=40)
    for ours, theirs in zip(rows, cli):
        for key, value in theirs.items():
            assert ours[key] == value, f"noise {theirs['noise_level']}: {key} {ours[key]} != CLI {value}"
    assert all("oracle_accuracy" in r and r["n_samples"] == 40 for r in rows)


def test_threshold_sweep_trades_updates_for_accuracy():
    model = load_checkpoint(ROOT / "assets" / "digits_skipsnn.pt", "cpu")
    data = framed(open_dataset("digits", None, "test"), FrameSpec())
    rows = threshold_sweep(model, data, (0.0, 0.5, 1.5), level=1, limit=24)
    updates = [r["state_updates"] for r in rows]
    assert updates[0] > updates[1] > updates[2], f"a higher threshold opens the gate less often: {updates}"
    assert [r["theta"] for r in rows] == [0.0, 0.5, 1.5]


def test_sweep_page_draws_the_sweep():
    app = AppTest.from_file(APP, default_timeout=300)
    app.query_params["n"] = "60"
    app.switch_page("views/sweep.py").run()
    assert not app.exception and not app.error and not app.warning
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    names = {t.get("name") for t in spec["data"]}
    assert {"SkipSNN, gated", "same weights, gate forced open", "same weights, oracle gate", "plain SNN"} <= names
    gated = next(t for t in spec["data"] if t.get("name") == "SkipSNN, gated")
    assert list(gated["x"]) == list(range(9))
    model = load_checkpoint(ROOT / "assets" / "digits_skipsnn.pt", "cpu")
    data = framed(open_dataset("digits", None, "test"), FrameSpec())
    again = noise_sweep(model, data, (0, 8), theta=0.5, limit=60)
    assert [gated["y"][0], gated["y"][8]] == [again[0]["accuracy"], again[1]["accuracy"]]
    assert app.query_params["axis"] == "noise" and app.query_params["n"] == "60"
