"""Layout in a real browser: no chart text over another at three screen sizes, and the main chart above the fold.

Every page (Explore, each Tour step, reached by its Next button, Why, Compare, Sweeps, Train, Model card) is opened once at 1440×900 and then
resized to 1280×720 and 1920×1080 (the charts re-lay themselves out on resize, as they do for a user), in the session's
one walk through the pages (tests/page_visits.py). At each size,
the client rects of every Plotly text (titles, subplot titles and other annotations, axis titles, colour-bar titles,
legend entries and legend boxes) are collected per chart; no two may intersect by more than 1 px, and none may
reach outside its chart (cut off). The session's server and Chromium (tests/conftest.py) serve the whole module.
"""

from __future__ import annotations

import pytest

from bench.browser import still
from tests.conftest import BROWSER_GROUP
from tests.layout_boxes import cut_off, overlaps
from tests.page_visits import SIZES, TOUR_STEPS

# One worker runs every browser module (pytest-xdist loadgroup): they share its session server, its browser context
# and its one walk through the pages (tests/conftest.py, tests/page_visits.py), which the accessibility tests read too.
pytestmark = pytest.mark.xdist_group(BROWSER_GROUP)

FOLD = {"why", "compare", *(f"tour {k}" for k in range(1, TOUR_STEPS + 1))}  # main chart must start above the fold
EXPLORER_OWNED = {"explorer_chart", "tour_chart"}  # the Explorer chart (figures/explorer.py): its own issue, see below


@pytest.fixture(scope="module")
def measured(visits):
    """{page: {(w, h): text boxes}} and {page: main chart's top at 1440×900}, from the session's walk through the
    pages; a page whose visit failed fails here with its error."""
    boxes, tops = {}, {}
    for visit in visits.values():
        if visit.error:
            raise visit.error
        boxes.update(visit.boxes)
        tops.update(visit.tops)
    assert set(boxes) >= {"explore", "why", "compare", "sweeps", "model card", "train",
                          *(f"tour {k}" for k in range(1, TOUR_STEPS + 1))}, sorted(boxes)
    return boxes, tops


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_chart_text_overlaps_another_or_is_cut_off(measured, size):
    boxes, _ = measured
    problems = []
    for page, at in boxes.items():
        here = at[size]
        assert here, f"{page}: no chart text found at {size}"
        for line in overlaps(here) + cut_off(here):
            problems.append(f"{page}: {line}")
    assert not problems, "\n".join(problems)


def test_each_main_chart_starts_above_the_fold_at_1440x900(measured):
    _, tops = measured
    late = {page: tops[page] for page in FOLD if tops[page] is None or tops[page] >= 900}
    assert not late, f"main chart's top at or below the 900 px fold: {late}"
    assert tops["why"] < 450 and tops["compare"] < 600, f"and high enough to show its first panel: {tops}"


ROW_POINT = """() => { const gd = document.querySelector('.st-key-why_top .js-plotly-plot');
  const rows = gd._fullData.filter(t => t.customdata && t.customdata.length);
  const row = rows[1], p = 60, fl = gd._fullLayout;
  const xa = fl[row.xaxis.replace('x', 'xaxis')], ya = fl[row.yaxis.replace('y', 'yaxis')], box = gd.getBoundingClientRect();
  return {neuron: Number(row.customdata[p]), x: box.left + xa._offset + xa.c2p(row.x[p]),
          y: box.top + ya._offset + ya.c2p(row.y[p])}; }"""
INSPECTED = """() => document.querySelector('.st-key-why_neuron_chart .js-plotly-plot')._fullLayout.title.text
  .replace(/<[^>]+>/g, '')"""


def test_a_click_on_a_top_neuron_row_inspects_that_neuron(served, new_page):
    from bench.browser import rerun_done, script_runs

    pg = new_page(1440, 900)
    pg.goto(served + "/why?sample=3&noise=1&start=120&step=148")
    pg.wait_for_selector(".st-key-why_top .js-plotly-plot .main-svg", timeout=180_000)
    first = pg.evaluate(INSPECTED)
    pg.locator(".st-key-why_top").scroll_into_view_if_needed()
    still(pg, 500)
    point = pg.evaluate(ROW_POINT)
    assert first != f"Neuron {point['neuron']} up close", "the inspector starts on the top neuron, not the second"
    runs = script_runs(pg)
    pg.mouse.move(point["x"], point["y"])
    pg.wait_for_timeout(150)  # plotly picks the hovered point
    pg.mouse.click(point["x"], point["y"])
    rerun_done(pg, runs)
    pg.wait_for_function(f"() => ({INSPECTED})() === 'Neuron {point['neuron']} up close'", timeout=30_000)
