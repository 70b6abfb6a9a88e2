"""Every page and control of the app under Streamlit's AppTest, checked against the core."""

import functools
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from skipsnn_core import SkipSNN, SkipSNNConfig, load_checkpoint, save_checkpoint
from skipsnn_core.data import FrameSpec, framed, open_dataset
from skipsnn_core.cards import card_for, headline
from skipsnn_core.explore import SampleSpec, ViewOptions, make_sample, percent, run_trace, summarize, verdict

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app_script.py")  # the script each session runs; app.py is the server around it
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


@functools.lru_cache(maxsize=8)
def core_model(checkpoint: str, mtime: float) -> SkipSNN:
    """The checkpoint, loaded once per file version for the module's checks (as the app caches it; never mutated)."""
    return load_checkpoint(checkpoint, device="cpu")


@functools.lru_cache(maxsize=8)
def core_data(dataset: str, data_dir: str | None):
    """The test split's frames, read once for the module's checks (as the app caches them; never mutated)."""
    return framed(open_dataset(dataset, data_dir, "test"), FrameSpec())


def expected(app: AppTest) -> dict[str, str]:
    """The same cards computed straight from the core for the app's current settings."""
    state = app.session_state
    selection = state["selection"]
    model = core_model(selection.checkpoint, Path(selection.checkpoint).stat().st_mtime)
    data = core_data(selection.dataset, selection.data_dir)
    spec = SampleSpec(index=int(state["sample"]), noise_level=int(state["noise"]), start=int(state["start"]),
                      seed=int(state["seed"]), T=300)
    gated = model.config.controller
    edits = state["edits"] if "edits" in state and state["gate"] == "controller" else ""
    view = ViewOptions(controller_theta=float(state["theta"]), gate_mode=state["mode"], gate=state["gate"],
                       edits=edits) if gated else ViewOptions()
    sample = make_sample(data, spec)
    s = summarize(sample, run_trace(model, sample, view))
    classes = [str(c) for c in range(10)]
    cards = {"Prediction": verdict(s.prediction, s.label, classes), "Confidence": "–" if s.silent else percent(s.confidence),
             "Synaptic ops": f"{s.synops / 1e6:.2f} M"}
    if gated:
        cards.update({"State updates": percent(s.state_updates, 1), "Gate precision": f"{s.gate_precision:.2f}",
                      "Gate recall": f"{s.gate_recall:.2f}"})
    return cards


def array(value):
    """A figure's array as the browser gets it: a list, or plotly's typed array {"dtype", "bdata" (base64)}."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def chart_spec(app: AppTest) -> dict:
    """The live Explorer chart's payload (skipsnn_core.figures.explorer_payload) as the browser receives it."""
    (chart,) = [c for c in app.get("bidi_component") if "steps" in json.loads(json.loads(c.proto.json)["spec"])]
    return json.loads(json.loads(chart.proto.json)["spec"])


