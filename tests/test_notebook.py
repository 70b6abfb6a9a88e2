"""The notebook widget (skipsnn_core.notebook.Explorer): the kernel side against the core, the example notebook
run top to bottom by nbclient, and the widget's module drawing in Chromium from a static page.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

import nbformat
import numpy as np
import plotly
import pytest
import torch
from nbclient import NotebookClient

from skipsnn_core import load_checkpoint, metrics
from skipsnn_core.data import NMNISTFolder, DataError, frames
from skipsnn_core.explore import SampleSpec, ViewOptions, make_sample, run_trace
from skipsnn_core.figures import explorer_payload
from skipsnn_core.notebook import Explorer, builtin_digits
from tests.conftest import BROWSER_GROUP, require_browser

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
EXAMPLE = ROOT / "examples" / "explorer.ipynb"
CLASSES = [str(c) for c in range(10)]


@pytest.fixture(scope="module")
def model():
    return load_checkpoint(ASSETS / "digits_skipsnn.pt", device="cpu").eval()


def direct(model, index: int, level: int, theta: float, edits: str = ""):
    """The sample, trace and payload the app computes for these settings (its defaults: start 120, seed 0)."""
    sample = make_sample(builtin_digits(), SampleSpec(index=index, noise_level=level, start=120, seed=0, T=300))
    view = ViewOptions(controller_theta=theta, edits=edits)
    trace = run_trace(model, sample, view)
    meta = {"sample": sample.spec.__dict__, "view": view.__dict__}
    return sample, trace, explorer_payload(sample, trace, CLASSES, meta=meta).decode()


def test_every_change_reruns_the_apps_own_path(model):
    w = Explorer(model, 2)
    assert w.threshold == pytest.approx(model.config.controller_theta), "the threshold starts as trained"
    for level, theta in ((1, 0.5), (1, 0.4), (3, 0.4)):
        w.noise_level, w.threshold = level, theta
        sample, trace, payload = direct(model, 2, level, theta)
        assert torch.equal(w.sample.x, sample.x), f"noise level {level}: the sample the app would draw"
        assert torch.equal(w.trace.gate, trace.gate), f"threshold {theta}: the gate the app would show"
        assert w.payload == payload, "the chart receives exactly the app's payload"
        assert w.summary.state_updates == pytest.approx(float(metrics.state_updates(trace.gate)[0]))
    assert json.loads(w.payload)["figure"]["layout"]["meta"]["view"]["controller_theta"] == 0.4


def test_a_path_and_a_model_give_the_same_run(model):
    a, b = Explorer(ASSETS / "digits_skipsnn.pt", 1, device="cpu"), Explorer(model, 1)
    assert torch.equal(a.trace.gate, b.trace.gate) and a.payload == b.payload


def test_a_click_on_the_gate_forces_those_steps_open_and_bad_edits_raise(model):
    w = Explorer(model, 0, threshold=0.6)  # at 0.6 this sample's gate stays shut after step 0
    assert int(w.trace.gate[0].sum()) == 1
    w._on_chart_event(w, {"event": "edit", "value": {"t0": 0, "t1": 20}}, [])  # what chart.js sends; step 0 stays
    assert w.edits == "o1-20"
    assert w.trace.gate[0, :21].all() and int(w.trace.gate[0].sum()) == 21
    assert torch.equal(w.trace.gate, direct(model, 0, 1, 0.6, "o1-20")[1].gate)
    with pytest.raises(Exception, match="o400"):
        w.edits = "o400"
    assert w.edits == "o1-20", "a rejected edit leaves the last good one"


def test_real_events_and_framed_tensors(nmnist_dir):
    snn = load_checkpoint(ASSETS / "nmnist_skipsnn.pt", device="cpu").eval()
    events, label = NMNISTFolder(nmnist_dir, "test")[0]
    w = Explorer(snn, (events, label), noise_level=2)
    signal = torch.from_numpy(frames(events, (34, 34, 2)))
    assert w.sample.label == label
    assert torch.equal(w.sample.x[w.sample.signal], signal), "the recording's first 50 ms sit in the signal window"
    unlabelled = Explorer(snn, signal.float(), noise_level=2)
    assert unlabelled.sample.label == -1 and torch.equal(unlabelled.trace.gate, w.trace.gate)
    with pytest.raises(DataError, match="2312"):
        Explorer(snn, np.zeros((50, 100)))


def test_a_page_without_plotly_gets_the_packages_copy(model):
    w, replies = Explorer(model, 0), []
    w.send = replies.append  # what the comm would carry to the front end
    w._on_chart_event(w, {"event": "plotly"}, [])
    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert replies == [{"plotly": source.read_text()}]
    assert sum(len(str(v)) for v in w.get_state().values()) < 1_000_000, "the synced state stays without plotly.js"


def test_a_plain_snn_has_no_threshold_to_set():
    w = Explorer(ASSETS / "digits_snn.pt", 0, device="cpu")
    assert not w.gated and bool(w.trace.gate.all())
    w.threshold = 1.5
    assert bool(w.trace.gate.all()), "the threshold of a network without a controller changes nothing"


def test_the_example_notebook_runs_top_to_bottom(model):
    nb = nbformat.read(EXAMPLE, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=60, store_widget_state=True,
                   resources={"metadata": {"path": str(EXAMPLE.parent)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    shown = [o for o in code[0].outputs if o.output_type == "execute_result"]
    assert shown and "application/vnd.jupyter.widget-view+json" in shown[0]["data"], "the widget is displayed"
    printed = "".join(o.get("text", "") for o in code[1].outputs if o.output_type == "stream")
    _, trace, _ = direct(model, 0, 1, 0.4)
    admitted = int(trace.gate[0].sum())
    assert f"admitted frames: {admitted} of 300" in printed, printed
    assert f"state updates: {float(metrics.state_updates(trace.gate)[0]):.4f}" in printed, printed
    assert f"prediction: {int(trace.prediction[0])}, true label: 0" in printed, printed
    states = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    widget = next(s["state"] for s in states.values() if s["model_name"] == "AnyModel")
    assert widget["threshold"] == 0.4, "the threshold set from code reached the front end"
    gate = next(d for d in json.loads(widget["payload"])["figure"]["data"] if d.get("name") == "gate")
    assert gate["customdata"][0].count("admitted") == admitted, "the payload the widget holds is the run printed"
    assert len(json.dumps(widget)) < 1_000_000, "the saved state holds the payload, not plotly.js (4.8 MB)"


# ---------------------------------------------------------------- the widget's module in a real browser

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="widget.css">
<link rel="icon" href="data:,"></head>
<body><div id="root"></div><script type="module">
const [esm, payload, state, plotly] = await Promise.all(
  ["widget.js", "payload.json", "state.json", "plotly.min.js"].map((f) => fetch(f).then((r) => r.text())));
// As anywidget loads `_esm`: imported from a blob URL (no relative imports), its default export a factory or an object.
const mod = await import(URL.createObjectURL(new Blob([esm], { type: "text/javascript" })));
const widget = typeof mod.default === "function" ? await mod.default() : mod.default;
// A stand-in for anywidget's model (get/set/on/off/save_changes/send) over what Python wrote.
const values = { ...JSON.parse(state), payload }, handlers = {};
window.saved = []; window.sent = [];
window.model = {
  get: (k) => values[k],
  set: (k, v) => { values[k] = v; for (const f of handlers["change:" + k] || []) f(); },
  on: (name, f) => (handlers[name] = handlers[name] || []).push(f),
  off: (name, f) => { handlers[name] = (handlers[name] || []).filter((g) => g !== f); },
  save_changes: () => window.saved.push({ cursor: values.cursor, threshold: values.threshold, noise_level: values.noise_level }),
  send: (m) => { // Python's Explorer answers a request for plotly.js with a custom message
    window.sent.push(m);
    if (m.event === "plotly") setTimeout(() => { for (const f of handlers["msg:custom"] || []) f({ plotly }, []); });
  },
};
if (widget.initialize) await widget.initialize({ model: window.model });
widget.render({ model: window.model, el: document.getElementById("root") });
</script></body></html>"""
GD = "document.querySelector('#root .js-plotly-plot')"
ADMITTED = f"() => {GD}._fullData.find((d) => d.name === 'gate').customdata[0].filter((c) => c === 'admitted').length"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reads the page, not the server's log
        pass


