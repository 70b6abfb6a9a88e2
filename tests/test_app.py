"""Every page and control of the app under Streamlit's AppTest, checked against the core."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from skipsnn_core import SkipSNN, SkipSNNConfig, load_checkpoint, save_checkpoint
from skipsnn_core.data import FrameSpec, framed, open_dataset
from skipsnn_core.explore import SampleSpec, ViewOptions, make_sample, run_trace, summarize

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 120  # first runs frame a dataset and load a model on a busy 2-core machine


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def shown(app: AppTest) -> dict[str, str]:
    """The metric cards of the main view: label -> value (first occurrence)."""
    out: dict[str, str] = {}
    for m in app.metric:
        out.setdefault(m.label, m.value)
    return out


def expected(app: AppTest) -> dict[str, str]:
    """The same cards computed straight from the core for the app's current settings."""
    state = app.session_state
    selection = state["selection"]
    model = load_checkpoint(selection.checkpoint, device="cpu")
    data = framed(open_dataset(selection.dataset, selection.data_dir, "test"), FrameSpec())
    spec = SampleSpec(index=int(state["sample"]), noise_level=int(state["noise"]), start=int(state["start"]),
                      seed=int(state["seed"]), T=300)
    view = ViewOptions(controller_theta=float(state["theta"]) if model.config.controller else None, gate_mode=state["mode"],
                       gate=state["gate"])
    sample = make_sample(data, spec)
    s = summarize(sample, run_trace(model, sample, view))
    return {
        "Prediction": f"{s.prediction} {'✓' if s.correct else '✗'}",
        "Confidence": f"{s.confidence:.0%}",
        "State updates": f"{s.state_updates:.1%}",
        "Gate precision": f"{s.gate_precision:.2f}",
        "Gate recall": f"{s.gate_recall:.2f}",
        "Synaptic ops": f"{s.synops / 1e6:.2f} M",
    }


def check(app: AppTest) -> None:
    assert not app.exception, [e.message for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    cards = shown(app)
    for label, value in expected(app).items():
        assert cards[label] == value, f"{label}: shown {cards[label]!r}, core says {value!r}"


def test_default_view_matches_core(at):
    assert at.session_state["selection"].dataset == "digits"
    assert len(at.get("plotly_chart")) == 2, "the explorer figure and the forced-open evidence"
    check(at)


@pytest.mark.parametrize(
    "key, value",
    [("noise", 4), ("start", 10), ("theta", 0.9), ("theta", -0.2)],
)
def test_sliders_rerun_inference(at, key, value):
    before = shown(at)
    at.slider(key=key).set_value(value).run()
    check(at)
    if key == "theta":
        assert shown(at)["State updates"] != before["State updates"], "the gate threshold changes how often the gate opens"


def test_gate_mode_seed_and_sample(at):
    at.radio(key="mode").set_value("freeze").run()
    check(at)
    at.number_input(key="seed").set_value(5).run()
    check(at)
    at.number_input(key="sample").set_value(17).run()
    check(at)


def test_oracle_and_open_gates(at):
    at.selectbox(key="gate").set_value("oracle").run()
    check(at)
    # the 50 signal frames, plus step 0, which is always open: 51 of 300
    assert shown(at)["Gate precision"] == f"{50 / 51:.2f}" and shown(at)["Gate recall"] == "1.00"
    assert shown(at)["State updates"] == f"{51 / 300:.1%}"
    at.selectbox(key="gate").set_value("open").run()
    check(at)
    assert shown(at)["State updates"] == "100.0%"


def test_digit_picker_and_random(at):
    at.selectbox(key="digit").set_value("7").run()
    check(at)
    assert "✓" in shown(at)["Prediction"] or "✗" in shown(at)["Prediction"]
    labels = framed(open_dataset("digits", None, "test"), FrameSpec()).y
    assert labels[at.session_state["sample"]] == 7
    at.button(key="random").click().run()
    check(at)


def test_view_state_comes_from_the_url():
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params["theta"] = "0.75"
    app.query_params["noise"] = "3"
    app.query_params["sample"] = "9"
    app.run()
    assert not app.exception
    assert app.slider(key="theta").value == pytest.approx(0.75)
    assert app.slider(key="noise").value == 3 and app.number_input(key="sample").value == 9
    check(app)


def test_model_card_page(at):
    at.switch_page("pages/model_card.py").run()
    assert not at.exception
    meta = load_checkpoint(at.session_state["selection"].checkpoint, device="cpu").meta
    assert shown(at)["Accuracy"] == f"{meta['figures']['accuracy']:.1%}"
    assert at.code and at.code[0].value.startswith("python -m skipsnn_core.train")


def test_real_nmnist_folder(at, nmnist_dir):
    at.selectbox(key="dataset").set_value("nmnist").run()
    at.text_input(key="data_dir").input(str(nmnist_dir)).run()
    assert at.session_state["selection"].dataset == "nmnist"
    check(at)


def test_missing_data_folder_shows_error_and_app_keeps_working(at, tmp_path):
    at.selectbox(key="dataset").set_value("nmnist").run()
    at.text_input(key="data_dir").input(str(tmp_path / "nowhere")).run()
    assert not at.exception
    assert any("nowhere" in e.value and "no such folder" in e.value for e in at.error)
    at.selectbox(key="dataset").set_value("digits").run()
    check(at)


def test_checkpoint_that_does_not_fit_the_dataset(at, tmp_path):
    path = save_checkpoint(SkipSNN(SkipSNNConfig(n_inputs=700, n_hidden=8, n_classes=20)), tmp_path / "shd.pt", {"dataset": "shd"})
    at.selectbox(key="checkpoint_digits").set_value("Other checkpoint file…").run()
    at.text_input(key="checkpoint_path").input(str(path)).run()
    assert not at.exception
    assert any("700 input channels" in e.value and "2312" in e.value for e in at.error)


def test_broken_checkpoint_file_is_reported(at, tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    at.selectbox(key="checkpoint_digits").set_value("Other checkpoint file…").run()
    at.text_input(key="checkpoint_path").input(str(bad)).run()
    assert not at.exception
    assert any("broken.pt" in e.value for e in at.error)
    at.switch_page("pages/model_card.py").run()
    assert not at.exception and any("broken.pt" in e.value for e in at.error)


def test_a_shared_link_restores_the_dataset(at, nmnist_dir):
    """The sidebar's choice lands in the URL; the Explore controls' URL round trip is tested in a real browser
    (AppTest does not report query parameters written by a fragment rerun)."""
    at.selectbox(key="dataset").set_value("nmnist").run()
    at.text_input(key="data_dir").input(str(nmnist_dir)).run()
    link = dict(at.query_params)
    assert {"dataset", "data_dir"} <= set(link)
    fresh = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in link.items():
        fresh.query_params[key] = value
    fresh.run()
    assert fresh.session_state["selection"] == at.session_state["selection"]
    check(fresh)
