// The Explorer's live chart: one Plotly figure that stays alive across reruns.
//
// Python sends the figure without animation frames plus every frame's events (steps); this
// file moves the cursor itself: ON/OFF events at step t, a caption and one line per time panel,
// the same rule as skipsnn_core.figures._cursor_frame_data. A new payload (a slider moved) is
// drawn with Plotly.react into the same div, keeping the cursor and the play state.
// Plotly.js is served by the app itself (static/vendor), so the chart works with no network.
//
// Two hosts mount this one drawing module, each by appending its own few lines to this file's text
// (one ES module, no import needed): streamlit_host.js (the app's custom component) and
// notebook_host.js (the anywidget widget of skipsnn_core.notebook). Both hand `draw` the same shape,
// {data: {spec, cursor, plotly, fit}, parentElement, setStateValue, setTriggerValue}.

const SPEEDS = [4, 16, 64]; // sensor milliseconds per second of playback
// No "Share chart..." button (plotly.js 4 shows one by default: it would post the data to a cloud URL).
const PLOTLY_CONFIG = { displaylogo: false, responsive: true, showSendToCloud: false };
// The gate's markers (skipsnn_core.figures.explorer): hidden, shown while "Select steps" is on (a box drag selects
// markers only); the gate's hover and click are its heatmap cells, the trace named "gate".
const GATE_STEPS = "gate steps";

function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__skipsnnPlotly) {
    window.__skipsnnPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      // Where an AMD loader is on the page (the classic notebook's RequireJS), plotly.js's UMD wrapper would
      // register with it instead of setting window.Plotly: hide it while the script runs.
      const amd = window.define && window.define.amd ? window.define : undefined;
      if (amd) window.define = undefined;
      const done = () => { if (amd) window.define = amd; };
      script.src = url;
      script.onload = () => { done(); resolve(window.Plotly); };
      script.onerror = () => { done(); reject(new Error("plotly.js could not be loaded from " + script.src)); };
      document.head.appendChild(script);
    });
  }
  return window.__skipsnnPlotly;
}

function typed(a) {
  // plotly.py writes NumPy arrays as {dtype, bdata} (base64); plotly.js reads them in traces,
  // and this file needs the steps' arrays as plain ones.
  if (!a || !a.bdata) return a;
  const bytes = Uint8Array.from(atob(a.bdata), (c) => c.charCodeAt(0));
  const kinds = { i4: Int32Array, i2: Int16Array, i1: Int8Array, u1: Uint8Array, f4: Float32Array, f8: Float64Array };
  return new kinds[a.dtype](bytes.buffer);
}

// The cursor's traces at step t, as a Plotly animation frame.
function cursorFrame(spec, t) {
  const s = spec.steps, c = spec.cursor;
  const HW = s.H * s.W;
  const on = { x: [], y: [] }, off = { x: [], y: [] };
  for (let i = s.offsets[t]; i < s.offsets[t + 1]; i++) {
    const ch = s.channels[i], into = ch >= HW ? on : off; // channel p*H*W + y*W + x; p = 1 is ON
    into.x.push(ch % s.W);
    into.y.push(Math.floor(ch / s.W) % s.H);
  }
  const admitted = s.gate[t] === 1;
  const caption = `t = ${t} ms · ${admitted ? "admitted" : "skipped"}` + (s.signal[t] ? " · signal" : "");
  const opacity = admitted ? 1.0 : 0.18;
  const data = [
    { x: on.x, y: on.y, "marker.opacity": opacity },
    { x: off.x, y: off.y, "marker.opacity": opacity },
    { x: [(s.W - 1) / 2], y: [-1.6], text: [caption], "textfont.color": admitted ? spec.colors.open : spec.colors.closed },
    ...c.ranges.map((r) => ({ x: [t, t], y: r })),
  ];
  return { data, traces: [c.on, c.off, c.caption, ...c.lines] };
}

function controls(root) {
  const bar = document.createElement("div");
  bar.className = "skipsnn-player";
  bar.innerHTML = `
    <button type="button" data-act="back" title="One step back (←)" aria-label="one step back">◀ 1 ms</button>
    ${SPEEDS.map((v) => `<button type="button" data-act="play" data-speed="${v}" title="Play at ${v} ms of sensor time per second" aria-label="play at ${v} ms of sensor time per second">▶ ${v} ms/s</button>`).join("")}
    <button type="button" data-act="pause" title="Pause (space)" aria-label="pause">❚❚ Pause</button>
    <button type="button" data-act="fwd" title="One step forward (→)" aria-label="one step forward">1 ms ▶</button>
    <button type="button" data-act="select" title="Drag across the gate to select steps (click a step to pick one)" aria-pressed="false">⬚ Select steps</button>
    <label class="skipsnn-cursor">cursor <input type="range" min="0" max="299" value="0" step="1" aria-label="cursor time step"> <output>t = 0 ms</output></label>`;
  root.appendChild(bar);
  return bar;
}

