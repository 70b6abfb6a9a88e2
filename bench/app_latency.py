"""How long from a key press on a slider to the rerun repainted? The Explorer against a trivial app.

    python bench/app_latency.py

Both apps run in this process's Chromium (Debian's, headless) one after the other. For each key
press on the "Gate threshold" (12 presses up) and "Noise level" (7 up) sliders, then 4 back down, it measures key press -> a chart drawn
for the new value is on the page (its ``layout.meta`` names the value) -> two animation frames
painted; and the bytes received on the websocket for that rerun. The trivial app
(bench/trivial_app.py: two sliders, a metric, four small Plotly charts) is the floor.
Also prints the first load: page opened -> charts painted, after the server is healthy, and where a
rerun's time goes: on the server (sample, trace, chart payload, timed here in-process for the same
settings) and in the browser (payload parse and Plotly.react, as the live chart records them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.browser import chromium, serve, slider_input, slider_value, wait_for_view  # noqa: E402

# slider key, layout.meta group and field, step, presses upwards (values not seen before in this session)
SLIDERS = (("theta", "view", "controller_theta", 0.05, 12), ("noise", "sample", "noise_level", 1, 7))
REVISITS = 4  # then this many presses back down: values computed before, served from the app's caches


def measure(app: Path, charts: int) -> dict:
    with serve(app) as url, chromium(viewport=(1600, 1300)) as page:
        received: list[int] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(len(payload))))
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot').length >= {charts}", timeout=120_000)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        first_load = time.perf_counter() - t0
        out = {"first_load_s": first_load}
        for key, group, field, step, ups in SLIDERS:
            times, sizes = [], []
            value = slider_value(page, key)
            slider_input(page, key).focus()
            for i in range(ups + REVISITS):
                direction = 1 if i < ups else -1
                value = round(value + direction * step, 2)
                before = len(received)
                t = time.perf_counter()
                page.keyboard.press("ArrowRight" if direction > 0 else "ArrowLeft")
                wait_for_view(page, group, field, value, timeout_ms=60_000)
                times.append(time.perf_counter() - t)
                page.wait_for_timeout(150)  # let the rerun's last messages arrive before counting bytes
                sizes.append(sum(received[before:]))
                drawn = page.evaluate("() => { const gd = document.querySelector('.skipsnn-chart'); return gd ? "
                                      "[Number(gd.dataset.parseMs), Number(gd.dataset.reactMs)] : null; }")
                if drawn and i < ups:
                    out.setdefault("browser", []).append(drawn)
            fresh, again = times[:ups], times[ups:]
            out[key] = {"p50_ms": 1000 * statistics.median(fresh), "p90_ms": 1000 * sorted(fresh)[int(0.9 * (len(fresh) - 1))],
                        "revisit_p50_ms": 1000 * statistics.median(again), "payload_kb": statistics.median(sizes) / 1024}
        return out


def server_breakdown(repeats: int = 7) -> dict[str, float]:
    """Median ms of each server step of a rerun with new settings, in this process (no Streamlit)."""
    from skipsnn_core import load_checkpoint
    from skipsnn_core.data import FrameSpec, framed, open_dataset
    from skipsnn_core.explore import SampleSpec, ViewOptions, make_sample, run_trace
    from skipsnn_core.figures import explorer_payload
    from skipsnn_core.kernels import warm_up

    import torch

    torch.set_num_threads(1)  # as the app runs
    warm_up()
    model = load_checkpoint(ROOT / "assets" / "digits_skipsnn.pt", "cpu")
    data = framed(open_dataset("digits", None, "test"), FrameSpec(), shipped=ROOT / "assets" / "frames")
    classes = [str(c) for c in range(10)]
    steps: dict[str, list[float]] = {"sample": [], "trace": [], "payload": []}
    for k in range(repeats + 1):
        t0 = time.perf_counter()
        sample = make_sample(data, SampleSpec(noise_level=1 + k % 4, start=120, seed=k))
        t1 = time.perf_counter()
        trace = run_trace(model, sample, ViewOptions(controller_theta=0.5 + 0.05 * k))
        t2 = time.perf_counter()
        explorer_payload(sample, trace, classes).decode()
        t3 = time.perf_counter()
        if k:  # the first is a warm-up
            for key, dt in zip(steps, (t1 - t0, t2 - t1, t3 - t2)):
                steps[key].append(1000 * dt)
    return {key: statistics.median(v) for key, v in steps.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.parse_args()
    floor = measure(ROOT / "bench" / "trivial_app.py", charts=4)
    app = measure(ROOT / "app.py", charts=2)
    load_ratio = app["first_load_s"] / floor["first_load_s"]
    print(f"first load (server healthy -> charts painted): explorer {app['first_load_s']:.2f} s, trivial {floor['first_load_s']:.2f} s;"
          f" ratio {load_ratio:4.2f}x (goal <= 2x)")
    for key, *_ in SLIDERS:
        a, f = app[key], floor[key]
        print(f"{key:>6}: explorer p50 {a['p50_ms']:6.0f} ms (p90 {a['p90_ms']:5.0f}) on new values, "
              f"{a['revisit_p50_ms']:5.0f} ms on revisited ones; trivial p50 {f['p50_ms']:5.0f} ms; "
              f"ratio {a['p50_ms'] / f['p50_ms']:4.2f}x (goal <= 1.5x); payload {a['payload_kb']:5.0f} kB per rerun")
    server = server_breakdown()
    print("where a rerun's time goes, server (median ms, in-process): "
          + ", ".join(f"{k} {v:.1f}" for k, v in server.items()))
    if app.get("browser"):
        parse, react = (statistics.median(v) for v in zip(*app["browser"]))
        print(f"where a rerun's time goes, browser (median ms): payload parse {parse:.1f}, Plotly.react {react:.1f}")


if __name__ == "__main__":
    main()
