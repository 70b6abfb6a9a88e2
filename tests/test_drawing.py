"""Draw your own digit: a drawing becomes saccade events, frames and a prediction; an empty canvas says so."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from skipsnn_core import load_checkpoint
from skipsnn_core.data import NMNIST_SENSOR, DataError, frames, simulate_events
from skipsnn_core.drawing import digit_from_drawing, drawing_sample
from skipsnn_core.explore import SampleSpec, ViewOptions, make_sample, run_trace, summarize
from tests.test_app import APP, ROOT


def one() -> np.ndarray:
    """A '1': one thick vertical stroke on a 32x32 canvas."""
    img = np.zeros((32, 32), np.float32)
    img[4:28, 14:19] = 1.0
    return img


def test_a_drawing_becomes_an_8x8_digit_and_events():
    digit = digit_from_drawing(one())
    assert digit.shape == (8, 8) and digit.max() == 16 and digit.min() == 0
    assert digit[:, 3:5].sum() > digit[:, :2].sum() + digit[:, 6:].sum(), "the ink stays in the middle columns"
    split = drawing_sample(one(), label=1)
    assert split.x.shape == (1, 50, 2312) and split.x.sum() > 100 and split.y.tolist() == [1]
    whole = simulate_events(digit, np.random.default_rng(0))  # the whole 300 ms recording, framed the same way
    assert np.array_equal(split.x[0], frames(whole, NMNIST_SENSOR)), "the drawing's frames are those of its recording"
    model = load_checkpoint(ROOT / "assets" / "digits_skipsnn.pt", "cpu")
    s = summarize(*(lambda smp: (smp, run_trace(model, smp, ViewOptions())))(make_sample(split, SampleSpec(start=120))))
    assert not s.silent and 0 <= s.prediction <= 9


@pytest.mark.parametrize("pixels", [np.zeros((32, 32)), np.full((32, 32), 0.001)])
def test_an_empty_canvas_gets_a_clear_message(pixels):
    with pytest.raises(DataError, match="the canvas is empty"):
        digit_from_drawing(pixels)


def test_explore_runs_a_drawing():
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.selectbox(key="dataset").set_value("drawing").run()
    assert any("draw a digit in the sidebar" in e.value for e in app.error), "before drawing: what to do"
    app.session_state["uploads"] = {"drawing": (one(), -1)}  # what pressing "Use this drawing" stores
    app.selectbox(key="drawing_label").set_value("1").run()
    assert not app.exception and not app.error
    assert app.session_state["selection"].model_id == "digits_skipsnn"
    assert next(m.delta for m in app.metric if m.label == "Prediction") == "true label 1"
