"""How long from a key press on a slider to the rerun repainted? The Explorer against a trivial app.

    python bench/app_latency.py

Both apps are served at once and open in this process's Chromium (Debian's, headless), each in a context of its
own, and their key presses alternate (one on the trivial app, the same on the Explorer, ...): a busy moment of the
machine falls on both, so their ratio compares like with like. For each key
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

from bench.browser import PAINTED, chromium_browser, serve, slider_input, slider_value, wait_for_view  # noqa: E402

# slider key, layout.meta group and field, step, presses upwards (values not seen before in this session)
SLIDERS = (("theta", "view", "controller_theta", 0.05, 12), ("noise", "sample", "noise_level", 1, 7))
REVISITS = 4  # then this many presses back down: values computed before, served from the app's caches
# The forced-open evidence chart beside the Explorer's (skipsnn-still, ui/components/explorer_chart/chart.js): how many
# times it was drawn (null where there is none); a new noise level changes it, a threshold does not (its gate is open).
STILL_DRAWS = "() => { const s = document.querySelector('.skipsnn-still'); return s ? Number(s.dataset.draws || 0) : null; }"
REDRAWS_STILL = {"noise"}


class Opened:
    """One app's page in a browser context of its own, with the bytes its websocket receives."""

    def __init__(self, browser, url: str, charts: int):
        self.page = browser.new_context(viewport={"width": 1600, "height": 1300}).new_page()
        self.received: list[int] = []
        self.page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: self.received.append(len(payload))))
        t0 = time.perf_counter()
        self.page.goto(url)
        self.page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot').length >= {charts}",
                                    timeout=120_000)
        self.page.evaluate(PAINTED)
        self.first_load_s = time.perf_counter() - t0

    def press(self, key: str, group: str, field: str, value: float, up: bool) -> tuple[float, float, int]:
        """Seconds from the arrow key to the chart for ``value`` painted; to every chart the rerun changed painted (a
        new noise level also changes the Explorer's forced-open evidence, drawn once the browser is idle); and the
        bytes that rerun sent."""
        before = len(self.received)
        draws = self.page.evaluate(STILL_DRAWS)
        t = time.perf_counter()
        self.page.keyboard.press("ArrowRight" if up else "ArrowLeft")
        wait_for_view(self.page, group, field, value, timeout_ms=60_000)
        took = everything = time.perf_counter() - t
        if draws is not None and key in REDRAWS_STILL:
            self.page.wait_for_function(f"(n) => ({STILL_DRAWS})() > n", arg=draws, timeout=60_000)
            self.page.evaluate(PAINTED)
            everything = time.perf_counter() - t
        self.page.wait_for_timeout(150)  # let the rerun's last messages arrive before counting bytes
        return took, everything, sum(self.received[before:])


def measure(servers: dict[str, str], charts: dict[str, int]) -> dict[str, dict]:
    """Both apps in one Chromium, their key presses interleaved (trivial, explorer, trivial, ...), so that a slow
    moment of this shared machine falls on both and the ratio compares like with like."""
    with chromium_browser() as browser:
        opened = {name: Opened(browser, url, charts[name]) for name, url in servers.items()}
        out = {name: {"first_load_s": o.first_load_s} for name, o in opened.items()}
        for key, group, field, step, ups in SLIDERS:
            values = {}
            for name, o in opened.items():
                values[name] = slider_value(o.page, key)
            times = {name: [] for name in opened}
            alls = {name: [] for name in opened}
            sizes = {name: [] for name in opened}
            for i in range(ups + REVISITS):
                up = i < ups
                for name, o in opened.items():
                    slider_input(o.page, key).focus()
                    values[name] = round(values[name] + (step if up else -step), 2)
                    took, everything, size = o.press(key, group, field, values[name], up)
                    times[name].append(took)
                    alls[name].append(everything)
                    sizes[name].append(size)
                    drawn = o.page.evaluate("() => { const gd = document.querySelector('.skipsnn-chart'); return gd ? "
                                            "[Number(gd.dataset.parseMs), Number(gd.dataset.reactMs)] : null; }")
                    if drawn and up:
                        out[name].setdefault("browser", []).append(drawn)
            for name in opened:
                fresh, again = times[name][:ups], times[name][ups:]
                out[name][key] = {"p50_ms": 1000 * statistics.median(fresh),
                                  "p90_ms": 1000 * sorted(fresh)[int(0.9 * (len(fresh) - 1))],
                                  "revisit_p50_ms": 1000 * statistics.median(again),
                                  "all_p50_ms": 1000 * statistics.median(alls[name][:ups]),
                                  "payload_kb": statistics.median(sizes[name]) / 1024, "fresh": fresh}
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
    with serve(ROOT / "bench" / "trivial_app.py") as trivial, serve(ROOT / "app.py") as explorer:
        both = measure({"trivial": trivial, "explorer": explorer}, {"trivial": 4, "explorer": 2})
    floor, app = both["trivial"], both["explorer"]
    load_ratio = app["first_load_s"] / floor["first_load_s"]
    print(f"first load (server healthy -> charts painted): explorer {app['first_load_s']:.2f} s, trivial {floor['first_load_s']:.2f} s;"
          f" ratio {load_ratio:4.2f}x (goal <= 2x)")
    for key, *_ in SLIDERS:
        a, f = app[key], floor[key]
        print(f"{key:>6}: explorer p50 {a['p50_ms']:6.0f} ms (p90 {a['p90_ms']:5.0f}) on new values, "
              f"{a['revisit_p50_ms']:5.0f} ms on revisited ones; trivial p50 {f['p50_ms']:5.0f} ms; "
              f"ratio {a['p50_ms'] / f['p50_ms']:4.2f}x (goal <= 1.5x); median of the {len(a['fresh'])} paired ratios "
              f"{statistics.median(x / y for x, y in zip(a['fresh'], f['fresh'])):4.2f}x; payload {a['payload_kb']:5.0f} kB per rerun")
        if key in REDRAWS_STILL:
            print(f"        and with the forced-open evidence chart painted too: explorer p50 {a['all_p50_ms']:6.0f} ms, "
                  f"ratio {a['all_p50_ms'] / f['p50_ms']:4.2f}x")
    server = server_breakdown()
    print("where a rerun's time goes, server (median ms, in-process): "
          + ", ".join(f"{k} {v:.1f}" for k, v in server.items()))
    if app.get("browser"):
        parse, react = (statistics.median(v) for v in zip(*app["browser"]))
        print(f"where a rerun's time goes, browser (median ms): payload parse {parse:.1f}, Plotly.react {react:.1f}")


if __name__ == "__main__":
    main()
