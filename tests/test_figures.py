"""Figure builders: plain functions of a sample and its trace."""

import json
from dataclasses import replace

import numpy as np
import pytest
import plotly.io as pio
import torch

from skipsnn_core import SkipSNN, SkipSNNConfig
from skipsnn_core.data import Framed
from skipsnn_core.explore import SampleSpec, ViewOptions, make_sample, run_trace, summarize
from skipsnn_core.figures import evidence_figure, explorer_figure, hidden_raster
from tests.test_model import lively

CLASSES = [str(c) for c in range(10)]


def sample_and_trace(scale: float = 1.0):
    torch.manual_seed(0)
    model = SkipSNN(SkipSNNConfig(n_hidden=64)).eval()
    with torch.no_grad():
        model.w_in.mul_(scale)
    rng = np.random.default_rng(0)
    data = Framed((rng.random((3, 50, 2312)) < 0.01).astype(np.uint8), np.array([3, 1, 4]), (34, 34, 2))
    sample = make_sample(data, SampleSpec(index=0, start=100, seed=2))
    return sample, run_trace(model, sample, ViewOptions())


def test_explorer_figure_frames_cursor_and_panels():
    sample, trace = sample_and_trace(scale=30)
    spec = explorer_figure(sample, trace, CLASSES, meta={"view": {"controller_theta": 0.5}}).to_dict()
    assert len(spec["frames"]) == 300 and len(spec["layout"]["sliders"][0]["steps"]) == 300
    frame = spec["frames"][120]
    assert frame["traces"] == list(range(len(spec["data"]))), "every trace in every frame, or a transition drops it"
    assert all(d == {} for d in frame["data"][9:]), "static traces ride along unchanged"
    assert all(c["x"] == [120, 120] for c in frame["data"][3:9]), "one cursor, every panel"
    assert "admitted" in frame["data"][2]["text"][0] or "skipped" in frame["data"][2]["text"][0]
    assert {im["name"] for im in spec["layout"]["images"]} == {"footprint", "events per frame", "gate", "hidden raster"}
    assert {t["type"] for t in spec["data"]} <= {"scatter", "heatmap"}, "SVG and canvas only: no WebGL context to set up"
    assert spec["layout"]["meta"] == {"view": {"controller_theta": 0.5}}
    assert len(pio.to_json(spec, validate=False)) < 2_000_000


def test_events_at_cursor_match_the_sample():
    sample, trace = sample_and_trace()
    spec = explorer_figure(sample, trace, CLASSES).to_dict()
    t = sample.start + 10
    on, off = spec["frames"][t]["data"][:2]
    W = 34
    channels = set(sample.x[t].nonzero().flatten().tolist())
    drawn = {34 * 34 + y * W + x for x, y in zip(on["x"], on["y"])} | {y * W + x for x, y in zip(off["x"], off["y"])}
    assert drawn == channels


def test_silent_network_still_draws():
    sample, trace = sample_and_trace(scale=0.0)
    assert hidden_raster(trace)[1] == 0
    explorer_figure(sample, trace, CLASSES).to_dict()


def test_evidence_figure():
    sample, trace = sample_and_trace(scale=30)
    fig = evidence_figure(trace.forced_open, CLASSES, "open", label=sample.label)
    names = [t.name for t in fig.data]
    assert names[0] == "evidence, all classes" and any("prediction" in n for n in names)
    assert fig.layout.title.text == "open" and fig.layout.xaxis.title.text == "time step (ms)"
    assert fig.layout.template.layout.paper_bgcolor == "white", "drawn on plotly_white, like the Explorer"
    s = summarize(sample, trace)
    assert (s.label == s.open_prediction) == s.open_correct


def values(v) -> list:
    """A trace array as a list, whether plotly kept it as an array or wrote it as a typed array (dtype, base64 bdata)."""
    if isinstance(v, dict) and "bdata" in v:
        import base64

        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(np.asarray(v).tolist())


