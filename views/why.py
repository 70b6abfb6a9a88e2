"""Why did the gate open? The controller's input split by source, the neurons that pushed it, and any neuron up close."""

import numpy as np
import streamlit as st

from skipsnn_core.explain import step_to_explain
from skipsnn_core.figures.why import neurons_figure, why_figure
from ui import controls, links, theme
from ui.sidebar import selected_or_stop
from ui.state import SHOWN_ERRORS, attribution_for, sample_for, trace_for

st.title("Why did the gate open?")
st.caption(
    "At every step the controller adds up the weights of the hidden neurons that spiked, the synchronisation pulses "
    "and its bias; when its membrane crosses θc it spikes, and that spike admits the **next** frame. Pick a step "
    "(click the chart, or use the buttons) to see which push made it cross and which neurons gave it."
)

selection, model, data = selected_or_stop("Choose a SkipSNN checkpoint in the sidebar to see why its gate opens.")
controls.seed(model, selection, len(data.y), data.x.shape[1])
links.seed_from_url("why", [links.IntParam("step", -1, -1, controls.T - 1, state="why_step"),
                            links.IntParam("neuron", -1, -1, model.config.n_hidden - 1, state="why_neuron")])


def settings_label() -> str:
    """The settings' expander names what it holds, so the page reads without opening it."""
    s = st.session_state
    return (f"Sample {s.get('sample', 0)} · noise level {s.get('noise', 1)} · signal at {s.get('start', 120)} · "
            f"θc {float(s.get('theta', model.config.controller_theta)):.2f} · {s.get('mode', model.config.gate_mode)}"
            " (change)")


