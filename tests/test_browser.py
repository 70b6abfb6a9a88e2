"""The real app in a real browser: Debian's Chromium driven by Playwright.

Skips with a reason when Chromium or Playwright is missing, unless SKIPSNN_REQUIRE_BROWSER=1
(set by .ci/run), which turns the skip into a failure (tests/conftest.py).
"""

from pathlib import Path

import pytest

from skipsnn_core.explore import edits_override, parse_edits
from tests.conftest import BROWSER_GROUP
from bench.browser import (PAINTED, idle, metric_texts, plot_image, plot_trace, rerun_done, script_runs, slider_input,
                           slider_value, still, wait_for_view)

# One worker runs every browser test (pytest-xdist loadgroup, conftest's BROWSER_GROUP): they share its app server
# and browser context (tests/conftest.py).
pytestmark = pytest.mark.xdist_group(BROWSER_GROUP)

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def page(served, light):
    """One page for the module; it records console errors and every request that leaves the app's own server."""
    pg = light.new_page()
    pg.set_viewport_size({"width": 1600, "height": 1400})
    pg.problems, pg.outside = [], []
    pg.on("console", lambda m: pg.problems.append(m.text) if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: pg.problems.append(f"uncaught: {e}"))
    pg.on("request", lambda r: None if r.url.startswith((served, "data:", "blob:")) else pg.outside.append(r.url))
    pg.goto(served)
    pg.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=90_000)
    # the first run's cards too, not only its charts (once, in CI, none were on the page yet when the charts were)
    pg.wait_for_function("() => document.querySelectorAll('[data-testid=\"stMetric\"]').length >= 5", timeout=90_000)
    idle(pg)
    yield pg
    pg.close()


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

    page.wait_for_function("() => location.search.includes('noise=4') && location.search.includes('theta=')", timeout=30_000)
    cards2 = metric_texts(page)
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=90_000)
    idle(page)  # the run's cards too
    wait_for_view(page, "sample", "noise_level", 4, timeout_ms=60_000)
    assert slider_value(page, "noise") == 4 and slider_value(page, "theta") == round(theta0 + 0.4, 2)
    assert metric_texts(page) == cards2, "a reload shows the same numbers"
    assert plot_image(page, "explorer_chart", "events per frame") == counts1

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explorer.png"))
    assert (ARTIFACTS / "explorer.png").stat().st_size > 20_000


CURSOR = "() => Number(document.querySelector('.skipsnn-chart').dataset.cursor)"
CAPTION = "() => document.querySelector('.st-key-explorer_chart .js-plotly-plot')._fullData[2].text[0]"


def test_play_pause_and_step_with_a_clean_console(page):
    page.locator(".skipsnn-player button[data-act='pause']").click()
    page.locator(".skipsnn-player input[type='range']").fill("0")
    page.wait_for_function(f"() => ({CAPTION})().startsWith('t = 0 ms')")
    page.locator(".skipsnn-player button[data-speed='64']").click()
    page.wait_for_function(f"() => ({CURSOR})() > 20", timeout=20_000)
    page.locator(".skipsnn-player button[data-act='pause']").click()
    rest = page.evaluate(CURSOR)
    page.wait_for_timeout(400)
    assert page.evaluate(CURSOR) == rest, "paused means the cursor stays"
    assert page.evaluate(CAPTION).startswith(f"t = {rest} ms"), "the input panel shows the cursor's frame"
    page.locator(".skipsnn-player button[data-act='fwd']").click()
    page.wait_for_function(f"() => ({CAPTION})().startsWith('t = {rest + 1} ms')")
    page.wait_for_function(f"() => location.search.includes('t={rest + 1}')", timeout=30_000), "the resting cursor is in the link"
    membrane = plot_trace(page, "explorer_chart", "controller u")
    assert membrane and len(membrane) == 300, "static panels survive the animation"
    assert page.evaluate("() => document.querySelector('.st-key-explorer_chart .js-plotly-plot')._fullLayout.images.length") == 4
    assert page.problems == [], f"the console stays clean during play/pause: {page.problems}"
    assert page.outside == [], f"nothing is fetched from outside the app: {page.outside}"


