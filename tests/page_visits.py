"""One walk through every page of the app in one browser page, for the accessibility and the layout tests.

Both test modules read the same pages, and a page load is the dearest thing a browser test does here (seconds
each, on two shared cores), so each page is opened once and everything both modules check is taken from it, in
this order: axe-core's violations in the page's default state; the text boxes of every chart at 1440×900,
1280×720 and 1920×1080 and where its main chart starts (Explore: where its first screen ends, at 1440×900 and
1280×720, for tests/test_browser.py); then one interaction a user makes there and axe-core
again. The Tour is walked by its Next button (its Next is the Tour's interaction); the Train page's interaction
is the first of the settings a small run needs, whose charts are then measured once the run is done.

Each page's results, or the error that stopped its visit, are kept apart: one page that fails fails only the tests
that read it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from bench.browser import idle, slider_input, still
from tests.layout_boxes import CHART_TOPS, TEXT_BOXES

SIZES = ((1440, 900), (1280, 720), (1920, 1080))
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# name: (link, the main chart's Streamlit key, the interaction); app_script.py's navigation order. The Sweeps page
# over 60 digits: its default, all 360, draws the same page from a sweep that takes seconds longer. Compare with
# another threshold for B (the default state is checked by axe first, on its own link).
PAGES = {
    "explore": ("/", "explorer_chart", "theta"),
    "tour": ("/tour?tour=1", "tour_fig", "next"),
    "why": ("/why", "why_chart", "slider"),
    "compare": ("/compare", "compare_chart", "slider"),
    "sweeps": ("/sweep?n=60", "sweep_chart", "hover"),
    "train": ("/train", None, "train"),
    "model card": ("/model_card", "sweep_chart", "metadata"),
}
LAYOUT_LINKS = {"compare": "/compare?b_theta=0.8"}  # measured for layout on this link instead of the default one
TOUR_STEPS = 8
FIRST_SCREEN = ((1440, 900), (1280, 720))  # Explore's first screen is measured at these sizes

# Where Explore's first screen ends: the bottoms of its events, gate and controller panels, of the player and of the
# Prediction and State updates cards, and how far the main block is scrolled (tests/test_browser.py reads them).
PANEL_BOTTOMS = """() => { const gd = document.querySelector('.st-key-explorer_chart .js-plotly-plot');
    const fl = gd._fullLayout, box = gd.getBoundingClientRect(), out = {};
    for (const name of ['events per frame', 'gate', 'controller u']) {
        const tr = gd._fullData.find(d => d.name === name), ya = fl['yaxis' + tr.yaxis.slice(1)];
        out[name] = box.top + ya._offset + ya._length; }
    const cards = {};
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
        cards[m.querySelector('[data-testid="stMetricLabel"]').innerText.trim()] ??= m.getBoundingClientRect().bottom; }
    out.player = document.querySelector('.skipsnn-player').getBoundingClientRect().bottom;
    out.prediction = cards['Prediction']; out.updates = cards['State updates'];
    out.scrolled = document.querySelector('[data-testid="stMain"]').scrollTop;
    return out; }"""


@dataclass
class Visit:
    """What one page showed: axe-core's violations before and after the interaction, its charts' text boxes per
    screen size and its main chart's top at 1440×900 (the Tour: per step, as "tour k"), or the visit's error."""

    axe_before: list = field(default_factory=list)
    axe_after: list = field(default_factory=list)
    boxes: dict = field(default_factory=dict)  # name ("tour 3", "train", ...) -> {(w, h): boxes}
    tops: dict = field(default_factory=dict)  # name -> main chart's top at 1440x900
    first_screen: dict = field(default_factory=dict)  # (w, h) -> PANEL_BOTTOMS (Explore only)
    error: BaseException | None = None


def settled(page, timeout_ms: float = 120_000) -> None:
    """The page's script has run and its charts are drawn (Plotly's SVG is in the page)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout_ms)
    idle(page, timeout_ms)
    page.wait_for_timeout(400)  # a chart's fonts and transitions (axe reads the painted colours)


