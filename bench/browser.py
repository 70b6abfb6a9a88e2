"""A Streamlit server and headless Chromium for the browser tests and the latency benchmark."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deploy.stack import healthy  # the one health check, shared with the deploy stack

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-smooth-scrolling"]  # a wheel scrolls at once: a test can click where it computed, no waiting


def chromium_path() -> str | None:
    """Debian's Chromium (or $CHROMIUM), None when it is not installed."""
    for candidate in (os.environ.get("CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(app: Path = ROOT / "app.py", timeout: float = 60.0, env: dict | None = None):
    """Run ``streamlit run app`` on a free local port until the block ends; yields (base URL, process, log file)."""
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not healthy(url, timeout=2):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"streamlit did not become healthy on {url}:\n{log.read()[-3000:]}")
            time.sleep(0.2)
        yield url, proc, Path(log.name)
    finally:
        proc.terminate()  # then kill after half a second: Streamlit's own shutdown takes ~2 s and saves nothing we need
        try:
            proc.wait(0.5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        os.unlink(log.name)


@contextlib.contextmanager
def serve(app: Path = ROOT / "app.py", timeout: float = 60.0):
    """Run ``streamlit run app`` on a free local port until the block ends; yields the base URL."""
    with server(app, timeout) as (url, _, _log):
        yield url


@contextlib.contextmanager
def chromium_browser():
    """Headless Debian Chromium driven by Playwright, until the block ends."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError("Chromium not found (install Debian's chromium package or set $CHROMIUM)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def chromium(viewport=(1600, 1100)):
    """A Playwright page in headless Debian Chromium."""
    with chromium_browser() as browser:
        yield browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})


def slider_input(page, key: str):
    """The range input of the Streamlit slider with this widget key (it takes the arrow keys)."""
    return page.locator(f'.st-key-{key} input[type="range"]').first


def slider_value(page, key: str) -> float:
    return float(slider_input(page, key).get_attribute("value"))


WAIT_FOR_VIEW = """([group, key, value]) => Array.from(document.querySelectorAll('.js-plotly-plot')).some(gd =>
    gd.layout && gd.layout.meta && gd.layout.meta[group] && Math.abs(gd.layout.meta[group][key] - value) < 1e-6)"""
PAINTED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"


# Counted from the mutation records, not from the attribute as it is when the observer's callback runs: a fast run
# can start and end before the callback, and then the attribute already reads notRunning again (a run was missed so).
# Each record holds the value before its change; the value after it is the next record's old value, or the current one.
COUNT_RUNS = """() => { if (window.__scriptRuns !== undefined) return; window.__scriptRuns = 0;
    const app = document.querySelector('[data-testid="stApp"]');
    new MutationObserver((records) => records.forEach((r, i) => {
        const after = i + 1 < records.length ? records[i + 1].oldValue : app.dataset.testScriptState;
        if (after === 'running' && r.oldValue !== 'running') window.__scriptRuns++; }))
        .observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']}); }"""

RUN_DONE = """(n) => window.__scriptRuns > n
    && document.querySelector('[data-testid="stApp"]').dataset.testScriptState === 'notRunning'"""


def script_runs(page) -> int:
    """How many script runs this page has seen start since it was first asked (Streamlit marks its root element
    with the script's state); counting starts at this call."""
    page.evaluate(COUNT_RUNS)
    return page.evaluate("() => window.__scriptRuns")


def rerun_done(page, runs_before: int, timeout_ms: float = 60_000) -> None:
    """Until a script run that started after ``script_runs`` said ``runs_before`` has finished, then two frames
    painted: what a user's action set off is on the screen."""
    page.wait_for_function(RUN_DONE, arg=runs_before, timeout=timeout_ms)
    page.evaluate(PAINTED)


STILL = """(quietMs) => new Promise(done => {
    const app = document.querySelector('[data-testid="stApp"]');
    const look = () => JSON.stringify([app.dataset.testScriptState, window.__scriptRuns,
        Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
            const r = gd.getBoundingClientRect(), fl = gd._fullLayout || {};
            return [r.left, r.top, r.width, r.height, fl.width, fl.height]; })]);
    let last = look(), since = performance.now();
    const tick = () => { const now = look();
        if (now !== last) { last = now; since = performance.now(); }
        if (app.dataset.testScriptState === 'notRunning' && performance.now() - since >= quietMs) done(true);
        else setTimeout(tick, 50); };
    tick(); })"""


def still(page, quiet_ms: int = 300, timeout_ms: float = 60_000) -> None:
    """Until no script run is in flight and no chart has moved or resized for ``quiet_ms``: where a test computes
    a point to click on a chart, the chart must be where it will be when the click lands."""
    page.wait_for_function(STILL, arg=quiet_ms, timeout=timeout_ms)


def idle(page, timeout_ms: float = 60_000) -> None:
    """Until no script run is in flight, then two frames painted."""
    page.wait_for_function("() => document.querySelector('[data-testid=\"stApp\"]').dataset.testScriptState === 'notRunning'",
                           timeout=timeout_ms)
    page.evaluate(PAINTED)


def wait_for_view(page, group: str, key: str, value: float, timeout_ms: float = 30_000) -> None:
    """Until a chart drawn for this value is on the page (its layout.meta says so), then two frames painted."""
    page.wait_for_function(WAIT_FOR_VIEW, arg=[group, key, value], timeout=timeout_ms)
    page.evaluate(PAINTED)


def plot_trace(page, chart_key: str, name: str) -> list[float]:
    """The y values of the named trace in the chart whose Streamlit key is chart_key."""
    return page.evaluate(
        """([key, name]) => { const root = document.querySelector(`.st-key-${key}`);
            const gd = root && root.querySelector('.js-plotly-plot'); if (!gd) return null;
            const t = gd._fullData.find(t => t.name === name); return t ? Array.from(t.y) : null; }""",
        [chart_key, name],
    )


def metric_texts(page) -> dict[str, str]:
    """Label -> value of the metric cards (first occurrence of each label)."""
    return page.evaluate(
        """() => { const out = {}; for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
            const label = m.querySelector('[data-testid="stMetricLabel"]').innerText.trim();
            const value = m.querySelector('[data-testid="stMetricValue"]').innerText.trim();
            if (!(label in out)) out[label] = value; } return out; }"""
    )


def plot_image(page, chart_key: str, name: str) -> str | None:
    """The source (a data URI) of the named layout image in the chart whose Streamlit key is chart_key."""
    return page.evaluate(
        """([key, name]) => { const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`); if (!gd) return null;
            const im = (gd._fullLayout.images || []).find(im => im.name === name); return im ? im.source : null; }""",
        [chart_key, name],
    )
