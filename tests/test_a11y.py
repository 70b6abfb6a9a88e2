"""Every page under axe-core's WCAG 2.2 A/AA rules, in a real browser, in its default state and after one
interaction, in the light theme and (Explore) the dark one; and the Explore player by keyboard alone.

One server, one browser and its light context for the session (the fixtures in tests/conftest.py); the pages'
default states and interactions come from the session's one walk through the pages (tests/page_visits.py), which
the layout tests read too. Skips with a reason when Chromium, Playwright or axe-playwright-python is missing, unless
SKIPSNN_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BROWSER_GROUP, require_axe
from tests.page_visits import PAGES, readable, settled, violations

# One worker runs every browser module (pytest-xdist loadgroup), on its session server and browser context, and
# their one walk through the pages (tests/conftest.py, tests/page_visits.py).
pytestmark = pytest.mark.xdist_group(BROWSER_GROUP)

ROOT = Path(__file__).resolve().parents[1]
CURSOR = "() => Number(document.querySelector('.skipsnn-chart').dataset.cursor)"


@pytest.fixture(scope="module")
def served(served):
    """conftest's app server, once axe-core is known to be here."""
    require_axe()
    return served


@pytest.mark.parametrize("name", list(PAGES), ids=[n.replace(" ", "_") for n in PAGES])
def test_every_page_passes_axe_before_and_after_one_interaction(visits, name):
    visit = visits[name]
    if visit.error:
        raise visit.error
    assert not visit.axe_before, f"{name} ({PAGES[name][0]}), default state:\n{readable(visit.axe_before)}"
    assert not visit.axe_after, f"{name} ({PAGES[name][0]}), after one interaction:\n{readable(visit.axe_after)}"


def test_explore_in_the_dark_theme_passes_axe_and_its_charts_follow(served, new_page):
    page = new_page(1440, 900)
    page.emulate_media(color_scheme="dark")  # the system's scheme, as this page sees it from its first load
    page.goto(served)
    page.wait_for_function("() => document.querySelector('.skipsnn-chart .main-svg')", timeout=120_000)
    settled(page)
    ground = page.evaluate("() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor")
    paper = page.evaluate("() => document.querySelector('.skipsnn-chart')._fullLayout.paper_bgcolor")
    assert ground == "rgb(14, 17, 23)" and paper.lower() in ("#0e1117", "rgb(14, 17, 23)"), (ground, paper)
    found = violations(page)
    assert not found, f"Explore, dark theme:\n{readable(found)}"
    out = ROOT / "test-artifacts" / "dark-explore.png"  # ignored by git; docs/dark-explore.png is a copy of one
    out.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(out))
    assert out.stat().st_size > 20_000