@pytest.fixture
def widget_page(tmp_path, browser, model):
    """The widget's ESM and CSS as Python hands them to anywidget, the payload of sample 0, over loopback HTTP."""
    require_browser()
    w = Explorer(model, 0)
    (tmp_path / "widget.js").write_text(w._esm)
    (tmp_path / "widget.css").write_text(w._css)
    replies = []
    w.send = replies.append  # what the comm would carry to the front end
    w._on_chart_event(w, {"event": "plotly"}, [])
    (tmp_path / "plotly.min.js").write_text(replies[0]["plotly"])
    (tmp_path / "payload.json").write_text(w.payload)
    (tmp_path / "state.json").write_text(json.dumps({k: getattr(w, k) for k in ("cursor", "noise_level", "threshold",
                                                                                "gated", "error", "edits")}))
    (tmp_path / "index.html").write_text(PAGE)
    w.threshold = 0.4  # the reply Python would send after the slider moved
    (tmp_path / "payload_04.json").write_text(w.payload)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.problems, page.outside = [], []
    page.on("console", lambda m: page.problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: page.problems.append(f"uncaught: {e}"))
    page.on("response", lambda r: page.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else page.outside.append(r.url))
    page.goto(url + "index.html")
    yield page, url, Explorer(model, 0), w
    page.close()
    server.shutdown()
    server.server_close()