// Draw (or redraw in place) the payload in component.parentElement; returns the cleanup.
export function draw(component) {
  const started = performance.now();
  const { data, parentElement, setStateValue } = component;
  const el = parentElement;
  // The same figure again (e.g. the forced-open evidence after a threshold change, which a forced-open gate does not
  // see): nothing to parse or redraw.
  if (el.__still && el.__stillSpec === data.spec) { el.__stillNext = undefined; return undefined; } // and a pending other one is moot
  if (el.__still) return drawWhenIdle(el, data); // a figure with no cursor, drawn before: updated once the browser is idle
  const spec = JSON.parse(data.spec); // {figure, steps, cursor, colors}: skipsnn_core.figures.explorer_payload
  if (!spec.steps) return still(el, spec, data); // a figure with no cursor: drawn and updated in place, nothing more
  for (const k of ["offsets", "channels", "gate", "signal"]) spec.steps[k] = typed(spec.steps[k]);
  let st = el.__skipsnn;
  if (!st) {
    st = el.__skipsnn = { t: data.cursor || 0, playing: false, speed: 16, busy: false, spec: null };
    st.bar = controls(el);
    st.gd = document.createElement("div");
    st.gd.className = "skipsnn-chart";
    el.appendChild(st.gd);
    const slider = st.bar.querySelector("input");
    const tell = () => setStateValue("cursor", st.t); // the cursor goes to Python (and the link) when it rests
    st.bar.addEventListener("click", (e) => {
      const b = e.target.closest("button");
      if (!b) return;
      const act = b.dataset.act;
      if (act === "select") {
        const on = b.getAttribute("aria-pressed") !== "true";
        b.setAttribute("aria-pressed", String(on));
        st.selecting = on;
        if (!st.drawn) return;
        // the gate's markers (hidden otherwise: a box drag selects markers only) come and go with the mode
        const steps = st.gd.data.findIndex((d) => d.name === GATE_STEPS);
        const shown = steps < 0 ? Promise.resolve() : window.Plotly.restyle(st.gd, { visible: on }, [steps]);
        // With the dragmode alone, a freshly drawn chart kept its zoom drag handlers and a box drag selected nothing
        // until an axis was redrawn (a zoom and reset): re-setting the time axis' own range redraws them now.
        shown.then(() => window.Plotly.relayout(st.gd, { dragmode: on ? "select" : "zoom", "xaxis2.range": st.gd._fullLayout.xaxis2.range.slice() }));
        return;
      }
      if (act === "play") { st.speed = Number(b.dataset.speed); play(st); }
      else { pause(st); if (act === "back") seek(st, st.t - 1); if (act === "fwd") seek(st, st.t + 1); tell(); }
    });
    slider.addEventListener("input", () => { pause(st); seek(st, Number(slider.value)); });
    slider.addEventListener("change", tell);
    // Keyboard, wherever the focus is in the chart (its box, a button, the cursor slider): ← → step (the slider's
    // own arrow step is replaced by this one), space plays and pauses, except on a button, which space presses.
    el.addEventListener("keydown", (e) => {
      if (!(e.altKey || e.ctrlKey || e.metaKey)) playerKey(st, e, !e.target.closest("button"));
    });
    el.tabIndex = 0;
    el.classList.add("skipsnn-live");
    el.setAttribute("role", "group");
    el.setAttribute("aria-label", "Explorer chart: space plays or pauses, the left and right arrows step the cursor");
    watchTheme(st);
  }
  st.spec = spec;
  st.setStateValue = setStateValue;
  st.setTriggerValue = component.setTriggerValue;
  st.bar.querySelector("input").max = String(spec.steps.T - 1);
  const received = performance.now();
  st.gd.dataset.parseMs = (received - started).toFixed(1); // JSON.parse of the payload
  st.fit = !!data.fit;
  if (st.fit && !st.resizing) { // presentation mode: the figure fills the screen below it, whatever the screen
    st.resizing = true;
    const refit = () => { // the height, and the type that scales with the page's (a resize changes both)
      if (!st.fit || !st.drawn) return;
      const h = fitHeight(st), { font, annotations } = scaled(st.spec.figure.layout);
      if (Math.abs(h - st.gd._fullLayout.height) > 1 || font.size !== st.gd._fullLayout.font.size) {
        window.Plotly.relayout(st.gd, { height: h, font, annotations });
      }
    };
    window.addEventListener("resize", refit);
    // On a projector nobody clicks the chart first (a click on the gate would edit it): space and the arrows work
    // wherever the focus is, except in a control that uses them itself.
    window.addEventListener("keydown", (e) => {
      if (!st.fit || e.defaultPrevented || el.contains(e.target) || e.target.closest("input, textarea, select, button, [role=slider], [role=switch]")) return;
      playerKey(st, e);
    });
    // What sits above the chart can settle after it was drawn (cards, fonts): its top moves, so fit again. The
    // chart's own height does not move its top, so this cannot loop.
    const page = el.closest('[data-testid="stMainBlockContainer"]');
    if (page && window.ResizeObserver) new ResizeObserver(refit).observe(page);
  }
  const layout = st.fit ? scaled({ ...spec.figure.layout, height: fitHeight(st) }) : spec.figure.layout;
  const t = place(st, st.t); // the cursor stays where it rests: drawn by the same Plotly.react as the new payload
  loadPlotly(data.plotly)
    .then((Plotly) => Plotly.react(st.gd, selectable(withCursor(spec, t), st.selecting), layout, PLOTLY_CONFIG))
    .then(() => {
      st.gd.dataset.reactMs = (performance.now() - received).toFixed(1); // Plotly.react (plus plotly.js's first load)
      st.gd.dataset.payloadBytes = String(data.spec.length);
      st.drawn = true;
      listen(st);
      if (st.t !== t) seek(st, st.t); // it moved while the payload was drawn
      if (st.playing) play(st);
    })
    .catch((err) => { st.gd.textContent = "The chart could not be drawn: " + err.message; });
  return () => pause(el.__skipsnn);
}

