"""Video export: the CLI writes .mp4 and .gif that decode (PyAV) to fps × duration frames of the linked view, the
cursor where the trace says, the gate open inside the signal window; the pixel map matches kaleido's own render."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import av  # a requirement of the app (requirements.txt): missing, these tests fail rather than skip
import numpy as np
import pytest

from tests.conftest import require_browser
from tests.test_app import APP

# one Chromium for the module's kaleido renders (plotly's to_image uses kaleido's server while it runs), and under
# pytest-xdist with --dist loadgroup one worker for the module, so that server and the view start once
pytestmark = [pytest.mark.filterwarnings("ignore:The kopts argument is ignored if using a server"),
              pytest.mark.xdist_group("video")]

ROOT = Path(__file__).resolve().parents[1]
# a shipped checkpoint and a sample whose gate opens on the digit (steps 120-169) and stays shut on most noise
ARGS = ["--checkpoint", "assets/digits_skipsnn.pt", "--dataset", "digits", "--sample", "3", "--noise-level", "2", "--seed", "0",
        "--start", "120"]
FPS, DURATION = 4, 3  # 12 frames: enough to land in the signal window and in the noise, short enough for a test


def cli(out: Path, *extra: str) -> tuple[int, str]:
    """The export CLI's main, run in this process from the project folder (its paths are relative to it)."""
    from skipsnn_core.export import main

    err, cwd = io.StringIO(), os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main([*ARGS, *extra, "--out", str(out)])
    finally:
        os.chdir(cwd)
    return code, err.getvalue()


def decode(path: Path) -> tuple[list[np.ndarray], list, object]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        return [f.to_ndarray(format="rgb24") for f in frames], [f.pts for f in frames], stream.time_base


@pytest.fixture(scope="module")
def view():
    """The run the CLI exports (the .npz of the same arguments: frames, gate, signal), and the video's figure."""
    require_browser()  # kaleido renders the base picture with Chromium
    import json
    import tempfile

    from skipsnn_core import video
    from skipsnn_core.export import prepare
    from skipsnn_core.checkpoint import load_checkpoint
    from skipsnn_core.data import FrameSpec
    from skipsnn_core.explore import SampleSpec, ViewOptions
    from skipsnn_core.train import load_split

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "view.npz"
        assert cli(out)[0] == 0
        z = dict(np.load(out))
    settings = json.loads(str(z["settings"]))
    model = load_checkpoint(ROOT / settings["checkpoint"], "cpu")
    data = load_split("digits", None, "test", FrameSpec(L=50), quiet=True)
    e = prepare(model, data, SampleSpec(**settings["sample"]), ViewOptions(**settings["view"]), settings)
    assert np.array_equal(e.trace.gate[0].numpy(), z["gate"]), "the figure is built from the run the CLI exports"
    options = video.VideoOptions(fps=FPS, duration=DURATION)
    figure, _ = video.video_figure(e.sample, e.trace, e.classes, e.settings, options)
    import kaleido

    kaleido.start_sync_server(silence_warnings=True)
    try:
        yield {"z": z, "e": e, "figure": figure, "options": options,
               "geo": video.plot_geometry(figure["layout"], options.width, options.height)}
    finally:
        kaleido.stop_sync_server(silence_warnings=True)


def steps_of(n_frames: int, T: int) -> np.ndarray:
    """The cursor's step in each frame, worked out here: frame i of n at i/(n−1) of the way from 0 to T−1."""
    return np.array([round(i * (T - 1) / (n_frames - 1)) for i in range(n_frames)])


def open_like(rgb: np.ndarray) -> np.ndarray:
    """Teal (the gate's open colour, under the signal band's tint or not): green well above red."""
    return rgb[..., 1].astype(int) - rgb[..., 0].astype(int) > 25