def test_cursor_and_playback_survive_a_rerun(page):
    page.locator(".skipsnn-player button[data-speed='4']").click()
    page.wait_for_timeout(300)
    before = page.evaluate(CURSOR)
    slider_input(page, "noise").focus()
    page.keyboard.press("ArrowLeft")
    wait_for_view(page, "sample", "noise_level", slider_value(page, "noise"), timeout_ms=60_000)
    assert page.evaluate("() => document.querySelector('.skipsnn-player').dataset.playing") == "1", "still playing"
    now = page.evaluate(CURSOR)
    assert before <= now < before + 40, f"the cursor went on from {before}, not back to 0 (now {now})"
    page.locator(".skipsnn-player button[data-act='pause']").click()
    assert page.problems == [] and page.outside == []


GATE_POINT = """([t, y]) => { const gd = document.querySelector('.st-key-explorer_chart .js-plotly-plot');
    const fl = gd._fullLayout, tr = gd._fullData.find(d => d.name === 'gate');
    const xa = fl['xaxis' + tr.xaxis.slice(1)], ya = fl['yaxis' + tr.yaxis.slice(1)], box = gd.getBoundingClientRect();
    return [box.left + xa._offset + xa.l2p(t), box.top + ya._offset + ya.l2p(y)]; }"""


def test_clicking_the_gate_forces_frames_and_the_link_keeps_them(page, served):
    page.locator(".skipsnn-player button[data-act='pause']").click()
    page.wait_for_function("() => Array.from(document.querySelectorAll('[data-testid=\"stMetricLabel\"]'))"
                           ".some(l => l.innerText.includes('State updates'))", timeout=60_000)
    idle(page)
    before = metric_texts(page)
    admitted = page.evaluate("() => document.querySelector('.st-key-explorer_chart .js-plotly-plot')._fullData"
                             ".find(d => d.name === 'gate').customdata[0].slice(124, 142).filter(c => c === 'admitted').length")
    brush, value = ("force closed", 0) if admitted >= 9 else ("force open", 1)  # whichever changes these frames
    edits_menu = page.locator(".st-key-edits_menu button").first
    edits_menu.click()  # the brush and undo/clear live one click away, in the toolbar's Edits popover
    choice = page.locator(".st-key-edit_brush label").filter(has_text=brush)
    runs = script_runs(page)
    if not choice.locator("input").is_checked():  # a new brush re-runs the page: click the gate once that is drawn
        choice.click()
        rerun_done(page, runs)
    page.keyboard.press("Escape")  # closed again: the gate is clicked, not the popover
    edits = ""
    page.evaluate("() => { const gd = document.querySelector('.st-key-explorer_chart .js-plotly-plot'); window.__clicks = [];"
                  " gd.on('plotly_click', e => window.__clicks.push(e.points.map(p => [p.data.name, p.x]))); }")
    _, gate_y = page.evaluate(GATE_POINT, [125, 0.5])
    page.mouse.move(800, 600)
    page.mouse.wheel(0, gate_y - 600)  # the gate inside the viewport (Streamlit scrolls its main block)
    page.evaluate(PAINTED)
    for t in (126, 133, 140):  # frames of the digit, one click each (a step is ~2 px wide: clicks may land on a neighbour)
        still(page)
        x, y = page.evaluate(GATE_POINT, [t, 0.5])
        runs = script_runs(page)
        page.mouse.click(x, y)
        try:
            page.wait_for_function("(old) => { const e = new URLSearchParams(location.search).get('edits'); return e && e !== old; }",
                                   arg=edits, timeout=60_000)
        except Exception:
            raise AssertionError(f"no edit after clicking step {t}: clicks seen {page.evaluate('window.__clicks')}, url {page.url}")
        edits = page.evaluate("() => new URLSearchParams(location.search).get('edits')")
        forced = edits_override(parse_edits(edits, 300), 300)
        page.wait_for_function(  # the chart redrawn with the edit (the layout above it may have moved): then the next click
            "(want) => { const g = document.querySelector('.st-key-explorer_chart .js-plotly-plot')._fullData"
            ".find(d => d.name === 'gate').customdata[0]; return want.every(([t, v]) => g[t].startsWith('admitted') === (v === 1)); }",
            arg=[[t, int(v)] for t, v in enumerate(forced.tolist()) if v >= 0], timeout=60_000)
        rerun_done(page, runs)
    runs = parse_edits(edits, 300)
    forced = sum(b - a + 1 for a, b, _ in runs)
    assert forced >= 3 and all(v == value and 123 <= a <= b <= 142 for a, b, v in runs), f"forced steps near the clicks: {edits}"
    page.wait_for_function("() => Array.from(document.querySelectorAll('[data-testid=\"stMetricLabel\"]'))"
                           ".some(l => l.innerText.includes('Prediction, edited'))", timeout=60_000)
    after = metric_texts(page)
    assert after["State updates"] != before["State updates"], "forcing frames changes how often the gate opened"
    # that the link reproduces the edits is tests/test_app.py::test_a_link_with_gate_edits_reproduces_them
    assert f"Edits ({len(runs)})" in edits_menu.inner_text(), "the toolbar says how many runs of steps are forced"
    edits_menu.click()
    page.locator(".st-key-edit_clear button").click()
    page.wait_for_function("() => !location.search.includes('edits=')", timeout=60_000)
    assert page.problems == [] and page.outside == []