def test_the_chart_follows_a_theme_switch_without_a_click(served, new_page):
    """The system scheme turns dark while Explore is open: the page repaints itself, and the chart asks for a rerun
    and is drawn again in the dark palette (a theme switch alone reruns nothing)."""
    page = new_page(1440, 900)
    paper = "() => document.querySelector('.skipsnn-chart')._fullLayout.paper_bgcolor.toLowerCase()"
    page.goto(served)
    page.wait_for_function("() => document.querySelector('.skipsnn-chart .main-svg')", timeout=120_000)
    settled(page)
    assert page.evaluate(paper) in ("#ffffff", "white", "rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), page.evaluate(paper)
    page.emulate_media(color_scheme="dark")
    page.wait_for_function(f"() => ['#0e1117', 'rgb(14, 17, 23)'].includes(({paper})())", timeout=30_000)


def test_explore_by_keyboard_alone(served, new_page):
    """Tab reaches the controls in reading order, the focus is always visible, and the chart's player answers space
    and the arrows without a click on the chart."""
    page = new_page(1440, 900)
    page.goto(served)
    page.wait_for_function("() => document.querySelector('.skipsnn-chart .main-svg')", timeout=120_000)
    settled(page)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    seen, hidden_focus = [], []
    for _ in range(80):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => { const e = document.activeElement; if (!e || e === document.body) return null;
            const s = getComputedStyle(e), r = e.getBoundingClientRect();
            const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1) || s.boxShadow !== 'none';
            const within = e.closest('[data-baseweb], [data-testid=stSlider], [data-testid=stToggle], label');
            const wrapped = within && (getComputedStyle(within).boxShadow !== 'none' || getComputedStyle(within).outlineStyle !== 'none');
            return {tag: e.tagName, label: e.getAttribute('aria-label') || e.innerText.slice(0, 30), act: e.dataset.act || '',
                    top: r.top + document.querySelector('[data-testid=stMain]').scrollTop, left: r.left,
                    inChart: !!e.closest('.skipsnn-live'), visible: ring || !!wrapped}; }""")
        if info is None:
            continue
        seen.append(info)
        if not info["visible"]:
            hidden_focus.append(info)
        if info["inChart"] and info["tag"] == "INPUT":
            break
    chart = [s for s in seen if s["inChart"]]
    assert chart and chart[0]["tag"] == "DIV", "Tab reaches the chart's box first (space and the arrows work from there)"
    acts = [s["act"] for s in chart if s["tag"] == "BUTTON"]
    assert acts == ["back", "play", "play", "play", "pause", "fwd", "select"], f"then the player's buttons in order: {acts}"
    assert seen[-1]["tag"] == "INPUT" and seen[-1]["inChart"], "and then the cursor slider"
    # reading order: the page's controls as a reader meets them (row by row, each row's columns left to right,
    # down a column before the next), then the chart; no positive tabindex reorders anything
    labels = [s["label"] for s in seen]
    # (the toolbar: the rest of the settings, the gate edits and the glossary are popovers, one Enter away)
    order = ["Presentation mode", "Sample", "Noise level", "Gate threshold", "Settings", "Edits", "Symbols"]
    at = [next((i for i, label in enumerate(labels) if label.strip() == want or want in label.split("\n")), None)
          for want in order]
    assert None not in at and at == sorted(at), f"controls in reading order {order}, Tab met: {labels}"
    assert max(at) < labels.index(chart[0]["label"]), "the settings come before the chart"
    assert page.evaluate("() => document.querySelectorAll('[tabindex]:not([tabindex=\\'-1\\']):not([tabindex=\\'0\\'])').length") == 0, \
        "no positive tabindex"
    assert not hidden_focus, f"focused without a visible ring: {hidden_focus}"
    # the popover's settings by keyboard too: Enter on Settings opens it and Tab walks into its controls
    settings = page.locator("[data-testid='stPopoverButton']").filter(has_text="Settings").first
    settings.focus()
    page.keyboard.press("Enter")
    inside = []
    for _ in range(6):
        page.keyboard.press("Tab")
        inside.append(page.evaluate("() => document.activeElement.getAttribute('aria-label') || document.activeElement.innerText.slice(0, 30)"))
    assert any(label.strip() in ("Preset", "Digit") for label in inside), f"Tab inside the open Settings: {inside}"
    page.keyboard.press("Escape")
    settled(page)  # leaving a Settings control may commit it: a rerun, which must be over before the player is used
    page.locator(".skipsnn-player input").focus()
    # the player, from the keyboard: the slider has focus now
    start = page.evaluate(CURSOR)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => ({CURSOR})() === {start + 1}", timeout=10_000)
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => ({CURSOR})() === {start}", timeout=10_000)
    page.keyboard.press(" ")
    page.wait_for_function("() => document.querySelector('.skipsnn-player').dataset.playing === '1'", timeout=10_000)
    page.wait_for_function(f"() => ({CURSOR})() > {start + 2}", timeout=20_000)
    page.keyboard.press(" ")
    page.wait_for_function("() => document.querySelector('.skipsnn-player').dataset.playing === '0'", timeout=10_000)
    rest = page.evaluate(CURSOR)
    page.wait_for_timeout(300)
    assert page.evaluate(CURSOR) == rest, "space paused: the cursor stays"