// Move the cursor of the chart drawn in el to step t, as a host asks (e.g. a notebook setting `.cursor`).
export function moveCursor(el, t) {
  const st = el.__skipsnn;
  if (!st || st.t === t) return;
  pause(st);
  seek(st, t);
}

// A theme switch (the settings menu, or the system's scheme) repaints the page but reruns nothing, so the chart
// would keep the old theme's colours: when the page's ground turns from light to dark or back, ask for a rerun (its
// payload is built for the theme the page then reports, ui/theme.py).
function themeOf() {
  const app = document.querySelector('[data-testid="stApp"]') || document.body;
  const rgb = (getComputedStyle(app).backgroundColor.match(/[\d.]+/g) || [255, 255, 255]).map(Number);
  return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] < 128 ? "dark" : "light";
}

function watchTheme(st) {
  st.theme = themeOf();
  setInterval(() => {
    const now = themeOf();
    if (now !== st.theme) { st.theme = now; if (st.setTriggerValue) st.setTriggerValue("theme", now); }
  }, 700);
}

// Presentation mode scales the page's type with the screen (ui/presentation.py): the chart's type follows it.
function scaled(layout) {
  const k = parseFloat(getComputedStyle(document.documentElement).fontSize) / 16;
  const size = (font, base) => ({ ...(font || {}), size: Math.round(((font && font.size) || base) * k) });
  return { ...layout, font: size(layout.font, 12),
           annotations: (layout.annotations || []).map((a) => ({ ...a, font: size(a.font, 12) })) };
}

function fitHeight(st) {
  const top = st.gd.getBoundingClientRect().top + window.scrollY;
  return Math.max(240, Math.floor(window.innerHeight - top - 12));
}

// A figure without a cursor (e.g. the forced-open evidence beside the Explorer): one div, Plotly.react on new data.
function still(el, spec, data) {
  if (!el.__still) {
    el.__still = document.createElement("div");
    el.__still.className = "skipsnn-still";
    el.appendChild(el.__still);
  }
  loadPlotly(data.plotly).then((Plotly) => Plotly.react(el.__still, spec.figure.data, spec.figure.layout, PLOTLY_CONFIG))
    .then(() => { el.__stillSpec = data.spec; el.__still.dataset.draws = String(Number(el.__still.dataset.draws || 0) + 1); });
}

// A new figure for a still chart already on the page, drawn once the browser is idle: a rerun that changes both
// (a new noise level) paints the live chart first, not after this one's Plotly.react and the frames it holds up.
// Only the newest figure is drawn. (Safari has no requestIdleCallback: a short timeout there.)
const whenIdle = window.requestIdleCallback ? (f) => window.requestIdleCallback(f, { timeout: 300 }) : (f) => setTimeout(f, 50);
function drawWhenIdle(el, data) {
  el.__stillNext = data;
  whenIdle(() => {
    if (el.__stillNext !== data) return; // a newer one came meanwhile
    el.__stillNext = undefined;
    still(el, JSON.parse(data.spec), data);
  });
}

