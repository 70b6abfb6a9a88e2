"""What tests/test_layout.py measures in the page: the boxes of every chart's text, and where each chart starts.

Kept apart from the test so a developer can print the same measurements from a running app (see ``report``).
"""

from __future__ import annotations

# Every text a reader reads in a Plotly chart, as client rects: the title, subplot titles and other annotations,
# axis titles, colour-bar titles, each legend entry and each legend's box. Two boxes of one legend (its box and its
# own entries) are not compared with each other, only its entries among themselves.
TEXT_BOXES = """() => {
  const out = [];
  const charts = Array.from(document.querySelectorAll('.js-plotly-plot'));
  charts.forEach((gd, chart) => {
    const root = gd.closest('[class*="st-key-"]');
    const key = root ? Array.from(root.classList).find(c => c.startsWith('st-key-')).slice(7) : `chart${chart}`;
    const frame = gd.getBoundingClientRect();
    const add = (el, kind, group) => {
      const r = el.getBoundingClientRect();
      const text = (el.textContent || '').trim();
      if (r.width < 0.5 || r.height < 0.5 || (kind !== 'legend box' && !text)) return;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none' || Number(style.opacity) === 0) return;
      out.push({chart: key, kind, group, text: text.slice(0, 60), left: r.left, top: r.top, right: r.right,
                bottom: r.bottom, frame: {left: frame.left, top: frame.top, right: frame.right, bottom: frame.bottom}});
    };
    gd.querySelectorAll('.g-gtitle text.gtitle').forEach(el => add(el, 'title', null));
    gd.querySelectorAll('text.annotation-text').forEach(el => add(el, 'annotation', null));
    gd.querySelectorAll('.infolayer text').forEach(el => {
      const cls = el.getAttribute('class') || '';
      if (/^[xy]\\d*title$/.test(cls)) add(el, 'axis title', null);
    });
    gd.querySelectorAll('.colorbar .cbtitle text, .colorbar text.cbtitle').forEach(el => add(el, 'colorbar title', null));
    gd.querySelectorAll('.infolayer .legend').forEach((legend, i) => {
      const bg = legend.querySelector('rect.bg');
      if (bg) add(bg, 'legend box', `legend${i}`);
      legend.querySelectorAll('text.legendtext').forEach(el => add(el, 'legend entry', `legend${i}`));
    });
  });
  return out;
}"""

# Where each chart's top edge is on the screen (client y), by its Streamlit key.
CHART_TOPS = """() => Object.fromEntries(Array.from(document.querySelectorAll('.js-plotly-plot')).map((gd, i) => {
  const root = gd.closest('[class*="st-key-"]');
  const key = root ? Array.from(root.classList).find(c => c.startsWith('st-key-')).slice(7) : `chart${i}`;
  return [key, gd.getBoundingClientRect().top]; }))"""


def overlaps(boxes: list[dict], slack: float = 1.0) -> list[str]:
    """Every pair of text boxes of one chart that intersect by more than ``slack`` px both ways."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a["chart"] != b["chart"]:
                continue
            if a["group"] and a["group"] == b["group"] and "legend box" in (a["kind"], b["kind"]):
                continue  # a legend's box holds its own entries
            w = min(a["right"], b["right"]) - max(a["left"], b["left"])
            h = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            if w > slack and h > slack:
                found.append(f"{a['chart']}: {a['kind']} {a['text']!r} overlaps {b['kind']} {b['text']!r} "
                             f"by {w:.0f}x{h:.0f} px")
    return found


def cut_off(boxes: list[dict], slack: float = 1.0) -> list[str]:
    """Every text that reaches outside its own chart (cut off by the chart's edge)."""
    found = []
    for b in boxes:
        f = b["frame"]
        out = max(f["left"] - b["left"], b["right"] - f["right"], f["top"] - b["top"], b["bottom"] - f["bottom"])
        if out > slack:
            found.append(f"{b['chart']}: {b['kind']} {b['text']!r} reaches {out:.0f} px outside the chart")
    return found


def report(page) -> list[str]:
    """Every overlap and every cut-off text on the page as it is now."""
    boxes = page.evaluate(TEXT_BOXES)
    return overlaps(boxes) + cut_off(boxes)
