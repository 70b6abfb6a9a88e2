"""Many users at once: N browser sessions move the Explorer's sliders for a while; does the server hold?

    python3 bench/load.py [--sessions 8] [--seconds 60]

Starts ``streamlit run app.py`` on a local port and opens N pages in one headless Chromium
(Debian's), each a session of its own. Every session, for --seconds, presses an arrow key on
Noise level, Gate threshold or Signal start in turn (bouncing inside each range) and waits until
the chart drawn for the new value is on its page. It prints reruns done, errors (time-outs,
exceptions or error boxes on a page, uncaught page errors), p50/p95 latency of key press -> the new
chart on the page, and the server's peak resident memory (process and children, sampled every
0.25 s). All traffic stays on 127.0.0.1; every loop is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.browser import CHROMIUM_ARGS, WAIT_FOR_VIEW, chromium_path, server  # noqa: E402

# slider key, layout.meta group and field, step, range
SLIDERS = (("noise", "sample", "noise_level", 1, (0, 8)), ("theta", "view", "controller_theta", 0.05, (-0.5, 2.0)),
           ("start", "sample", "start", 1, (0, 250)))
ERRORS_ON_PAGE = """() => document.querySelectorAll('[data-testid="stException"], [data-testid="stAlertContentError"]').length"""


def peak_rss(pid: int, stop: threading.Event, out: list) -> None:
    import psutil

    proc = psutil.Process(pid)
    peak = 0
    while not stop.is_set():
        try:
            total = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
        except psutil.Error:
            break
        peak = max(peak, total)
        stop.wait(0.25)
    out.append(peak)


async def session(browser, url: str, index: int, seconds: float, stats: dict) -> None:
    page = await browser.new_page(viewport={"width": 1500, "height": 1100})
    page.on("pageerror", lambda e: stats["errors"].append(f"session {index}: uncaught {e}"))
    try:
        await page.goto(url)
        await page.wait_for_selector(".skipsnn-chart .main-svg", timeout=120_000)
    except Exception as e:  # noqa: BLE001 - a session that cannot start is an error to report, not a crash
        stats["errors"].append(f"session {index}: did not load ({type(e).__name__})")
        return
    values = {key: float(await page.locator(f'.st-key-{key} input[type="range"]').first.get_attribute("value"))
              for key, *_ in SLIDERS}
    direction = {key: 1 for key, *_ in SLIDERS}
    end = time.monotonic() + seconds
    k = index  # sessions start on different sliders
    while time.monotonic() < end:
        key, group, field, step, (lo, hi) = SLIDERS[k % len(SLIDERS)]
        k += 1
        if not lo <= values[key] + direction[key] * step <= hi:
            direction[key] *= -1
        values[key] = round(values[key] + direction[key] * step, 2)
        try:
            await page.locator(f'.st-key-{key} input[type="range"]').first.focus()
            t0 = time.perf_counter()
            await page.keyboard.press("ArrowRight" if direction[key] > 0 else "ArrowLeft")
            await page.wait_for_function(WAIT_FOR_VIEW, arg=[group, field, values[key]], timeout=60_000)
            stats["latency"].append(time.perf_counter() - t0)
            if await page.evaluate(ERRORS_ON_PAGE):
                stats["errors"].append(f"session {index}: an error box after {key}={values[key]}")
        except Exception as e:  # noqa: BLE001
            stats["errors"].append(f"session {index}: {key}={values[key]}: {type(e).__name__}")
            values[key] = float(await page.locator(f'.st-key-{key} input[type="range"]').first.get_attribute("value"))
    await page.close()


async def drive(url: str, sessions: int, seconds: float, stats: dict) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        await asyncio.gather(*(session(browser, url, i, seconds, stats) for i in range(sessions)))
        await browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    if chromium_path() is None:
        sys.exit("Chromium not found (apt-get install chromium)")
    stats = {"latency": [], "errors": []}
    with server() as (url, proc, _log):
        stop, peak = threading.Event(), []
        sampler = threading.Thread(target=peak_rss, args=(proc.pid, stop, peak), daemon=True)
        sampler.start()
        started = time.monotonic()
        asyncio.run(drive(url, args.sessions, args.seconds, stats))
        wall = time.monotonic() - started
        stop.set()
        sampler.join()
    lat = sorted(stats["latency"])
    p = lambda q: 1000 * lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")  # noqa: E731
    print(f"{args.sessions} sessions x {args.seconds:.0f} s ({wall:.0f} s with start-up): {len(lat)} reruns, "
          f"{len(stats['errors'])} errors")
    print(f"key press -> new chart on the page: p50 {p(0.5):.0f} ms, p95 {p(0.95):.0f} ms, max {p(1.0):.0f} ms"
          + (f", mean {1000 * statistics.mean(lat):.0f} ms" if lat else ""))
    print(f"server peak RSS (process and children): {peak[0] / 2**20:.0f} MiB (goal <= 1536 MiB)")
    for line in stats["errors"][:20]:
        print("  error:", line)


if __name__ == "__main__":
    main()
