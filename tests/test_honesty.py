"""No verdict where the network said nothing; figures that do not depend on how they were computed."""

import numpy as np
import pytest
import torch

from skipsnn_core import SkipSNN, SkipSNNConfig, metrics
from skipsnn_core.data import Framed
from skipsnn_core.explore import Sample, SampleSpec, percent, summarize, verdict
from skipsnn_core.train import NoiseSpec, evaluate, noisy_batch

CLASSES = [str(c) for c in range(10)]


def test_decode_gives_no_class_to_an_all_zero_row():
    rates = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.2, 0.1], [0.3, 0.0, 0.3]])
    assert metrics.decode(rates).tolist() == [metrics.SILENT, 1, 0], "silent row, plain argmax, first of a tie"


def silenced(model: SkipSNN) -> SkipSNN:
    """The same model with output biases so negative that no output neuron can ever spike."""
    with torch.no_grad():
        model.fc_out.bias.fill_(-1e4)
    return model.eval()


@pytest.fixture
def frames_of_zeros():
    """A tiny split: 6 samples of label 0 whose signal frames hold a few events each."""
    rng = np.random.default_rng(0)
    x = (rng.random((6, 5, 2312)) < 0.02).astype(np.uint8)
    return Framed(x, np.zeros(6, dtype=np.int64), (34, 34, 2))


def test_silent_network_has_no_prediction_and_is_never_correct(frames_of_zeros):
    torch.manual_seed(0)
    model = silenced(SkipSNN(SkipSNNConfig(n_hidden=16)))
    data = frames_of_zeros
    x, mask = noisy_batch(data, range(1), NoiseSpec(T=40), seed=0)
    trace = model.trace(x)
    assert int(trace.prediction[0]) == metrics.SILENT and bool(trace.gated.silent[0])
    assert int(trace.forced_open.prediction[0]) == metrics.SILENT
    assert float(trace.confidence[0]) == 0.0
    sample = Sample(x[0], mask[0], int(mask[0].float().argmax()), 0, (34, 34, 2), SampleSpec(T=40))
    s = summarize(sample, trace)
    assert s.silent and s.open_silent and not s.correct and not s.open_correct, "label 0 is not 'predicted' by silence"
    assert verdict(s.prediction, s.label, CLASSES) == "none (silent network)"

    figures = evaluate(model, data, NoiseSpec(T=40), batch_size=4)
    assert figures["accuracy"] == 0.0 and figures["forced_open_accuracy"] == 0.0, "every label is 0 and argmax(0s) is 0"
    assert figures["silent"] == 6 and figures["forced_open_silent"] == 6


def test_verdict_and_percent_texts():
    assert verdict(3, 3, CLASSES) == "3 ✓" and verdict(5, 3, CLASSES) == "5 ✗" and verdict(5, None, CLASSES) == "5"
    assert percent(-0.0004) == "0%" and percent(-1e-12, 1) == "0.0%", "no '-0%'"
    assert percent(-0.25) == "-25%" and percent(0.5, 1) == "50.0%"


def test_evaluation_noise_does_not_depend_on_batch_size(frames_of_zeros):
    data = frames_of_zeros
    noise = NoiseSpec(T=40, level=2)
    whole, mask = noisy_batch(data, range(6), noise, seed=9)
    parts = [noisy_batch(data, range(i, min(i + 4, 6)), noise, seed=9)[0] for i in (0, 4)]
    assert torch.equal(whole, torch.cat(parts)), "sample i's noise depends on (seed, i) only"
    assert not torch.equal(whole, noisy_batch(data, range(6), noise, seed=10)[0]), "and on the seed"
    torch.manual_seed(1)
    model = SkipSNN(SkipSNNConfig(n_hidden=32)).eval()
    with torch.no_grad():
        model.w_in.mul_(30)
        model.fc_out.weight.mul_(30)
    a, b = (evaluate(model, data, noise, batch_size=bs) for bs in (1, 4))
    assert a == b, "the same figures whatever the batch size"


def test_gate_edits_round_trip_and_bad_ones_are_named():
    from skipsnn_core.explore import edits_override, format_edits, parse_edits

    edits = parse_edits("o120-169, c200,o5", 300)
    assert edits == ((120, 169, 1), (200, 200, 0), (5, 5, 1))
    override = edits_override(edits, 300)
    assert override[120:170].eq(1).all() and override[200] == 0 and override[5] == 1
    assert int((override >= 0).sum()) == 52 and override[0] == -1
    assert format_edits(override) == "o5,o120-169,c200"
    assert edits_override(parse_edits("o10-20,c15", 300), 300)[15] == 0, "later edits win"
    assert format_edits(edits_override(parse_edits("o10-20,c15", 300), 300)) == "o10-14,c15,o16-20"
    assert parse_edits("", 300) == ()
    for bad in ("x12", "o12-", "o-5", "o0", "o250-300", "c20-10", "o1e3"):
        with pytest.raises(ValueError, match="gate edit"):
            parse_edits(bad, 300)


def test_the_gate_story_counts_what_the_trace_admitted():
    """The line over the chart (when the gate opened for the digit, how late, what it let through) from the
    real shipped model, against a count made here step by step."""
    from pathlib import Path

    from skipsnn_core import load_checkpoint
    from skipsnn_core.data import FrameSpec, framed, open_dataset
    from skipsnn_core.explore import ViewOptions, gate_story, make_sample, run_trace

    assets = Path(__file__).resolve().parents[1] / "assets"
    model = load_checkpoint(assets / "digits_skipsnn.pt")
    data = framed(open_dataset("digits", None, "test"), FrameSpec(), shipped=assets / "frames")
    for spec, view in ((SampleSpec(index=3, noise_level=1, start=120), ViewOptions()),
                       (SampleSpec(index=3, noise_level=1, start=120), ViewOptions(controller_theta=1.9)),
                       (SampleSpec(index=3, noise_level=1, start=120), ViewOptions(edits="c1-299"))):
        sample = make_sample(data, spec)
        trace = run_trace(model, sample, view)
        story = gate_story(sample, trace, summarize(sample, trace))
        gate = trace.gate[0].tolist()
        signal_steps = [t for t in range(300) if sample.signal[t]]
        admitted_inside = [t for t in signal_steps if gate[t]]
        assert story.signal_start == 120 and story.signal_frames == len(signal_steps)
        assert story.signal_admitted == len(admitted_inside)
        assert story.first_open == (admitted_inside[0] if admitted_inside else None)
        assert story.noise_admitted == sum(g for t, g in enumerate(gate) if not sample.signal[t])
        assert story.noise_frames + story.signal_frames == 300
        if admitted_inside:
            assert f"at t = {admitted_inside[0]} " in story.text() and f"{story.delay} ms late" in story.text() or story.delay == 0
        else:
            assert "none of the digit's" in story.text()
    assert story.first_open is None and story.noise_admitted == 1, "everything forced closed: only frame 0 (always open)"