@pytest.mark.parametrize("kind", ["mp4", "gif"])
def test_video_sweeps_the_cursor_and_shows_the_gate_open_in_the_signal_window(tmp_path, view, kind):
    code, err = cli(tmp_path / f"view.{kind}", "--fps", str(FPS), "--duration", str(DURATION))
    assert code == 0, err
    pictures, pts, time_base = decode(tmp_path / f"view.{kind}")
    n = FPS * DURATION
    assert len(pictures) == n, f"{len(pictures)} frames decoded, fps × duration = {n}"
    assert pictures[0].shape == (720, 1280, 3)
    assert float((pts[-1] - pts[0]) * time_base) == pytest.approx((n - 1) / FPS, abs=0.011), "frames are 1/fps apart"

    gate, signal, x = view["z"]["gate"], view["z"]["signal"], view["z"]["x"]
    T = len(gate)
    steps = steps_of(n, T)
    geo = view["geo"]
    tx, gy = geo["xaxis3"], geo["yaxis3"]  # the time axis and the gate panel (second time panel)
    rows = slice(int(np.ceil(gy.px(0.85))), int(np.floor(gy.px(0.15))))  # inside the gate's band, clear of its edges

    def settled(t: int, value: bool) -> bool:  # the gate holds this value from t − 3 to t + 3
        return 3 <= t < T - 3 and bool((gate[t - 3:t + 4] == value).all())

    inside = [i for i, t in enumerate(steps) if signal[t] and settled(t, True)]
    outside = [i for i, t in enumerate(steps) if not signal[t] and settled(t, False) and not signal[max(t - 3, 0):t + 4].any()]
    assert inside and outside, f"the sample should have the cursor on an open stretch of the signal and a closed one of noise: {steps}"

    for i, is_open in [(inside[0], True), (outside[0], False)]:
        t, frame = int(steps[i]), pictures[i]
        for k in (-2, 2):  # the steps beside the cursor (its own step is under the line), whole cells of the gate's picture
            col = int(np.floor(tx.px(t + k)))
            share = open_like(frame[rows, col]).mean()
            if is_open:
                assert share > 0.6, f"frame {i} (t={t}, gate open): only {share:.0%} of the gate panel is teal at step {t + k}"
            else:
                assert share == 0, f"frame {i} (t={t}, gate closed): the gate panel shows teal at step {t + k}"
        # the events of the cursor's frame, full strength when admitted and dimmed when skipped
        from skipsnn_core.figures.common import OFF, ON, hex_rgb

        W, H = 34, 34
        ch = np.flatnonzero(x[t])
        ex, ey, pol = ch % W, (ch // W) % H, ch // (H * W)
        cx, cy = geo["xaxis"].px(ex).astype(int), geo["yaxis"].px(ey).astype(int)
        colour = np.where(pol[:, None] == 1, hex_rgb(ON), hex_rgb(OFF))
        near = np.abs(frame[cy, cx].astype(float) - colour).max(1) < 60
        assert len(ch) > 0
        if is_open:
            assert near.mean() > 0.8, f"frame {i} (t={t}, admitted): {near.mean():.0%} of its {len(ch)} events drawn at full colour"
        else:
            assert not near.any(), f"frame {i} (t={t}, skipped): events drawn at full colour"

    # the cursor line: on the closed stretch the gate panel is flat, so the darkest column is the line at step t
    i = outside[0]
    t = int(steps[i])
    at = tx.px(t)
    cols = np.arange(int(at) - 10, int(at) + 11)
    darkness = 255 - pictures[i][rows][:, cols].mean((0, 2))
    assert abs(cols[darkness.argmax()] + 0.5 - at) <= 1.0, f"cursor drawn at column {cols[darkness.argmax()]}, expected {at:.1f}"
    assert darkness.max() > 120

    # the caption under the input picture: dark text where the figure puts it
    top = int(gy.px(1.0))
    caption = pictures[i][int(geo["yaxis"].px(33.5)) + 40:, :380]
    assert (caption.mean(2) < 100).sum() > 300, "the caption (sample, checkpoint, settings) is drawn into the frames"
    assert top > 0


def test_caption_names_the_sample_checkpoint_and_settings(view):
    (caption,) = [a["text"] for a in view["figure"]["layout"]["annotations"] if a["text"].startswith("<b>SkipSNN")]
    for words in ("sample 3 of digits", "checkpoint assets/digits_skipsnn.pt", "noise level 2", "noise seed 0", "θc 0.5",
                  "signal at 120–169", "mode mask", "gate controller"):
        assert words in caption, f"{words!r} missing from the caption: {caption}"


def test_pixel_map_matches_markers_kaleido_renders(view):
    """Markers at known values on the input picture, the gate panel and the last panel land where the map says."""
    import copy

    from skipsnn_core import video

    figure = copy.deepcopy(view["figure"])
    points = {"": [(0, 0), (33, 33), (0, 33)], "3": [(0, 0.5), (299, 0.5), (150, 1.0)], "7": [(40, 0.02), (260, 0.9)]}
    for axis, pts in points.items():
        figure["data"].append({"type": "scatter", "xaxis": "x" + axis, "yaxis": "y" + axis, "mode": "markers", "cliponaxis": False,
                               "x": [p[0] for p in pts], "y": [p[1] for p in pts],
                               "marker": {"color": "#ff00ff", "size": 6, "symbol": "square", "line": {"width": 0}}})
    pixels = video.render_base(figure, view["options"])
    magenta = (pixels[..., 0] > 200) & (pixels[..., 1] < 80) & (pixels[..., 2] > 200)
    geo = view["geo"]
    for axis, pts in points.items():
        for value in pts:
            ex, ey = float(geo["xaxis" + axis].px(value[0])), float(geo["yaxis" + axis].px(value[1]))
            r0, c0 = int(ey) - 8, int(ex) - 8
            rr, cc = np.nonzero(magenta[r0:r0 + 17, c0:c0 + 17])
            assert len(rr) >= 16, f"no marker near {ex:.1f}, {ey:.1f} for {value} on axis {axis or '1'}"
            found = (c0 + cc.mean() + 0.5, r0 + rr.mean() + 0.5)  # centre of the marker's pixels
            assert abs(found[0] - ex) <= 1.0 and abs(found[1] - ey) <= 1.0, f"{value} on axis {axis or '1'}: map {ex:.1f}, {ey:.1f}, drawn at {found}"


def test_cursor_steps_and_bad_video_options(tmp_path):
    from skipsnn_core.video import VideoOptions, cursor_steps

    assert cursor_steps(300, 300).tolist() == list(range(300)), "30 fps × 10 s: one frame per step"
    assert np.array_equal(cursor_steps(12, 300), steps_of(12, 300))
    assert cursor_steps(1, 300).tolist() == [0]
    assert VideoOptions().n_frames == 300
    for bad in ({"fps": 0}, {"duration": -1}, {"fps": 1000, "duration": 60}, {"width": 1281}):
        with pytest.raises(ValueError):
            VideoOptions(**bad)
    code, err = cli(tmp_path / "v.mp4", "--fps", "0")
    assert code == 2 and "fps" in err and "Traceback" not in err


def explore_page():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    assert "make_gif" not in [b.key for b in app.button], "the export panel is made only when it is opened"
    app.session_state["export_open"] = True  # the user opens "Export this view and share its link"
    app.run()
    return app


def test_explore_makes_the_video_on_demand(view):
    app = explore_page()
    app.button(key="make_gif").click().run()
    assert not app.exception, [e.message for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    (gif,) = [d for d in app.get("download_button") if d.proto.id.endswith("export_gif")]
    assert gif.proto.label.startswith("Animated GIF (.gif), ") and gif.proto.label.endswith(" MB")
    assert "make_gif" not in [b.key for b in app.button], "the download takes the button's place"
    app.run()  # a rerun keeps the made file for the same view and offers no second "Make" for it
    assert [d for d in app.get("download_button") if d.proto.id.endswith("export_gif")]
    assert "make_gif" not in [b.key for b in app.button] and "make_mp4" in [b.key for b in app.button]


def test_explore_says_when_a_video_cannot_be_made(monkeypatch):
    """No browser for kaleido: the page says so where the button was, and nothing is raised."""
    import kaleido

    from skipsnn_core import video

    kaleido.stop_sync_server(silence_warnings=True)  # a running server would use its own browser (so: the last test here)
    video._render.cache_clear()  # and a render kept from an earlier test would need no browser
    monkeypatch.setenv("BROWSER_PATH", str(ROOT / "no-such-browser"))
    app = explore_page()
    app.button(key="make_mp4").click().run()
    assert not app.exception, [e.message for e in app.exception]
    assert any("could not be made" in e.value and "Chromium" in e.value for e in app.error), [e.value for e in app.error]
    assert "export_mp4" not in [d.proto.id.rsplit("-", 1)[-1] for d in app.get("download_button")]
