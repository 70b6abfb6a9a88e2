"""Figure builders: plain functions of a sample and its trace."""

import json

import numpy as np
import plotly.io as pio
import torch

from skipsnn_core import SkipSNN, SkipSNNConfig
from skipsnn_core.data import Framed
from skipsnn_core.explore import SampleSpec, ViewOptions, make_sample, run_trace, summarize
from skipsnn_core.figures import evidence_figure, explorer_figure, hidden_raster, training_figure

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
    assert all(t["type"] == "scatter" for t in spec["data"]), "SVG only: no WebGL context to set up on each rerun"
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


def test_evidence_and_training_figures():
    sample, trace = sample_and_trace(scale=30)
    fig = evidence_figure(trace.forced_open, CLASSES, "open", label=sample.label)
    names = [t.name for t in fig.data]
    assert names[0] == "evidence, all classes" and any("prediction" in n for n in names)
    s = summarize(sample, trace)
    assert (s.label == s.open_prediction) == s.open_correct
    hist = [{"epoch": 1, "accuracy": 0.5, "state_updates": 0.4, "gate_recall": 0.7}, {"epoch": 2, "accuracy": 0.6, "state_updates": 0.3, "gate_recall": 0.8}]
    assert len(training_figure(hist).data) == 3
    json.dumps(training_figure(hist).to_plotly_json(), default=str)
