"""The real app in a real browser: Debian's Chromium driven by Playwright.

Skips with a reason when Chromium or Playwright is missing, unless SKIPSNN_REQUIRE_BROWSER=1
(set by .ci/run), which turns the skip into a failure.
"""

import importlib.util
import os
from pathlib import Path

import pytest

from bench.browser import (chromium, chromium_path, metric_texts, plot_image, plot_trace, serve, slider_input, slider_value,
                           wait_for_view)

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def require_browser() -> None:
    missing = []
    if chromium_path() is None:
        missing.append("Chromium (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("Playwright for Python (pip install playwright)")
    if missing:
        reason = "browser tests need " + " and ".join(missing)
        if os.environ.get("SKIPSNN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (SKIPSNN_REQUIRE_BROWSER=1)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def page():
    require_browser()
    with serve() as url, chromium(viewport=(1600, 1400)) as pg:
        pg.goto(url)
        pg.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=90_000)
        yield pg


def test_load_move_gate_threshold_and_noise(page):
    cards0 = metric_texts(page)
    gate0 = plot_image(page, "explorer_chart", "gate")
    counts0 = plot_image(page, "explorer_chart", "events per frame")
    assert gate0 and gate0.startswith("data:image/png;base64,"), "the gate timeline is drawn"
    assert plot_trace(page, "explorer_chart", "controller u"), "the controller membrane is drawn"
    assert {"Prediction", "State updates", "Gate precision", "Gate recall", "Synaptic ops"} <= set(cards0)

    theta0 = slider_value(page, "theta")
    slider_input(page, "theta").focus()
    for _ in range(8):  # +0.40: a clearly stricter gate
        page.keyboard.press("ArrowRight")
    wait_for_view(page, "view", "controller_theta", round(theta0 + 0.4, 2), timeout_ms=60_000)
    gate1 = plot_image(page, "explorer_chart", "gate")
    cards1 = metric_texts(page)
    assert gate1 != gate0, "a higher gate threshold changes the gate timeline"
    assert float(cards1["State updates"].rstrip("%")) < float(cards0["State updates"].rstrip("%")), "and opens it less often"

    slider_input(page, "noise").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_for_view(page, "sample", "noise_level", 4, timeout_ms=60_000)
    counts1 = plot_image(page, "explorer_chart", "events per frame")
    assert counts1 != counts0, "more noise, other event counts"
    assert metric_texts(page) != cards1

    assert "noise=4" in page.url and "theta=" in page.url, "the view lives in the URL"
    cards2 = metric_texts(page)
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=90_000)
    wait_for_view(page, "sample", "noise_level", 4, timeout_ms=60_000)
    assert slider_value(page, "noise") == 4 and slider_value(page, "theta") == round(theta0 + 0.4, 2)
    assert metric_texts(page) == cards2, "a reload shows the same numbers"
    assert plot_image(page, "explorer_chart", "events per frame") == counts1

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explorer.png"))
    assert (ARTIFACTS / "explorer.png").stat().st_size > 20_000


def test_play_button_moves_the_cursor_in_the_browser(page):
    caption = page.evaluate(
        """() => { const gd = document.querySelector('.st-key-explorer_chart .js-plotly-plot');
            return gd._fullData[2].text[0]; }"""
    )
    assert caption.startswith("t = 0 ms")
    page.locator(".st-key-explorer_chart .updatemenu-button").first.click()  # ▶ Play
    page.wait_for_function(
        """() => { const gd = document.querySelector('.st-key-explorer_chart .js-plotly-plot');
            return !gd._fullData[2].text[0].startsWith('t = 0 ms'); }""",
        timeout=20_000,
    )
    membrane = plot_trace(page, "explorer_chart", "controller u")
    assert membrane and len(membrane) == 300, "static panels survive the animation"
    assert page.evaluate("() => document.querySelector('.st-key-explorer_chart .js-plotly-plot')._fullLayout.images.length") == 4