@pytest.mark.xdist_group(BROWSER_GROUP)  # the Chromium of the other browser tests (tests/conftest.py)
def test_the_widget_module_draws_and_talks_to_its_model(widget_page):
    page, url, first, second = widget_page
    page.wait_for_function(f"() => {GD} && {GD}._fullLayout && {GD}.dataset.reactMs", timeout=15_000)
    assert page.evaluate(f"() => {GD}.querySelectorAll('svg.main-svg .scatterlayer .trace').length") > 10, "traces drawn"
    assert page.evaluate(f"() => {GD}._fullLayout.images.length") == 4, "the four image panels (gate, raster, ...)"
    assert page.evaluate(ADMITTED) == int(first.trace.gate[0].sum()), "the gate drawn is the kernel's run"
    # the player moves the cursor, and its resting step goes to the model (Python's .cursor)
    page.locator(".skipsnn-player button[data-act='fwd']").click()
    page.wait_for_function("() => window.model.get('cursor') === 1 && window.saved.length === 1")
    # Python setting .cursor moves the chart's cursor
    page.evaluate("() => window.model.set('cursor', 40)")
    page.wait_for_function(f"() => {GD}.dataset.cursor === '40' && {GD}._fullData[2].text[0].startsWith('t = 40 ms')")
    # the threshold slider hands its value to the model for the kernel, and the kernel's new payload is drawn
    slider = page.locator(".skipsnn-settings input[data-key='threshold']")
    assert slider.input_value() == "0.5"
    slider.fill("0.4")
    page.wait_for_function("() => window.model.get('threshold') === 0.4 && window.saved.length === 2")
    assert page.locator(".skipsnn-status").inner_text() == "running…"
    page.evaluate("(p) => fetch(p).then((r) => r.text()).then((t) => window.model.set('payload', t))", url + "payload_04.json")
    page.wait_for_function(f"() => {GD}.layout.meta.view.controller_theta === 0.4")
    assert page.evaluate(ADMITTED) == int(second.trace.gate[0].sum()) > int(first.trace.gate[0].sum())
    assert page.evaluate(f"() => {GD}.dataset.cursor") == "40", "the cursor survives a new payload"
    assert page.locator(".skipsnn-status").inner_text() == ""
    assert [m["event"] for m in page.evaluate("() => window.sent")] == ["plotly"], "plotly.js asked for once"
    assert page.problems == [], f"a clean console: {page.problems}"
    assert page.outside == [], f"nothing fetched from outside the page's server: {page.outside}"