def test_panels_show_their_thresholds_and_name_what_the_pointer_is_over():
    sample, trace = sample_and_trace(scale=30)
    spec = explorer_figure(sample, trace, CLASSES).to_dict()
    layout, names = spec["layout"], [t.get("name") for t in spec["data"]]
    ranges = {a["title"]["text"]: a["range"] for k, a in layout.items() if k.startswith("yaxis") and a.get("title", {}).get("text")}
    lo, hi = ranges["u (θc dashed)"]
    assert lo < trace.controller_theta < hi and hi - lo < 8, "the controller axis is clipped around θc, not stretched to its peaks"
    lo, hi = ranges["u (θ dashed)"]
    assert lo < trace.output_theta < hi
    full = explorer_figure(sample, trace, CLASSES, full_range=True).to_dict()["layout"]
    full_ranges = {a["title"]["text"]: a["range"] for k, a in full.items() if k.startswith("yaxis") and a.get("title", {}).get("text")}
    assert full_ranges["u (θc dashed)"][1] >= float(trace.controller_u[0].max())
    assert {"events per frame", "gate", "controller spike", "spike → next frame"} <= set(names)
    spikes = spec["data"][names.index("controller spike")]
    assert values(spikes["x"]) == trace.controller_spikes[0].nonzero().flatten().tolist()
    arrows = values(spec["data"][names.index("spike → next frame")]["x"])
    assert all(b == a + 1 for a, b in zip(arrows[0::3], arrows[1::3])), "each arrow runs from a spike at t to frame t + 1"
    rows = next(t for t in spec["data"] if t["type"] == "heatmap")
    ids = [r[0] for r in rows["customdata"]]
    spikes = trace.hidden_spikes[0].numpy()
    assert sorted(ids) == np.flatnonzero(spikes.any(0)).tolist(), "one row per active neuron, its cell carrying its id"
    for row, i in enumerate(ids[:5]):
        assert rows["text"][row] == [f"hidden neuron {i}: {int(spikes[:, i].sum())} spikes, the first at t={int(spikes[:, i].argmax())}"]


def test_forced_steps_carry_a_mark_and_a_hover_of_their_own_and_hover_names_the_frame_under_the_pointer():
    sample, _ = sample_and_trace(scale=30)
    torch.manual_seed(0)
    model = SkipSNN(SkipSNNConfig(n_hidden=64)).eval()
    view = ViewOptions(edits="o60-75,c130-140")
    trace = run_trace(model, sample, view)
    spec = explorer_figure(sample, trace, CLASSES, edits=view.forced_edits).to_dict()
    by_name = {t.get("name"): t for t in spec["data"]}
    marks = by_name["forced by you"]
    assert values(marks["x"]) == [*range(60, 76), *range(130, 141)]
    assert marks["marker"]["symbol"] == ["triangle-down"] * 16 + ["x-thin-open"] * 11, "open and closed marked apart"
    assert by_name["gate"]["type"] == "heatmap" and by_name["gate steps"]["visible"] is False, \
        "the gate's hover is one row of cells; its markers (for a box drag) are hidden until Select steps"
    gate = list(by_name["gate"]["customdata"][0])  # one row of hover cells, a step each
    assert gate[65] == "admitted (forced open by you)" and gate[135] == "skipped (forced closed by you)"
    assert not any("by you" in c for c in gate[:60] + gate[76:130] + gate[141:]), "the controller's own steps say nothing"
    plain = explorer_figure(sample, trace, CLASSES).to_dict()
    assert "forced by you" not in {t.get("name") for t in plain["data"]}
    events = by_name["events per frame"]
    assert len(set(values(events["y"]))) == 1, "one hover row: the nearest point is the frame under the pointer"
    counts = np.count_nonzero(sample.x.numpy(), axis=1)
    assert [c.split(" events")[0] for c in events["customdata"][::50]] == [str(c) for c in counts[::50]]


def test_training_curves_plot_the_history_on_the_whole_run_axis():
    from skipsnn_core.figures import training_curves

    hist = [{"epoch": 1, "loss": 0.2, "accuracy": 0.5, "state_updates": 1.0, "gate_recall": 1.0},
            {"epoch": 2, "loss": 0.1, "accuracy": 0.7, "state_updates": 0.3, "gate_recall": 0.8}]
    fig = training_curves(hist, epochs=8, title="Training curve")
    assert [values(t.y) for t in fig.data] == [pytest.approx([0.2, 0.1]), pytest.approx([0.5, 0.7]), [1.0, pytest.approx(0.3)],
                                               [1.0, pytest.approx(0.8)]]
    assert all(values(t.x) == [1, 2] for t in fig.data)
    assert fig.layout.xaxis.range == (0.5, 8.5), "the axis spans the whole run, so the curves grow into it"
    assert fig.layout.title.text == "Training curve"
    panels = [a.text for a in fig.layout.annotations]
    assert panels[:4] == ["Training loss (MSE + λ · gate penalty)", "Held-out accuracy", "State updates (admitted / all frames)",
                          "Gate recall (signal frames admitted)"]
    plain = training_curves(hist, epochs=2, gated=False)
    assert sum("no gate" in a.text for a in plain.layout.annotations) == 2 and plain.layout.title.text is None