@pytest.mark.parametrize("width,height", [(1440, 900), (1280, 720)])
def test_the_network_at_work_is_on_the_first_screen(visits, width, height):
    """Explore as a newcomer opens it (its default link, sidebar open, no scrolling), from the session's walk through
    the pages (tests/page_visits.py): the events, gate and controller panels, the player, the prediction and the
    state updates all end above the fold."""
    visit = visits["explore"]
    if visit.error:
        raise visit.error
    bottoms = dict(visit.first_screen[(width, height)])
    assert bottoms.pop("scrolled") == 0
    late = {k: round(v) for k, v in bottoms.items() if v is None or v > height}
    assert not late, f"below the fold at {width}x{height}: {late} (all: {bottoms})"


def test_a_box_drag_on_a_freshly_loaded_chart_forces_the_steps_and_draws_them(new_page, served):
    """The reviewer's case: Select steps, then one drag across the gate of a chart just drawn (no zoom before)."""
    pg = new_page(1600, 1400)
    pg.goto(served + "/?sample=3&noise=1")
    pg.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=90_000)
    idle(pg)
    pg.locator(".skipsnn-player button[data-act='select']").click()
    x0, y = pg.evaluate(GATE_POINT, [60, 0.5])
    x1, _ = pg.evaluate(GATE_POINT, [75, 0.5])
    pg.mouse.move(x0, y)
    pg.mouse.down()
    pg.mouse.move((x0 + x1) / 2, y + 2, steps=4)
    pg.mouse.move(x1, y + 4, steps=4)
    pg.mouse.up()
    try:
        pg.wait_for_function("() => (new URLSearchParams(location.search).get('edits') || '').length > 0", timeout=60_000)
    except Exception:
        raise AssertionError(f"a drag across steps 60-75 of a fresh chart made no edit: {pg.url}")
    runs = parse_edits(pg.evaluate("() => new URLSearchParams(location.search).get('edits')"), 300)
    assert len(runs) == 1 and runs[0][2] == 1 and 58 <= runs[0][0] <= 62 and 73 <= runs[0][1] <= 77, runs
    a, b, _ = runs[0]
    pg.wait_for_function(  # drawn: every step of the edit is admitted in the redrawn gate
        "([a, b]) => { const g = document.querySelector('.st-key-explorer_chart .js-plotly-plot')._fullData"
        ".find(d => d.name === 'gate').customdata[0]; return g.slice(a, b + 1).every(c => c.startsWith('admitted')); }",
        arg=[a, b], timeout=60_000)