def check(app: AppTest) -> None:
    assert not app.exception, [e.message for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    cards = shown(app)
    for label, value in expected(app).items():
        assert cards[label] == value, f"{label}: shown {cards[label]!r}, core says {value!r}"


def test_default_view_matches_core(at):
    assert at.session_state["selection"].dataset == "digits"
    assert len(at.get("bidi_component")) == 2, "the explorer chart and the forced-open evidence, both updated in place"
    spec = chart_spec(at)
    assert spec["figure"]["layout"]["meta"]["view"]["controller_theta"] == 0.5
    assert spec["steps"]["T"] == 300 and len(spec["cursor"]["lines"]) == 6
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


def test_a_broken_link_says_what_it_changed():
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in {"sample": "100000", "theta": "abc", "noise": "1000", "mode": "bogus", "gate": "x",
                       "start": "-7", "seed": "1e300", "data_dir": "/root"}.items():
        app.query_params[key] = value
    app.run()
    assert not app.exception and not app.error
    (warning,) = [w.value for w in app.warning]
    for said in ("`sample=100000` is outside 0–359: showing `359`", "`theta=abc` is not a number", "`noise=1000` is outside 0–8",
                 "`mode=bogus` is not one of mask, freeze: showing `mask`", "`gate=x`", "`start=-7` is outside",
                 "`seed=1e300` is outside", "`data_dir` is not a setting of this app: ignored"):
        assert said in warning, f"{said!r} missing from the notice: {warning}"
    assert (app.number_input(key="sample").value, app.slider(key="noise").value, app.slider(key="start").value) == (359, 8, 0)
    assert app.slider(key="theta").value == pytest.approx(0.5) and app.radio(key="mode").value == "mask"
    assert app.number_input(key="seed").value == 2**31 - 1
    check(app)


def test_a_silent_network_gets_no_verdict():
    """At gate threshold 1.5 the shipped digits model lets almost nothing in on sample 0 and no output neuron fires."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params["theta"] = "1.5"
    app.run()
    check(app)
    cards = [(m.label, m.value, m.delta) for m in app.metric]
    assert ("Prediction", "none (silent network)", "true label 0") in cards, cards
    assert ("Confidence", "–", "") in cards
    assert not any("✓" in value for label, value, _ in cards[:2]), "label 0 is not a correct answer from silence"


def test_plain_snn_has_no_gate_to_show(at):
    at.selectbox(key="model_digits").set_value("digits_snn").run()
    check(at)
    assert {m.label for m in at.metric} == {"Prediction", "Confidence", "Synaptic ops"}, "no gate precision, recall or updates"
    assert len(at.get("plotly_chart")) == 0 and len(at.get("bidi_component")) == 1, "no forced-open column: always open"
    spec = json.dumps(chart_spec(at)["figure"])
    assert "controller u" not in spec and "Gate:" not in spec and "Hidden raster" in spec
    off = at.slider(key="theta_off")
    assert off.disabled and "plain SNN" in off.help
    assert at.radio(key="mode_off").disabled and at.selectbox(key="gate_off").disabled
    assert not {"theta", "mode", "gate"} & set(at.query_params)


def test_model_card_page_shows_the_published_figures(at):
    at.switch_page("views/model_card.py").run()
    assert not at.exception and not at.error
    card = card_for(at.session_state["selection"].checkpoint)
    assert card is not None, "the shipped checkpoint has a card measured by the evaluate CLI"
    figures = headline(card)
    cards = shown(at)
    assert cards["Accuracy"] == percent(figures["accuracy"], 1), "the same accuracy as README.md and MODEL_CARDS.md"
    assert cards["Gate recall"] == f"{figures['gate_recall']:.2f}"
    assert at.code and at.code[0].value.startswith("python3 -m skipsnn_core.train")
    assert "/tmp" not in at.code[0].value and "--out retrained/" in at.code[0].value, "a command that runs from a fresh clone"
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Noise sweep" in t for t in titles) and any("training-time" in t for t in titles)
    from skipsnn_core.cards import neurobench_markdown

    assert any(m.value == neurobench_markdown(card["neurobench"]) for m in at.markdown), "NeuroBench's figures beside ours"


def test_real_nmnist_folder(at, nmnist_dir):
    at.selectbox(key="dataset").set_value("nmnist").run()
    selection = at.session_state["selection"]
    assert selection.dataset == "nmnist" and Path(selection.data_dir).resolve() == nmnist_dir.resolve(), \
        "the shared N-MNIST folder is found in the data roots"
    check(at)


@pytest.mark.parametrize("folder", ["/root", "/definitely/not/here", "../../../../etc"])
def test_a_folder_outside_the_data_roots_gets_one_fixed_message(at, folder):
    at.selectbox(key="dataset").set_value("nmnist").run()
    at.selectbox(key="data_folder").set_value("other folder").run()
    at.text_input(key="data_dir_text").input(folder).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors == ["**Cannot show this selection.** this folder is not one the server offers"], errors
    at.selectbox(key="dataset").set_value("digits").run()
    check(at)


def test_empty_folder_and_checkpoint_boxes_ask_for_a_choice(at):
    at.selectbox(key="dataset").set_value("nmnist").run()
    at.selectbox(key="data_folder").set_value("other folder").run()
    assert any("choose a folder" in e.value for e in at.error)
    at.selectbox(key="dataset").set_value("digits").run()
    at.selectbox(key="model_digits").set_value("other").run()
    assert any("choose a checkpoint file" in e.value for e in at.error)
    assert not any("no such file" in e.value for e in at.error)


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("SKIPSNN_MODELS", str(folder))
    return folder


def test_checkpoint_that_does_not_fit_the_dataset(at, models_dir):
    save_checkpoint(SkipSNN(SkipSNNConfig(n_inputs=700, n_hidden=8, n_classes=20)), models_dir / "shd.pt", {"dataset": "shd"})
    at.selectbox(key="model_digits").set_value("other").run()
    at.text_input(key="checkpoint_path").input("shd.pt").run()
    assert not at.exception
    assert any("700 input channels" in e.value and "2312" in e.value for e in at.error)


def test_broken_checkpoint_file_is_reported(at, models_dir):
    (models_dir / "broken.pt").write_bytes(b"not a checkpoint")
    at.selectbox(key="model_digits").set_value("other").run()
    at.text_input(key="checkpoint_path").input("broken.pt").run()
    assert not at.exception
    assert any("broken.pt" in e.value for e in at.error)
    at.switch_page("views/model_card.py").run()
    assert not at.exception and any("broken.pt" in e.value for e in at.error)


def test_a_checkpoint_outside_the_offered_folders_is_refused(at, tmp_path):
    outside = save_checkpoint(SkipSNN(SkipSNNConfig(n_hidden=8)), tmp_path / "elsewhere.pt", {"dataset": "digits"})
    at.selectbox(key="model_digits").set_value("other").run()
    for text in (str(outside), str(tmp_path / "missing.pt"), "../../../../etc/passwd"):
        at.text_input(key="checkpoint_path").input(text).run()
        assert not at.exception
        assert [e.value for e in at.error] == ["**Cannot show this selection.** this file is not one the server offers"]


def test_a_shared_link_restores_the_dataset_and_model(at, nmnist_dir):
    at.selectbox(key="dataset").set_value("nmnist").run()
    at.selectbox(key="model_nmnist").set_value("nmnist_snn").run()
    link = dict(at.query_params)
    assert link["dataset"] == "nmnist" and link["model"] == "nmnist_snn"
    assert not any("/" in value for value in link.values()), f"no server path in a link: {link}"
    fresh = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in link.items():
        fresh.query_params[key] = value
    fresh.run()
    assert fresh.session_state["selection"] == at.session_state["selection"]
    assert not fresh.warning, "a link the app wrote itself is valid"
    check(fresh)


def test_why_page_splits_the_controller_input_like_the_core(at):
    from skipsnn_core.explain import gate_attribution, step_to_explain

    at.switch_page("views/why.py").run()
    assert not at.exception and not at.error
    state = at.session_state
    step = int(state["why_step"])
    model = load_checkpoint(state["selection"].checkpoint, device="cpu")
    data = framed(open_dataset("digits", None, "test"), FrameSpec())
    sample = make_sample(data, SampleSpec(index=int(state["sample"]), noise_level=int(state["noise"]), start=int(state["start"]),
                                          seed=int(state["seed"]), T=300))
    trace = run_trace(model, sample, ViewOptions(controller_theta=float(state["theta"]), gate_mode=state["mode"]))
    att = gate_attribution(model, trace)
    assert step == step_to_explain(att, trace, sample.signal.numpy()), "it opens on the step the core picks"
    assert bool(trace.controller_spikes[0, step]) and sample.signal[step], "a crossing inside the signal"
    assert float(att.hidden[0, step].sum()) > float(att.pulses[0, step].sum() + att.bias[0, step]), \
        "driven mainly by the hidden neurons, not a pulse wake-up"
    first_ids, _ = att.top_hidden(step, k=10)
    assert int(state["why_neuron"]) == int(first_ids[0]), "the inspector starts on the neuron that pushed most"
    theta_card = next(m for m in at.metric if m.label.startswith("Membrane u vs θc = "))
    assert theta_card.label == f"Membrane u vs θc = {trace.controller_theta:g}" and " of θc" in theta_card.delta
    busy = [t for t in trace.controller_spikes[0].nonzero().flatten().tolist() if trace.hidden_spikes[0, t].sum() > 3]
    step = busy[0]
    at.number_input(key="why_step").set_value(step).run()
    cards = {m.label.split(" (")[0]: m for m in at.metric}
    assert cards[f"Controller input at step {step}"].value == f"{float(att.total[0, step]):+.3f}"
    assert cards["from hidden spikes"].value == f"{float(att.hidden[0, step].sum()):+.3f}"
    assert cards["from bias"].value == f"{float(att.bias[0, step]):+.3f}"
    theta = trace.controller_theta
    assert cards["from bias"].delta == f"{float(att.bias[0, step]) / theta:+.2f} of θc = {theta:g}", "θc is the scale"
    top = json.loads(at.get("plotly_chart")[1].proto.spec)
    ids, _ = att.top_hidden(step, k=10)
    assert top["layout"]["title"]["text"].startswith(f"The {len(ids)} hidden neurons")
    rows = [a for a in top["layout"]["annotations"] if a.get("name", "").startswith("row ")]
    assert [a["text"].split(" · ")[0] for a in rows] == [f"<b>neuron {h}</b>" for h in ids], "the top neurons, largest first"
    assert all(a["xanchor"] == "left" and a["x"] == 0 and a["font"]["size"] >= 12 for a in rows), "ids readable, never cut"
    clickable = [t for t in top["data"] if t.get("customdata") is not None]
    assert [int(array(t["customdata"])[0]) for t in clickable] == [int(h) for h in ids], "each row's membrane names its neuron"
    assert int(at.session_state["why_neuron"]) == int(ids[0]), "a new step: the inspector follows its top neuron"
    at.button(key="why_next").click().run()
    later = int(at.session_state["why_step"])
    assert later > step and bool(trace.controller_spikes[0, later]), "next spike"
    assert not (trace.controller_spikes[0, step + 1 : later]).any()
    at.number_input(key="why_neuron").set_value(17).run()
    assert not at.exception
    inspected = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert inspected["layout"]["title"]["text"] == "Neuron 17 up close"


def test_why_page_for_a_plain_snn_says_there_is_no_gate(at):
    at.selectbox(key="model_digits").set_value("digits_snn").run()
    at.switch_page("views/why.py").run()
    assert not at.exception and not at.error
    assert any("plain SNN" in i.value for i in at.info)


def test_a_link_with_gate_edits_reproduces_them():
    """Steps forced on the gate travel in the link; the edited run is shown against the controller's own."""
    from skipsnn_core.explore import edits_override, parse_edits

    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params["edits"] = "c121-140,o200-210"
    app.run()
    assert not app.exception and not app.warning
    check(app)  # the main cards are the edited run, as the core computes it
    state = app.session_state
    model = load_checkpoint(state["selection"].checkpoint, device="cpu")
    sample = make_sample(framed(open_dataset("digits", None, "test"), FrameSpec()), SampleSpec(start=120, T=300))
    edited = model.trace(sample.x[None], gate_override=edits_override(parse_edits("c121-140,o200-210", 300), 300))
    assert not edited.gate[0, 121:141].any() and edited.gate[0, 200:211].all()
    own = summarize(sample, run_trace(model, sample, ViewOptions()))
    cards = {m.label: (m.value, m.delta) for m in app.metric}
    assert cards["Prediction, edited"][1] == f"controller's own: {own.prediction} {'✓' if own.correct else '✗'}"
    assert cards["State updates, edited"][0] == percent(float(edited.gate.float().mean()), 1)
    assert app.query_params["edits"] == "c121-140,o200-210"
    app.button(key="edit_clear").click().run()
    assert "edits" not in app.query_params and "Prediction, edited" not in {m.label for m in app.metric}
    app.button(key="edit_undo").click().run()
    assert app.session_state["edits"] == "c121-140,o200-210", "undo brings the cleared edits back"
    app.selectbox(key="gate").set_value("oracle").run()
    check(app)
    assert "Prediction, edited" not in {m.label for m in app.metric}, "edits apply to the controller's gate only"


def test_compare_page_runs_b_as_the_core_does():
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in {"sample": "4", "b_model": "digits_snn", "b_noise": "3", "b_seed": "7"}.items():
        app.query_params[key] = value
    app.switch_page("views/compare.py").run()  # the link opens the Compare page itself
    assert not app.exception and not app.error and not app.warning
    assert app.session_state["selection"].model_id == "digits_skipsnn" and app.session_state["sample"] == 4
    model_b = load_checkpoint(ROOT / "assets" / "digits_snn.pt", device="cpu")
    data = framed(open_dataset("digits", None, "test"), FrameSpec())
    sample_b = make_sample(data, SampleSpec(index=4, noise_level=3, start=120, seed=7, T=300))
    sb = summarize(sample_b, run_trace(model_b, sample_b, ViewOptions()))
    cards = [(m.label, m.value, m.delta) for m in app.metric]
    b_cards = cards[4:]
    assert b_cards[0][1] == verdict(sb.prediction, sb.label, [str(c) for c in range(10)])
    assert b_cards[2][1] == "100% (no gate)" and b_cards[3][1] == f"{sb.synops / 1e6:.2f} M"
    assert app.query_params["b_model"] == "digits_snn" and app.query_params["b_noise"] == "3"
    app.text_input(key="b_edits").input("x9").run()
    assert not app.exception and any("cannot be read" in e.value for e in app.error)
    spec = json.loads(app.get("plotly_chart")[0].proto.spec) if app.get("plotly_chart") else None
    assert spec is None or "Gates" in json.dumps(spec)


def test_compare_names_runs_by_what_differs_counts_the_differing_steps_and_keeps_zero_neutral():
    from skipsnn_core.explore import gate_differences

    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in {"sample": "3", "b_mode": "mask", "b_theta": "0.8"}.items():
        app.query_params[key] = value
    app.switch_page("views/compare.py").run()
    assert not app.exception and not app.error
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["yaxis"]["ticktext"] == ["θc 0.8", "θc 0.5"], "rows named by the setting that differs (B on top)"
    model = load_checkpoint(ROOT / "assets" / "digits_skipsnn.pt", device="cpu")
    sample = make_sample(framed(open_dataset("digits", None, "test"), FrameSpec()), SampleSpec(index=3, start=120, T=300))
    a, b = (run_trace(model, sample, ViewOptions(controller_theta=t, gate_mode="mask")) for t in (0.5, 0.8))
    n = len(gate_differences(a, b))
    assert n > 0
    assert any(f"The gates differ on {n} of 300 steps" in m.value for m in app.markdown), "the count is stated"
    assert f"the {n} steps where they differ" in spec["layout"]["annotations"][0]["text"]
    titles = [m.value for m in app.markdown if m.value.startswith("**A:") or m.value.startswith("**B:")]
    assert titles == ["**A: θc 0.5**", "**B: θc 0.8 (differences from A)**"]
    fewer = next(m for m in list(app.metric)[4:] if m.label == "State updates")
    assert fewer.delta.startswith("-") and "direction: NONE" not in str(fewer.proto) and "color: GREEN" in str(fewer.proto), \
        "a stricter gate admits fewer frames: a fall, drawn as a gain"
    same = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in {"b_mode": "mask", "b_theta": "0.5"}.items():
        same.query_params[key] = value
    same.switch_page("views/compare.py").run()
    spec = json.loads(same.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["yaxis"]["ticktext"] == ["B", "A"] and any("same settings" in i.value for i in same.info)
    zero = list(same.metric)[5:]  # B's confidence, state updates and synaptic ops: all unchanged
    assert [m.delta for m in zero] == ["±0 points", "±0 points", "±0 M"]
    for m in zero:
        assert "direction: NONE" in str(m.proto) and "color: GRAY" in str(m.proto), f"no change is neutral: {m.proto}"


@pytest.mark.parametrize("name", ["Heavy noise", "Gate too strict", "A misclassified sample", "Late signal"])
def test_presets_reproduce_their_settings(name):
    from ui import presets

    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    app.selectbox(key="preset").set_value(name).run()
    check(app)
    wanted = presets.settings(name)
    for key in presets.KEYS:
        assert app.session_state[key] == pytest.approx(wanted[key]) if isinstance(wanted[key], float) else \
            app.session_state[key] == wanted[key], key
    via_link = AppTest.from_file(APP, default_timeout=TIMEOUT)  # the same preset as a plain link
    for key, value in wanted.items():
        via_link.query_params[key] = str(value)
    via_link.run()
    assert not via_link.warning and shown(via_link) == shown(app)
    if name == "Gate too strict":
        assert shown(app)["Prediction"] == "none (silent network)"
    if name == "A misclassified sample":
        assert "✗" in shown(app)["Prediction"]


def test_tour_steps_render_navigate_and_stay_short():
    app = AppTest.from_file(APP, default_timeout=300)
    app.query_params["tour"] = "2"
    app.switch_page("views/tour.py").run()
    seen = []
    for step in range(2, 9):
        assert not app.exception and not app.error, step
        assert app.session_state["tour_step"] == step
        text = next(m.value for m in app.markdown if len(m.value.split()) > 20)
        assert len(text.split()) <= 80, f"step {step} has {len(text.split())} words"
        seen.append(len(app.get("plotly_chart")) + len(app.get("bidi_component")))
        if step == 2:
            card = json.loads((ROOT / "assets" / "model_cards.json").read_text())["digits_snn.pt"]
            assert percent(next(r["accuracy"] for r in card["sweep"] if r["noise_level"] == 4)) in text, "numbers from the cards"
        if step == 5:  # the text's numbers are the figure's: where accuracy falls most, and to what
            fig = json.loads(app.get("plotly_chart")[0].proto.spec)
            gated = next(t for t in fig["data"] if t["name"] == "SkipSNN, gated")
            x, acc = list(array(gated["x"])), list(array(gated["y"]))
            i = max(range(len(acc) - 1), key=lambda k: acc[k] - acc[k + 1])
            assert f"θc {x[i]:g}" in text and f"θc {x[i + 1]:g}" in text and f"accuracy to {percent(acc[i + 1])}" in text
        if step == 6:
            fig = json.loads(app.get("plotly_chart")[0].proto.spec)
            assert fig["layout"]["yaxis"]["ticktext"] == ["freeze", "mask"]
            assert not any(t.get("showlegend", True) for t in fig["data"] if t["name"].endswith(": gate")), \
                "rows named by their axis, not by two identical legend marks"
            differ = next(t for t in fig["data"] if t["name"].startswith("◆ gates differ"))
            assert f"differ on {len(array(differ['x']))} of 300 steps" in text
        if step < 8:
            app.button(key="tour_next").click().run()
    assert all(n >= 1 for n in seen), "every step has a live figure"
    assert app.query_params["tour"] == "8"
    assert not [m for m in app.markdown if "](" in m.value], "no link that opens a second tab"
    app.button(key="tour_back").click().run()
    assert app.session_state["tour_step"] == 7
    app.button(key="tour_next").click().run()
    app.switch_page("views/explore.py").run()  # the session has been to Explore: its link was read, sample 0
    assert app.session_state["sample"] == 0
    app.switch_page("views/tour.py").run()
    assert app.session_state["tour_step"] == 8
    app.button(key="tour_open").click().run()  # in this session: the Explorer shows the tour's sample
    assert not app.exception
    assert app.session_state["sample"] == 3 and app.session_state["start"] == 120 and app.session_state["noise"] == 1
    assert any(m.label == "State updates" for m in app.metric), "the Explorer's cards"


def test_the_server_answers_only_once_it_is_warmed_up():
    """app.py's lifespan warms the process before uvicorn opens the port: the first health check, the proxy's
    signal to send users, comes after the warm-up finished, never before (it takes seconds, so a port opened
    first would answer first)."""
    from bench.browser import server

    with server(ROOT / "app.py") as (url, _, log):
        text = log.read_text()
    assert "warmed up in" in text, text[-2000:]
