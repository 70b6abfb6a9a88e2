"""Why did the gate open? The controller's input split by source, the neurons that pushed it, and any neuron up close."""

import numpy as np
import streamlit as st

from skipsnn_core.figures.why import neurons_figure, why_figure
from ui import controls, links, theme
from ui.sidebar import selected_or_stop
from ui.state import SHOWN_ERRORS, attribution_for, sample_for, trace_for

st.title("Why did the gate open?")
st.caption(
    "The controller adds up, at every step, the weights of the hidden neurons that spiked, the synchronisation pulses "
    "and its bias. When its membrane crosses θc it spikes, and that spike admits the **next** frame. Pick a step "
    "(click the chart, or use the buttons) to see which push made it cross and which neurons gave it."
)

selection, model, data = selected_or_stop("Choose a SkipSNN checkpoint in the sidebar to see why its gate opens.")
controls.seed(model, selection, len(data.y), data.x.shape[1])
links.seed_from_url("why", [links.IntParam("step", -1, -1, controls.T - 1, state="why_step"),
                            links.IntParam("neuron", 0, 0, model.config.n_hidden - 1, state="why_neuron")])


@st.fragment
def why() -> None:
    settings = controls.controls(model, selection, data.y, data.x.shape[1])
    try:
        sample = sample_for(selection, settings.spec)
        trace = trace_for(selection, settings.spec, settings.view, sample)
        att = attribution_for(selection, settings.spec, settings.view, sample, trace)
    except SHOWN_ERRORS as e:
        st.error(f"**Inference failed.** {e}")
        return
    T = trace.gate.shape[1]
    spikes = np.flatnonzero(trace.controller_spikes[0].numpy())
    in_signal = spikes[sample.signal.numpy()[spikes]] if len(spikes) else spikes
    if st.session_state["why_step"] < 0:  # first visit: the first spike inside the signal, else the first spike
        st.session_state["why_step"] = int(in_signal[0] if len(in_signal) else spikes[0] if len(spikes) else 0)

    def go(direction: int) -> None:
        now = st.session_state["why_step"]
        later = spikes[spikes > now] if direction > 0 else spikes[spikes < now][::-1]
        if len(later):
            st.session_state["why_step"] = int(later[0])

    def clicked() -> None:
        points = st.session_state["why_chart"].selection.points
        if points:
            st.session_state["why_step"] = int(round(points[0]["x"]))

    c1, c2, c3, c4 = st.columns([1.3, 1, 1, 1.2])
    step = c1.number_input("Step", 0, T - 1, key="why_step", help="The step whose controller input is split below")
    c2.button("◀ previous spike", key="why_prev", on_click=go, args=(-1,), width="stretch",
              help="The controller's previous spike (it admitted the frame after it)")
    c3.button("next spike ▶", key="why_next", on_click=go, args=(1,), width="stretch")
    full = c4.toggle("Full membrane range", key="why_full", help="Off: the axis is clipped around θc, so crossings show")

    total = float(att.total[0, step])
    u = float(trace.controller_u[0, step])
    fired = bool(trace.controller_spikes[0, step])
    m = st.columns(5)
    m[0].metric("Controller input", f"{total:+.3f}", help="everything the controller integrated at this step")
    m[1].metric("from hidden spikes", f"{float(att.hidden[0, step].sum()):+.3f}",
                f"{int(trace.hidden_spikes[0, step].sum())} neurons spiked", delta_color="off", delta_arrow="off")
    m[2].metric("from pulses", f"{float(att.pulses[0, step].sum()):+.3f}",
                " ".join(f"P{k}" for k, on in zip(att.periods, trace.pulses[step].tolist()) if on) or "none active",
                delta_color="off", delta_arrow="off")
    m[3].metric("from bias", f"{float(att.bias[0, step]):+.3f}")
    m[4].metric("Membrane vs θc", f"{u:.3f}", f"{'crossed: frame ' + str(step + 1) + ' admitted' if fired else 'below θc: next frame skipped'}"
                if step + 1 < T else "last step", delta_color="normal" if fired else "off", delta_arrow="off")

    st.plotly_chart(theme.figure(why_figure(sample, trace, att, step, full_range=full)), key="why_chart", width="stretch",
                    on_select=clicked, selection_mode="points", config={"displaylogo": False})

    ids, pushes = att.top_hidden(step, k=10)
    left, right = st.columns([3, 2])
    with left:
        if len(ids):
            st.plotly_chart(theme.figure(neurons_figure(model, sample, trace, ids, step, pushes,
                                           title=f"The {len(ids)} hidden neurons that pushed the controller most at step {step}")),
                            key="why_top", width="stretch", config={"displaylogo": False})
        else:
            st.info(f"No hidden neuron spiked at step {step}: only the pulses and the bias drove the controller.")
    with right:
        neuron = st.number_input("Inspect hidden neuron", 0, model.config.n_hidden - 1, key="why_neuron",
                                 help="Any of the hidden layer's neurons: its receptive field, the events of this step on it, "
                                 "its membrane and spikes")
        push = att.hidden[0, step, neuron:neuron + 1].numpy()
        st.plotly_chart(theme.figure(neurons_figure(model, sample, trace, [neuron], step, push, title=f"Neuron {neuron} up close")),
                        key="why_neuron_chart", width="stretch", config={"displaylogo": False})
        st.caption("Receptive field: excitatory input weights, ON red and OFF blue; ✚ ON and ✕ OFF mark this step's "
                   "events that landed on it.")
    links.publish({**settings.link, "step": int(step), "neuron": int(neuron)})


why()