ROW_POINT = """(row) => { const gd = document.querySelector('.st-key-explorer_chart .js-plotly-plot');
    const fl = gd._fullLayout, tr = gd._fullData.find(d => d.type === 'heatmap');
    const xa = fl['xaxis' + tr.xaxis.slice(1)], ya = fl['yaxis' + tr.yaxis.slice(1)], box = gd.getBoundingClientRect();
    const rows = gd.data.find(d => d.type === 'heatmap').customdata;
    return [box.left + xa._offset + xa.l2p(150), box.top + ya._offset + ya.l2p(row), rows[row][0]]; }"""  # noqa: E501


def test_a_raster_row_opens_its_neuron_on_the_why_page(page):
    page.wait_for_function("() => !document.querySelector('.st-key-edit_compare')", timeout=60_000)
    idle(page)
    rows = page.evaluate("() => document.querySelector('.st-key-explorer_chart .js-plotly-plot').data"
                         ".find(d => d.type === 'heatmap').customdata.length")
    row = min(5, rows - 1)
    _, y, _ = page.evaluate(ROW_POINT, row)
    page.mouse.move(800, 600)
    page.mouse.wheel(0, y - 600)  # Streamlit scrolls its main block, not the window: bring the row into view
    still(page)
    x, y, neuron = page.evaluate(ROW_POINT, row)
    page.mouse.click(x, y)
    link = page.get_by_text(f"Inspect hidden neuron {neuron} on")
    link.wait_for(timeout=60_000)
    link.click()
    page.wait_for_function(f"() => document.body.innerText.includes('Neuron {neuron} up close')", timeout=90_000)
    page.wait_for_function("(n) => location.search.includes('neuron=' + n)", arg=neuron, timeout=30_000)
    assert page.problems == [] and page.outside == []