// Clicks and box selections on the gate panel go to Python as an "edit" (steps t0..t1), which forces them.
function listen(st) {
  if (st.listening) return;
  st.listening = true;
  const gateSteps = (points) => (points || []).filter((p) => p.data.name === "gate" || p.data.name === GATE_STEPS).map((p) => p.x);
  const send = (xs) => { if (xs.length) st.setTriggerValue("edit", { t0: Math.min(...xs), t1: Math.max(...xs) }); };
  st.gd.on("plotly_click", (ev) => {
    send(gateSteps(ev && ev.points));
    const row = ((ev && ev.points) || []).find((p) => p.data.type === "heatmap" && p.customdata !== undefined); // a hidden raster row
    if (row) st.setTriggerValue("neuron", Number(row.customdata)); // the row's neuron id
  });
  st.gd.on("plotly_selected", (ev) => {
    send(gateSteps(ev && ev.points));
    // Plotly keeps the box with resize handles; the next drag would resize it instead of picking new steps.
    if (ev && ev.selections && ev.selections.length) window.Plotly.relayout(st.gd, { selections: [] });
  });
}

// ← → step the cursor (and tell the host where it rests), space plays and pauses; true when the key was one of them.
function playerKey(st, e, space = true) {
  if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
    pause(st);
    seek(st, st.t + (e.key === "ArrowLeft" ? -1 : 1));
    st.setStateValue("cursor", st.t);
  } else if (e.key === " " && space) {
    if (st.playing) { pause(st); st.setStateValue("cursor", st.t); } else play(st);
  } else return false;
  e.preventDefault();
  return true;
}

// The cursor's traces at step t written into a copy of the figure's data (cursorFrame's attribute paths, such as
// "marker.opacity"), so that one Plotly.react draws a new payload with the cursor in place, not a react and then
// an animation.
function withCursor(spec, t) {
  const frame = cursorFrame(spec, t), data = spec.figure.data.slice();
  frame.traces.forEach((i, k) => {
    const trace = (data[i] = { ...data[i] });
    for (const [path, value] of Object.entries(frame.data[k])) {
      const keys = path.split(".");
      let at = trace;
      for (const key of keys.slice(0, -1)) at = at[key] = { ...(at[key] || {}) };
      at[keys[keys.length - 1]] = value;
    }
  });
  return data;
}

// The figure's data with the gate's markers shown while "Select steps" is on (a new payload keeps the mode).
function selectable(data, on) {
  if (!on) return data;
  return data.map((d) => (d.name === GATE_STEPS ? { ...d, visible: true } : d));
}

// The cursor at step t (within the run) in the player's slider, its label and the chart's data-cursor; returns t.
function place(st, t) {
  st.t = Math.max(0, Math.min(st.spec.steps.T - 1, Math.round(t)));
  st.bar.querySelector("input").value = String(st.t);
  st.bar.querySelector("output").textContent = `t = ${st.t} ms`;
  st.gd.dataset.cursor = String(st.t);
  return st.t;
}

function seek(st, t) {
  place(st, t);
  if (!st.drawn || st.busy) return;
  st.busy = true;
  const frame = cursorFrame(st.spec, st.t);
  window.Plotly.animate(st.gd, frame, { frame: { duration: 0, redraw: false }, transition: { duration: 0 }, mode: "immediate" })
    .catch(() => {}) // superseded by the next step: nothing to report
    .finally(() => { st.busy = false; if (st.pending !== undefined) { const p = st.pending; st.pending = undefined; seek(st, p); } });
}

function play(st) {
  if (st.raf) cancelAnimationFrame(st.raf);
  st.playing = true;
  st.el0 = performance.now();
  st.t0 = st.t >= st.spec.steps.T - 1 ? 0 : st.t;
  st.bar.dataset.playing = "1";
  const tick = (now) => {
    if (!st.playing) return;
    const t = Math.floor(st.t0 + ((now - st.el0) / 1000) * st.speed) % st.spec.steps.T;
    if (t !== st.t) { if (st.busy) st.pending = t; else seek(st, t); }
    st.raf = requestAnimationFrame(tick);
  };
  st.raf = requestAnimationFrame(tick);
}

function pause(st) {
  if (!st) return;
  st.playing = false;
  st.pending = undefined; // a step the play loop queued is dropped: paused means the cursor stays
  if (st.bar) st.bar.dataset.playing = "0";
  if (st.raf) cancelAnimationFrame(st.raf);
  st.raf = null;
}