@st.fragment
def why() -> None:
    with st.expander(settings_label(), icon=":material/tune:"):
        settings = controls.controls(model, selection, data.y, data.x.shape[1])
    try:
        sample = sample_for(selection, settings.spec)
        trace = trace_for(selection, settings.spec, settings.view, sample)
        att = attribution_for(selection, settings.spec, settings.view, sample, trace)
    except SHOWN_ERRORS as e:
        st.error(f"**Inference failed.** {e}")
        return
    T = trace.gate.shape[1]
    theta_c = float(trace.controller_theta)
    spikes = np.flatnonzero(trace.controller_spikes[0].numpy())
    run = (selection.checkpoint, settings.spec, settings.view)
    if st.session_state["why_step"] < 0 or st.session_state.get("why_run", run) != run:
        # first visit, or another run: the first crossing inside the signal that the hidden neurons drove
        st.session_state["why_step"] = step_to_explain(att, trace, sample.signal.numpy())
    st.session_state["why_run"] = run
    step = int(st.session_state["why_step"])
    ids, pushes = att.top_hidden(step, k=10)
    state = st.session_state
    if state["why_neuron"] >= 0 and state["why_neuron"] != state.get("why_auto", state["why_neuron"]):
        state["why_seen_step"] = step  # picked since the last run (a click, the number box, Explore's raster): it holds
    if state["why_neuron"] < 0 or state.get("why_seen_step", step) != step:
        state["why_neuron"] = int(ids[0]) if len(ids) else 0  # a new step: inspect the neuron that pushed most
    state["why_seen_step"], state["why_auto"] = step, state["why_neuron"]

    def go(direction: int) -> None:
        now = st.session_state["why_step"]
        later = spikes[spikes > now] if direction > 0 else spikes[spikes < now][::-1]
        if len(later):
            st.session_state["why_step"] = int(later[0])

    def clicked() -> None:
        points = st.session_state["why_chart"].selection.points
        if points:
            st.session_state["why_step"] = int(round(points[0]["x"]))

    def picked() -> None:
        points = st.session_state["why_top"].selection.points
        who = [p.get("customdata") for p in points if p.get("customdata") is not None]
        if who:
            h = who[0][0] if isinstance(who[0], list) else who[0]
            st.session_state["why_neuron"] = int(h)  # it holds until the step changes

    c1, c2, c3, c4 = st.columns([1.3, 1, 1, 1.2])
    c1.number_input("Step", 0, T - 1, key="why_step", help="The step whose controller input is split below")
    c2.button("◀ previous spike", key="why_prev", on_click=go, args=(-1,), width="stretch",
              help="The controller's previous spike (it admitted the frame after it)")
    c3.button("next spike ▶", key="why_next", on_click=go, args=(1,), width="stretch")
    full = c4.toggle("Full membrane range", key="why_full", help="Off: the axis is clipped around θc, so crossings show")

    st.plotly_chart(theme.figure(why_figure(sample, trace, att, step, full_range=full)), key="why_chart", width="stretch",
                    on_select=clicked, selection_mode="points", config={"displaylogo": False})

    def of_theta(value: float) -> str:
        return f"{value / theta_c:+.2f} of θc = {theta_c:g}"

    total = float(att.total[0, step])
    hidden = float(att.hidden[0, step].sum())
    pulses = float(att.pulses[0, step].sum())
    bias = float(att.bias[0, step])
    u = float(trace.controller_u[0, step])
    fired = bool(trace.controller_spikes[0, step])
    active = " ".join(f"P{k}" for k, on in zip(att.periods, trace.pulses[step].tolist()) if on) or "none"
    spiked = int(trace.hidden_spikes[0, step].sum())
    m = st.columns(5)
    m[0].metric(f"Controller input at step {step}", f"{total:+.3f}", of_theta(total), delta_color="off", delta_arrow="off",
                help="Everything the controller integrated at this step. Its scale: the threshold θc it must cross.")
    m[1].metric(f"from hidden spikes ({spiked} neuron{'s' if spiked != 1 else ''})", f"{hidden:+.3f}", of_theta(hidden),
                delta_color="off", delta_arrow="off")
    m[2].metric(f"from pulses ({active})", f"{pulses:+.3f}", of_theta(pulses), delta_color="off", delta_arrow="off")
    m[3].metric("from bias", f"{bias:+.3f}", of_theta(bias), delta_color="off", delta_arrow="off")
    verdict = ("last step" if step + 1 >= T else f"admits frame {step + 1}" if fired else f"skips frame {step + 1}")
    m[4].metric(f"Membrane u vs θc = {theta_c:g}", f"{u:.3f}", f"{u / theta_c:.2f} of θc: {verdict}",
                delta_color="normal" if fired else "off", delta_arrow="off",
                help="u carries the input of earlier steps too: β · u[t−1] plus this step's input. At or above θc the "
                "controller spikes and the next frame is admitted.")

    left, right = st.columns([3, 2])
    with left:
        if len(ids):
            st.plotly_chart(theme.figure(neurons_figure(model, sample, trace, ids, step, pushes, clickable=True,
                                           title=(f"The {len(ids)} hidden neurons that pushed the controller most at step {step}" if len(ids) > 1
                                                  else f"The one hidden neuron that pushed the controller at step {step}"))),
                            key="why_top", width="stretch", on_select=picked, selection_mode="points",
                            config={"displaylogo": False})
            st.caption("Click a neuron's membrane to inspect it on the right. Each row: its receptive field with this "
                       "step's events on it, then its membrane u (θ dashed) and its spikes ●.")
        else:
            st.info(f"No hidden neuron spiked at step {step}: only the pulses and the bias drove the controller.")
    with right:
        neuron = st.number_input("Inspect hidden neuron", 0, model.config.n_hidden - 1, key="why_neuron",
                                 help="Any of the hidden layer's neurons (it starts on the one that pushed most at this "
                                 "step): its receptive field, the events of this step on it, its membrane and spikes")
        push = att.hidden[0, step, neuron:neuron + 1].numpy()
        st.plotly_chart(theme.figure(neurons_figure(model, sample, trace, [neuron], step, push, title=f"Neuron {neuron} up close",
                                                    row_px=200)),
                        key="why_neuron_chart", width="stretch", config={"displaylogo": False})
        st.caption("Receptive field: excitatory input weights, ON red and OFF blue; ✚ ON and ✕ OFF mark this step's "
                   "events that landed on it.")
    links.publish({**settings.link, "step": int(step), "neuron": int(neuron)})


why()