def test_presentation_mode_fits_one_projector_screen(new_page, served):
    """A new session from a link (its cursor where the link puts it), at 1920x1080, then 1280x720 and 3840x2160 (the
    same page resized): no scrolling, no sidebar, big type."""
    pg = new_page(1920, 1080)
    pg.goto(served + "/?present=1&sample=3&t=140")
    pg.wait_for_function(f"() => document.querySelector('.skipsnn-chart .main-svg') && ({CURSOR})() === 140", timeout=90_000)
    pg.wait_for_function(f"() => ({CAPTION})().startsWith('t = 140 ms')", timeout=30_000)
    for width, height in ((1920, 1080), (1280, 720), (3840, 2160)):
        pg.set_viewport_size({"width": width, "height": height})
        pg.wait_for_function(  # the figure follows the window (a resize relayout): tall enough, nothing to scroll
            "(h) => { const c = document.querySelector('.skipsnn-chart'); return c && c.getBoundingClientRect().bottom > 0.85 * h"
            " && document.scrollingElement.scrollHeight <= window.innerHeight; }", arg=height, timeout=30_000)
        sidebar = pg.evaluate("() => { const s = document.querySelector('section[data-testid=\"stSidebar\"]');"
                              " return s ? getComputedStyle(s).display : 'absent'; }")
        assert sidebar in ("none", "absent"), "the sidebar is hidden"
        sizes = pg.evaluate("() => [document.scrollingElement.scrollHeight, window.innerHeight, Array.from("
                            "document.querySelectorAll('[data-testid=\"stMain\"], section.main')).map(m => m.scrollHeight - m.clientHeight)]")
        assert sizes[0] <= sizes[1] and all(extra <= 0 for extra in sizes[2]), f"no vertical scroll at {width}x{height}: {sizes}"
        chart = pg.evaluate("() => document.querySelector('.skipsnn-chart').getBoundingClientRect().bottom")
        assert chart > 0.85 * height, f"the figure's height follows the screen at {width}x{height}"
        if height == 1080:
            assert pg.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)") >= 24, "type 1.5x"
    assert "present=1" in pg.url
    pg.set_viewport_size({"width": 1280, "height": 720})
    pg.wait_for_timeout(500)
    shown = pg.evaluate("() => { const gd = document.querySelector('.skipsnn-chart'), fl = gd._fullLayout;"
                        " return {panels: Object.keys(fl).filter(k => /^yaxis\\d+$/.test(k)).length, font: fl.font.size,"
                        " caption: gd._fullData[2].cliponaxis}; }")
    assert shown["panels"] == 4 and shown["caption"] is False, f"four time panels on a 720-line screen, the caption unclipped: {shown}"
    pg.set_viewport_size({"width": 1920, "height": 1080})
    pg.wait_for_function("() => document.querySelector('.skipsnn-chart')._fullLayout.font.size >= 20", timeout=10_000)  # type scales
    pg.locator("h1").first.click()  # the focus anywhere but the chart: space still plays, the arrows still step
    before = pg.evaluate(CURSOR)
    pg.keyboard.press("ArrowRight")
    pg.wait_for_function(f"() => ({CURSOR})() === {before + 1}", timeout=10_000)
    pg.keyboard.press(" ")
    pg.wait_for_function("() => document.querySelector('.skipsnn-player').dataset.playing === '1'", timeout=10_000)
    pg.keyboard.press(" ")
    pg.get_by_role("button", name="Share", exact=True).click()  # the files and a link that works pasted anywhere
    link = pg.locator("[data-testid='stPopoverBody'] code").inner_text()
    assert link.startswith(served) and "present=1" in link, link
    assert pg.locator("[data-title='Share chart...']").count() == 0, "no modebar button that would send the data off the server"


def test_drawing_a_digit_with_the_mouse_gets_a_prediction(page):
    """In the module's page, as a user would: back to Explore, the sidebar's Dataset menu, a stroke on the canvas."""
    pg = page
    pg.locator("[data-testid='stSidebarNav'] a").filter(has_text="Explore").click()
    pg.wait_for_function("() => location.pathname === '/' && document.querySelector('.skipsnn-chart')", timeout=60_000)
    idle(pg)
    pg.locator(".st-key-dataset [role='combobox']").click()
    pg.get_by_role("option", name="Draw your own digit").click()
    canvas = pg.locator(".skipsnn-draw canvas")
    canvas.wait_for(timeout=90_000)
    pg.get_by_text("draw a digit in the sidebar").wait_for(timeout=30_000)
    idle(pg)
    pg.wait_for_function("() => !document.querySelector('.skipsnn-chart')", timeout=30_000)  # the digits' view is gone
    box = canvas.bounding_box()
    pg.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15)
    pg.mouse.down()
    for k in range(1, 21):  # a '1': one stroke down the middle
        pg.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * (0.15 + 0.035 * k))
    pg.mouse.up()
    pg.locator(".skipsnn-draw button[data-act='use']").click()
    pg.wait_for_function("() => document.querySelector('.skipsnn-chart .main-svg')", timeout=90_000)
    pg.wait_for_function("() => Array.from(document.querySelectorAll('[data-testid=\"stMetricLabel\"]'))"
                         ".some(l => l.innerText.includes('Prediction'))", timeout=60_000)
    cards = metric_texts(pg)
    assert cards["Prediction"] and cards["Prediction"] != "none (silent network)" and "✓" not in cards["Prediction"], cards
    # the address bar follows once the run has published its link (a message after the cards)
    pg.wait_for_function("() => location.search.includes('dataset=drawing')", timeout=30_000)
    assert pg.problems == [] and pg.outside == []
