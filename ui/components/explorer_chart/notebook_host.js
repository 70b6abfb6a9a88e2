
// The notebook host (appended to chart.js by skipsnn_core/notebook.py): anywidget's render({model, el}).
// The widget's model holds the payload Python built (`payload`), the cursor, and the settings Python re-runs
// the network on (`noise_level`, `threshold`); this host draws the payload with chart.js's `draw` on every
// change and adds the two sliders that, in the app, are Streamlit widgets.

// plotly.js comes from the Python package (no network), asked for once per page with a custom message rather
// than held in a synced trait: it is 4.8 MB, and a notebook that saves its widgets' state would keep a copy per widget.
function plotlyUrl(model) {
  if (window.Plotly) return Promise.resolve(undefined); // loadPlotly takes the one already on the page
  if (!window.__skipsnnPlotlyUrl) {
    window.__skipsnnPlotlyUrl = new Promise((resolve) => {
      const got = (msg) => {
        if (!msg || typeof msg.plotly !== "string") return;
        model.off("msg:custom", got);
        resolve(URL.createObjectURL(new Blob([msg.plotly], { type: "text/javascript" })));
      };
      model.on("msg:custom", got);
      model.send({ event: "plotly" });
    });
  }
  return window.__skipsnnPlotlyUrl;
}

const SETTINGS = [ // the app's own ranges (ui/controls.py)
  { key: "noise_level", label: "Noise level", min: 0, max: 8, step: 1, text: (v) => String(v) },
  { key: "threshold", label: "Gate threshold", min: -0.5, max: 2, step: 0.05, text: (v) => Number(v).toFixed(2) },
];

function settings(model) {
  const bar = document.createElement("div");
  bar.className = "skipsnn-settings";
  bar.innerHTML = SETTINGS.map((s) => `<label>${s.label} <input type="range" data-key="${s.key}" min="${s.min}"
    max="${s.max}" step="${s.step}" aria-label="${s.label.toLowerCase()}"> <output></output></label>`).join("")
    + '<span class="skipsnn-status" role="status"></span>';
  const status = bar.querySelector(".skipsnn-status");
  const show = () => {
    for (const s of SETTINGS) {
      const input = bar.querySelector(`input[data-key="${s.key}"]`);
      input.value = String(model.get(s.key));
      input.disabled = s.key === "threshold" && !model.get("gated"); // a plain SNN has no gate to set
      input.parentElement.querySelector("output").textContent = s.text(model.get(s.key));
    }
    status.textContent = model.get("error") || "";
  };
  bar.addEventListener("input", (e) => {
    const s = SETTINGS.find((s) => s.key === e.target.dataset.key);
    if (s) e.target.parentElement.querySelector("output").textContent = s.text(e.target.value);
  });
  bar.addEventListener("change", (e) => { // the kernel re-runs the network when a slider comes to rest
    const key = e.target.dataset.key;
    if (!key) return;
    const value = key === "noise_level" ? parseInt(e.target.value, 10) : parseFloat(e.target.value);
    if (value === model.get(key)) return;
    model.set(key, value);
    model.save_changes();
    status.textContent = "running…";
  });
  return { bar, show };
}

export default {
  render({ model, el }) {
    el.classList.add("skipsnn-widget");
    const { bar, show } = settings(model);
    const chart = document.createElement("div");
    el.append(bar, chart);
    const component = (plotly) => ({
      data: { spec: model.get("payload"), cursor: model.get("cursor"), plotly },
      parentElement: chart,
      setStateValue: (key, value) => {
        if (key === "cursor" && value !== model.get("cursor")) { model.set("cursor", value); model.save_changes(); }
      },
      setTriggerValue: (key, value) => model.send({ event: key, value }), // a gate edit or a raster row, to Python
    });
    let cleanup = null;
    let gone = false;
    const redraw = () => {
      show();
      plotlyUrl(model).then((url) => { if (!gone && model.get("payload")) cleanup = draw(component(url)); });
    };
    const moved = () => moveCursor(chart, model.get("cursor"));
    const events = [["change:payload", redraw], ["change:error", show], ["change:noise_level", show],
                    ["change:threshold", show], ["change:cursor", moved]];
    for (const [name, fn] of events) model.on(name, fn);
    redraw();
    return () => {
      gone = true;
      for (const [name, fn] of events) model.off(name, fn);
      if (cleanup) cleanup();
    };
  },
};