@functools.cache
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def violations(page) -> list[dict]:
    """axe-core's violations of the WCAG tags on the page as it is now. axe-core is the copy inside
    axe-playwright-python, put into the page once (it stays across Streamlit's reruns); only violations are
    collected and sent back, not every rule that passed."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate("(options) => axe.run(document, options).then(r => r.violations)",
                         {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})


def measure(page, key: str | None, visit: Visit | None = None) -> tuple[dict, float | None]:
    """The charts' text boxes at each size (the page opened at 1440×900 and resized, as a user's window is) and the
    main chart's top at 1440×900; back at 1440×900 afterwards. Given the Explore page's ``visit``, its first screen
    at the sizes of FIRST_SCREEN too."""
    if key:
        page.wait_for_selector(f".st-key-{key} .js-plotly-plot .main-svg", timeout=180_000)
    # 300 ms with nothing moved: plotly.js re-lays a chart out within ~100 ms of a resize
    still(page, 300, 180_000)
    top = page.evaluate(CHART_TOPS).get(key) if key else None
    boxes = {}
    for w, h in SIZES:
        if (w, h) != (1440, 900):
            page.set_viewport_size({"width": w, "height": h})
            still(page, 300)
        boxes[(w, h)] = page.evaluate(TEXT_BOXES)
        if visit is not None and (w, h) in FIRST_SCREEN:
            visit.first_screen[(w, h)] = page.evaluate(PANEL_BOTTOMS)
    page.set_viewport_size({"width": 1440, "height": 900})  # what comes next waits for its own run and redraw
    return boxes, top


def interact(page, how: str) -> None:
    """One thing a user does on the page: move a slider (or, where there is none, press a button or open a panel)."""
    if how == "theta":
        slider_input(page, "theta").focus()
        page.keyboard.press("ArrowRight")
    elif how == "next":
        page.get_by_role("button", name="Next").first.click()
    elif how == "metadata":
        page.get_by_text("All metadata").click()
    elif how == "hover":  # another sweep would cost seconds: point at the chart, its hover label opens
        page.locator(".st-key-sweep_chart .js-plotly-plot").hover()
    elif how == "train":  # the first setting of the small run train_run makes: 1 epoch
        slider_input(page, "train_epochs").focus()
        page.keyboard.press("Home")
    else:
        page.locator("[data-testid='stMain'] [data-testid='stSlider'] input[type='range']").first.focus()
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    settled(page)


def tour_steps(page, visit: Visit) -> None:
    """Steps 2..8 of the Tour by its Next button, as a reader goes on (no page load): each one's boxes and top."""
    for k in range(2, TOUR_STEPS + 1):
        if k > 2:
            page.get_by_role("button", name="Next").first.click()
        page.wait_for_function("(k) => new URLSearchParams(location.search).get('tour') === k", arg=str(k),
                               timeout=180_000)  # the run that drew step k published its link
        visit.boxes[f"tour {k}"], visit.tops[f"tour {k}"] = measure(page, "tour_chart" if k == 4 else "tour_fig")


def train_run(page) -> dict:
    """The Train page draws charts only for a run: the smallest one (1 epoch, set by the interaction; 50 neurons,
    100 digits), measured once the run is done and saved (while it lasts the page redraws itself every second; the
    checkpoint goes to the session server's own temporary folder)."""
    for key in ("train_hidden", "train_limit"):  # Home: 50 hidden neurons; the first 100 training digits
        slider_input(page, key).focus()
        page.keyboard.press("Home")
    still(page, 300)
    page.get_by_role("button", name="Start training").click()
    page.get_by_role("button", name="Open in Explore").wait_for(timeout=300_000)
    return measure(page, "train_gate")[0]


def visit_all(context, base_url: str) -> dict[str, Visit]:
    """Every page of PAGES, one after another in one page of ``context`` at 1440×900."""
    page = context.new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    visits = {}
    try:
        for name, (link, key, how) in PAGES.items():
            visit = visits[name] = Visit()
            try:
                page.goto(base_url + link)
                settled(page)
                visit.axe_before = violations(page)
                measured = "tour 1" if name == "tour" else name
                if name not in LAYOUT_LINKS and name != "train":  # the Train page's charts come with a run, later
                    visit.boxes[measured], visit.tops[measured] = measure(page, key, visit if name == "explore" else None)
                interact(page, how)
                visit.axe_after = violations(page)
                if name in LAYOUT_LINKS:  # measured on a link of its own
                    page.goto(base_url + LAYOUT_LINKS[name])
                    settled(page)
                    visit.boxes[measured], visit.tops[measured] = measure(page, key)
                if name == "tour":
                    tour_steps(page, visit)
                elif name == "train":
                    visit.boxes["train"] = train_run(page)
            except Exception as e:  # noqa: BLE001 - kept for the tests that read this page, raised there
                visit.error = e
    finally:
        page.close()
    return visits


def readable(found: list[dict]) -> str:
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:6]:
            lines.append(f"    {node['target']}: {node['html'][:140]}")
            lines.append(f"        {node.get('failureSummary', '').strip().splitlines()[-1][:220]}")
    return "\n".join(lines)
