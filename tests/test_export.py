"""The export CLI: each format round-trips, and the HTML plays with the network blocked."""

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from skipsnn_core import load_checkpoint
from tests.conftest import BROWSER_GROUP, require_browser

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--checkpoint", "assets/digits_skipsnn.pt", "--dataset", "digits", "--sample", "3", "--noise-level", "2", "--seed", "5",
        "--start", "100", "--theta", "0.6", "--edits", "o30-40"]


class Done:
    """What a run of the CLI left: its exit code and what it printed (the CLI's main, run in this process)."""

    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def export(out: Path, *extra: str) -> Done:
    import contextlib
    import io
    import os

    from skipsnn_core.export import main

    out_buf, err_buf, cwd = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(ROOT)  # the CLI's paths are relative to the project, as in the README
    try:
        with contextlib.redirect_stdout(out_buf), contextlib.redirect_stderr(err_buf):
            code = main([*ARGS, *extra, "--out", str(out)])
    finally:
        os.chdir(cwd)
    return Done(code, out_buf.getvalue(), err_buf.getvalue())


def test_npz_reproduces_the_gate_and_csv_tabulates_it(tmp_path):
    done = export(tmp_path / "view.npz")
    assert done.returncode == 0, done.stderr
    z = np.load(tmp_path / "view.npz")
    settings = json.loads(str(z["settings"]))
    assert settings["sample"]["index"] == 3 and settings["view"]["controller_theta"] == 0.6 and settings["view"]["edits"] == "o30-40"
    assert z["x"].dtype == np.uint8 and z["x"].shape == (300, 2312) and z["gate"].dtype == bool
    model = load_checkpoint(ROOT / settings["checkpoint"], "cpu")
    override = torch.full((300,), -1)
    override[30:41] = 1
    again = model.trace(torch.from_numpy(z["x"])[None], controller_theta=0.6, gate_override=override)
    assert np.array_equal(again.gate[0].numpy(), z["gate"]), "load_checkpoint(P).trace(x) with the settings reproduces the gate"
    assert z["gate"][30:41].all()
    assert np.array_equal(z["hidden_spikes"], again.hidden_spikes[0].numpy())

    assert export(tmp_path / "view.csv").returncode == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "view.csv").read_text())))
    assert len(rows) == 300 and [int(r["gate"]) for r in rows] == z["gate"].astype(int).tolist()
    assert [int(r["events"]) for r in rows] == np.count_nonzero(z["x"], axis=1).tolist()
    assert float(rows[-1]["evidence_0"]) == pytest.approx(float(z["gated_evidence"][-1, 0]), abs=1e-5)


@pytest.mark.xdist_group(BROWSER_GROUP)  # the Chromium of the other browser tests (tests/conftest.py)
def test_html_plays_with_no_network(tmp_path, browser):
    assert export(tmp_path / "view.html").returncode == 0
    html = tmp_path / "view.html"
    assert html.stat().st_size < 10_000_000
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    outside = []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else (
        outside.append(route.request.url), route.abort()))
    page.goto(html.as_uri())
    page.wait_for_function("() => document.querySelector('.js-plotly-plot') && "
                           "document.querySelector('.js-plotly-plot')._transitionData._frames.length === 300", timeout=60_000)
    page.locator(".updatemenu-button").first.click()
    page.wait_for_function("() => !document.querySelector('.js-plotly-plot')._fullData[2].text[0].startsWith('t = 0 ms')",
                           timeout=20_000)
    page.close()
    assert outside == [], f"the file fetched from the network: {outside}"


def test_png_at_twice_the_size(tmp_path):
    require_browser()
    pytest.importorskip("kaleido", reason="PNG export needs kaleido")
    done = export(tmp_path / "view.png")
    assert done.returncode == 0, done.stderr
    from PIL import Image

    with Image.open(tmp_path / "view.png") as im:
        assert im.size == (3200, 1800)


def test_bad_export_requests_are_clear(tmp_path):
    for extra, words in ((["--sample", "9999"], "outside"), (["--edits", "q1"], "gate edit")):
        done = export(tmp_path / "v.npz", *extra)
        assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    done = export(tmp_path / "v.pdf")
    assert done.returncode == 2 and "unknown format" in done.stderr


def test_kaleido_is_tried_again_only_after_its_known_start_up_race(monkeypatch):
    """kaleido 1.5's "kaleido_scopes is not defined" (a render in a page not ready yet) is tried again, at most
    twice; any other error is raised at once."""
    import plotly.io

    from skipsnn_core.video import KALEIDO_RACE, kaleido_png

    calls = []

    def flaky(figure, **kwargs):
        calls.append(kwargs)
        if len(calls) < 3:
            raise RuntimeError(f"error: ReferenceError: {KALEIDO_RACE}")
        return b"png"

    monkeypatch.setattr(plotly.io, "to_image", flaky)
    assert kaleido_png({"data": []}, 10, 20, scale=2) == b"png" and len(calls) == 3
    assert calls[0] == {"format": "png", "width": 10, "height": 20, "scale": 2, "validate": False}

    calls.clear()
    monkeypatch.setattr(plotly.io, "to_image", lambda figure, **kw: calls.append(kw) or (_ for _ in ()).throw(RuntimeError(KALEIDO_RACE)))
    with pytest.raises(RuntimeError, match=KALEIDO_RACE):
        kaleido_png({"data": []}, 10, 20)
    assert len(calls) == 3, "three tries in all"

    calls.clear()
    monkeypatch.setattr(plotly.io, "to_image", lambda figure, **kw: calls.append(kw) or (_ for _ in ()).throw(ValueError("no Chrome")))
    with pytest.raises(ValueError, match="no Chrome"):
        kaleido_png({"data": []}, 10, 20)
    assert len(calls) == 1, "another error is not tried again"
