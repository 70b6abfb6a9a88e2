"""How long does a video of the linked view take? 300 steps at 1280×720, as .mp4 and as .gif.

    python3 bench/video.py [--runs 2] [--fps 30 --duration 10]

Prints the seconds for each file as the CLI and the Explore page make it (the kaleido render of the base picture
included: its cache is cleared before every run; goal on this 2-core machine: <= 20 s each), where they go (base
render, drawing the cursor on 300 frames, encoding), and, as baselines in the same process, one PNG export of the
same view (``export.to_png``, kaleido, 1600×900 at 2×) and one warm kaleido render at 1280×720, whose 300-fold is
what rendering every frame with kaleido would cost.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skipsnn_core import export, load_checkpoint, video  # noqa: E402
from skipsnn_core.data import FrameSpec  # noqa: E402
from skipsnn_core.explore import SampleSpec, ViewOptions  # noqa: E402
from skipsnn_core.train import load_split  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--duration", type=float, default=10.0)
    args = ap.parse_args()
    model = load_checkpoint(ROOT / "assets" / "digits_skipsnn.pt", "cpu")
    data = load_split("digits", None, "test", FrameSpec(L=50), quiet=True)
    spec = SampleSpec(index=3, noise_level=2, start=120, seed=0, T=300)
    e = export.prepare(model, data, spec, ViewOptions(), {"checkpoint": "assets/digits_skipsnn.pt", "dataset": "digits"})
    options = video.VideoOptions(fps=args.fps, duration=args.duration)
    print(f"{options.n_frames} frames at {options.width}x{options.height} for {e.trace.gate.shape[1]} steps "
          f"({options.fps:g} fps x {options.duration:g} s)")

    t = time.perf_counter()
    png = export.to_png(e)
    png_s = time.perf_counter() - t
    print(f"baseline, one PNG export (kaleido, 1600x900 at 2x, cold Chromium): {png_s:.2f} s, {len(png) / 1e6:.2f} MB")

    for run in range(args.runs):
        for kind, make in (("mp4", export.to_mp4), ("gif", export.to_gif)):
            video._render.cache_clear()
            t = time.perf_counter()
            content = make(e, options)
            s = time.perf_counter() - t
            print(f"run {run + 1}, .{kind}: {s:.2f} s (goal <= 20 s: {'met' if s <= 20 else 'NOT met'}), "
                  f"{len(content) / 1e6:.2f} MB, {s / png_s:.2f}x one PNG export")

    # where the time goes (one more pass, each part alone)
    figure, cursor = video.video_figure(e.sample, e.trace, e.classes, e.settings, options)
    video._render.cache_clear()
    t = time.perf_counter()
    base = video.render_base(figure, options)
    render_s = time.perf_counter() - t
    painter = video.Painter.build(base, figure, cursor, e.sample, e.trace)
    t = time.perf_counter()
    pictures = [painter.frame(int(s)) for s in video.cursor_steps(options.n_frames, e.trace.gate.shape[1])]
    draw_s = time.perf_counter() - t
    t = time.perf_counter()
    video.encode_mp4(iter(pictures), options)
    mp4_s = time.perf_counter() - t
    t = time.perf_counter()
    video.encode_gif(iter(pictures), options)
    gif_s = time.perf_counter() - t
    print(f"parts: base render {render_s:.2f} s (cold Chromium), drawing {len(pictures)} frames {draw_s:.2f} s "
          f"({1000 * draw_s / len(pictures):.1f} ms each), encoding mp4 {mp4_s:.2f} s, gif {gif_s:.2f} s")

    import kaleido

    kaleido.start_sync_server(silence_warnings=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            video._render.cache_clear()
            video.render_base(figure, options)  # starts the server's Chromium
            video._render.cache_clear()
            t = time.perf_counter()
            video.render_base(figure, options)
            warm_s = time.perf_counter() - t
    finally:
        kaleido.stop_sync_server(silence_warnings=True)
    print(f"baseline, one warm kaleido render at 1280x720: {warm_s:.2f} s; one per frame would take "
          f"~{warm_s * options.n_frames:.0f} s for {options.n_frames} frames")


if __name__ == "__main__":
    main()