def test_gate_learning_figure_shows_each_epochs_gate_and_the_last_membrane():
    from skipsnn_core.figures import gate_learning_figure
    from skipsnn_core.jobs import Probe

    T = 12
    signal = np.zeros(T, bool)
    signal[4:7] = True
    probes = [Probe(epoch=e, gate=np.arange(T) % (e + 1) == 0, controller_u=np.linspace(0, e, T, dtype=np.float32),
                    signal=signal, theta=0.8, prediction=3, label=3) for e in (1, 2, 3)]
    fig = gate_learning_figure(probes, "0 (a '3')")
    heat, membrane = fig.data
    assert np.array_equal(np.asarray(heat.z), np.stack([p.gate for p in probes]).astype(np.int8))
    assert values(heat.y) == [1, 2, 3] and values(membrane.y) == pytest.approx(probes[-1].controller_u.tolist())
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert [s.y0 for s in lines] == [0.8], "θc of the controller"
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert {(s.x0, s.x1) for s in rects} == {(3.5, 6.5)}, "the digit's frames shaded in both panels"
    assert "after epoch 3" in fig.layout.annotations[1].text and "sample 0 (a '3')" in fig.layout.annotations[0].text


def test_runs_are_named_by_the_settings_in_which_they_differ():
    from skipsnn_core.explore import RunSetting, SampleSpec, ViewOptions, run_labels

    spec = SampleSpec(index=3, noise_level=1, start=120, seed=0, T=300)
    a = RunSetting("digits_skipsnn", spec, ViewOptions(controller_theta=0.5, gate_mode="mask"))
    assert run_labels(a, replace(a, view=ViewOptions(controller_theta=0.8, gate_mode="mask"))) == ("θc 0.5", "θc 0.8")
    assert run_labels(a, replace(a, view=ViewOptions(controller_theta=0.8, gate_mode="freeze"))) == \
        ("θc 0.5, mask", "θc 0.8, freeze")
    assert run_labels(a, replace(a, spec=replace(spec, noise_level=3, seed=7))) == ("noise 1, seed 0", "noise 3, seed 7")
    assert run_labels(a, replace(a, view=ViewOptions(controller_theta=0.5, gate_mode="mask", edits="o200-210"))) == \
        ("no edits", "edits o200-210")
    assert run_labels(a, a) == ("A", "B"), "nothing differs: plain A and B"
    plain = RunSetting("digits_snn", spec, ViewOptions(), gated=False)
    assert run_labels(a, plain) == ("digits_skipsnn", "digits_snn"), "a plain SNN's gate settings are not compared"


def test_gate_differences_and_the_steepest_drop():
    from skipsnn_core.explore import gate_differences
    from skipsnn_core.sweep import steepest_drop

    m = lively()
    x = (torch.rand(1, 300, 2312, generator=torch.Generator().manual_seed(2)) < 0.01).float()
    a, b = m.trace(x, gate_override="open"), m.trace(x, controller_theta=50.0)  # always open vs. mostly shut
    differ = gate_differences(a, b)
    assert np.array_equal(differ, np.flatnonzero(a.gate[0].numpy() != b.gate[0].numpy())) and len(differ) > 0
    assert len(gate_differences(a, a)) == 0
    rows = [{"accuracy": v} for v in (0.9, 0.91, 0.88, 0.1, 0.05)]
    assert steepest_drop(rows) == (2, 3), "the cliff, not the first or the last small fall"
    assert steepest_drop([{"accuracy": v} for v in (0.1, 0.2, 0.3)]) is None


def test_sweep_lines_mean_one_thing_each_and_every_shown_line_is_in_the_legend():
    from skipsnn_core.figures.sweep import sweep_page_figure

    rows = [{"theta": t, "accuracy": 0.9, "forced_open_accuracy": 0.8, "oracle_accuracy": 0.95, "state_updates": 0.5,
             "oracle_state_updates": 1 / 6, "gate_precision": 0.4, "gate_recall": 0.8, "synops_saving": 0.5}
            for t in (0.1, 0.5, 0.9)]
    fig = sweep_page_figure(rows, "theta", "θc")
    by_style: dict = {}
    for t in fig.data:
        key = (t.line.color, t.line.dash, t.marker.symbol)
        by_style.setdefault(key, set()).add(t.legendgroup or t.name)
    assert all(len(groups) == 1 for groups in by_style.values()), f"one style, one meaning: {by_style}"
    named = {t.legendgroup or t.name for t in fig.data if t.showlegend is not False}
    assert {t.legendgroup or t.name for t in fig.data} <= named, "every line is named in the legend (the oracle too)"
