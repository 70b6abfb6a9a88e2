"""The Train page under AppTest: start, progress, stop, the saved checkpoint in the sidebar, the server's limit."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from skipsnn_core import load_checkpoint
from skipsnn_core import train as train_mod
from skipsnn_core.explore import percent
from tests.test_app import APP

TINY = dict(hidden=16, batch_size=64, epochs=2, lam=0.1, lr=2e-3, T=40, L=10)  # the quick recipe in seconds
WAIT = 180


@pytest.fixture
def models(tmp_path, monkeypatch) -> Iterator[Path]:
    """A models folder of this test's own (so a board of its own) and the quick recipe shortened; one intra-op
    thread, as the server sets before its first page (ui/warm.py): the run trains in a thread beside the script
    runs, and two torch threads per process spun against them here (and against other processes on a loaded
    machine) made a 2-epoch run take minutes instead of seconds."""
    folder = tmp_path / "models"
    monkeypatch.setenv("SKIPSNN_MODELS", str(folder))
    monkeypatch.setitem(train_mod.PRESETS, "quick", TINY)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield folder
    torch.set_num_threads(threads)


def train_page() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("views/train.py").run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def button(app: AppTest, label: str):
    (found,) = [b for b in app.button if b.label == label]
    return found


def poll(app: AppTest, done, what: str):
    """Rerun the page (as the page's own timer does) until ``done(app)``."""
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        app.run()
        assert not app.exception, [e.message for e in app.exception]
        assert not app.error, f"waiting for {what}: {[e.value for e in app.error]}"
        if done(app):
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def progress_texts(app: AppTest) -> list[str]:
    return [p.proto.text for p in app.get("progress")]


def test_a_run_shows_progress_then_its_figures_and_opens_in_explore(models):
    app = train_page()
    assert not button(app, "Start training").disabled and button(app, "Stop").disabled
    app.slider(key="train_lam").set_value(0.2)
    app.text_input(key="train_name").input("class_demo")
    button(app, "Start training").click().run()
    assert button(app, "Start training").disabled and not button(app, "Stop").disabled, "one training per session"
    assert app.slider(key="train_lam").disabled, "settings are locked while training"
    texts = []
    poll(app, lambda a: texts.extend(progress_texts(a)) or a.success, "the run to finish")
    assert any(t.startswith(("Preparing the frames", "Epoch")) for t in texts), texts

    path = models / "class_demo.pt"
    meta = load_checkpoint(path, "cpu").meta
    f = meta["figures"]
    cards = {m.label: m.value for m in app.metric}
    assert cards["Held-out accuracy"] == percent(f["accuracy"], 1) and cards["State updates"] == f"{f['state_updates']:.3f}"
    assert meta["train_config"]["lam"] == 0.2 and meta["epochs_run"] == TINY["epochs"]
    (code,) = app.code
    assert code.value == meta["command"] and "--lam 0.2" in code.value and "--out class_demo.pt" in code.value
    charts = [c for c in app.get("plotly_chart")]
    assert len(charts) == 2, "the curves and the probe's gate"
    assert not button(app, "Start training").disabled, "the controls come back once the run ended"
    assert "SkipSNN · class_demo" in app.sidebar.selectbox(key="model_digits").options, "the checkpoint is in the sidebar's list"

    button(app, "Open in Explore").click().run()
    assert not app.exception, [e.message for e in app.exception]
    assert app.session_state["selection"].checkpoint == str(path) and app.title[0].value != "Train: watch the gate learn to close"
    app.switch_page("views/model_card.py").run()  # its card: the same curves, the figures and how to train it again
    assert not app.exception and not app.error
    assert {m.label: m.value for m in app.metric}["Accuracy"] == percent(f["accuracy"], 1)
    assert app.code[0].value.startswith("python3 -m skipsnn_core.train --preset quick") and "--lam 0.2" in app.code[0].value
    (curves,) = [c for c in app.get("plotly_chart") if "Training curve" in c.proto.spec]
    assert "Held-out accuracy" in curves.proto.spec, "the Train page's figure"


def test_stopping_mid_run_saves_nothing(models):
    app = train_page()
    app.slider(key="train_epochs").set_value(30)
    app.text_input(key="train_name").input("stopped_run")
    button(app, "Start training").click().run()
    poll(app, lambda a: any(t.startswith("Epoch") for t in progress_texts(a)), "training to start")
    button(app, "Stop").click().run()
    poll(app, lambda a: a.warning, "the run to stop")
    assert "nothing was saved" in app.warning[0].value
    assert not models.exists() or list(models.iterdir()) == [], "no checkpoint, temporary or resume file"
    assert not any("stopped_run" in o for o in app.sidebar.selectbox(key="model_digits").options)
    assert not button(app, "Start training").disabled


def test_the_server_limit_holds_across_sessions_with_a_visible_queue(models, monkeypatch):
    monkeypatch.setenv("SKIPSNN_TRAININGS", "1")
    first, second = train_page(), train_page()
    first.slider(key="train_epochs").set_value(30)
    button(first, "Start training").click().run()
    poll(first, lambda a: any(t.startswith(("Preparing", "Epoch")) for t in progress_texts(a)), "the first run to start")
    button(second, "Start training").click().run()
    assert any("number 1 in the queue" in i.value for i in second.info), [i.value for i in second.info]
    assert "1 running, 1 waiting" in " ".join(c.value for c in second.caption)
    button(first, "Stop").click().run()
    poll(second, lambda a: any(t.startswith(("Preparing", "Epoch")) for t in progress_texts(a)), "the queued run to start")
    button(second, "Stop").click().run()
    poll(second, lambda a: a.warning, "the second run to stop")
    assert not models.exists() or list(models.iterdir()) == []
