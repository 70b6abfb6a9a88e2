"""Explore: one sample through SkipSNN, with the gate, membranes and spikes on one time axis."""

import numpy as np
import streamlit as st

from skipsnn_core.explore import SampleSpec, ViewOptions, percent, summarize, verdict
from skipsnn_core.figures import evidence_figure
from ui import links
from ui.sidebar import sidebar
from ui.components.explorer_chart import explorer_chart
from ui.state import SHOWN_ERRORS, check_selection, explorer_payload_for, sample_for, trace_for

T = 300
MODES = {"mask": "mask (reference)", "freeze": "freeze (paper)"}
GATES = {"controller": "the controller", "oracle": "oracle: signal window only", "open": "nobody: always open"}
NO_GATE = "This checkpoint is a plain SNN: it has no controller, so every frame is admitted and there is no gate to set."

st.title("Event attention, step by step")
st.caption(
    "A digit's events (yellow band) arrive somewhere in 300 ms of noise. The controller neuron decides at every "
    "step whether the next frame reaches the network (**admitted**) or is skipped (**hibernating**). Press ▶ to "
    "play; move a slider to re-run the network."
)

selection = sidebar()
try:
    model, data = check_selection(selection)
except SHOWN_ERRORS as e:
    links.show_notices()
    st.error(f"**Cannot show this selection.** {e}")
    st.info("Pick the built-in digits or another checkpoint in the sidebar; nothing you chose was lost.")
    st.stop()

classes = [str(c) for c in range(model.config.n_classes)]
labels = data.y
L = data.x.shape[1]
gated = model.config.controller
theta0 = round(float(model.config.controller_theta), 2)
PARAMS = [
    links.IntParam("sample", 0, 0, len(labels) - 1),
    links.IntParam("noise", 1, 0, 8),
    links.IntParam("start", 120, 0, T - L),
    links.IntParam("seed", 0, 0, 2**31 - 1),
    links.IntParam("t", 0, 0, T - 1, state="cursor_from_link"),  # the chart's cursor, placed once per session
]
GATE_PARAMS = [
    links.FloatParam("theta", theta0, -0.5, 2.0, 0.05),
    links.ChoiceParam("mode", model.config.gate_mode, tuple(MODES)),
    links.ChoiceParam("gate", "controller", tuple(GATES)),
]
if not gated and "explore" not in st.session_state.get("_links_read", set()):
    asked = [p.key for p in GATE_PARAMS if p.key in st.query_params]
    if asked:
        links.notice(f"{', '.join(f'`{k}`' for k in asked)} ignored: this checkpoint is a plain SNN and has no gate")
links.seed_from_url("explore", PARAMS + (GATE_PARAMS if gated else []))
links.show_notices()


def pick_class() -> None:
    digit = st.session_state["digit"]
    if digit != "any":
        matches = np.flatnonzero(labels == int(digit))
        if len(matches):
            st.session_state["sample"] = int(matches[0])


def pick_random() -> None:
    st.session_state["sample"] = int(np.random.default_rng().integers(len(labels)))
    st.session_state["digit"] = "any"


@st.fragment
def explorer() -> None:
    c1, c2, c3, c4, c5, c6 = st.columns([1.1, 0.9, 1.3, 1.3, 1.3, 1.1])
    with c1:
        index = st.number_input("Sample", 0, len(labels) - 1, key="sample",
                                help=f"Recording in the test split (0–{len(labels) - 1})")
    with c2:
        st.selectbox("Digit", ["any", *classes], key="digit", on_change=pick_class, help="Jump to a recording of this digit")
        st.button("Random", key="random", on_click=pick_random, width="stretch")
    with c3:
        level = st.slider("Noise level", 0, 8, key="noise", help="ON/OFF noise event pairs per noise frame (reference: 1)")
        start = st.slider("Signal start", 0, T - L, key="start", help="First frame of the digit's events")
    with c4:
        if gated:
            theta = st.slider("Gate threshold", -0.5, 2.0, step=0.05, key="theta",
                              help="The controller's firing threshold at inference: higher opens the gate less often")
        else:  # shown, disabled, with the reason: a plain SNN has no gate (other keys: nothing of a gated model's state is touched)
            st.slider("Gate threshold", -0.5, 2.0, theta0, 0.05, key="theta_off", disabled=True, help=NO_GATE)
    with c5:
        if gated:
            mode = st.radio("Gate mode", list(MODES), key="mode", horizontal=True, format_func=MODES.get,
                            help="mask: a skipped frame's input synapses are silenced, membranes still decay. "
                            "freeze: hidden and output layers hold their state and emit nothing while hibernating.")
            gate_choice = st.selectbox("Gate decided by", list(GATES), key="gate", format_func=GATES.get,
                                       help="What if the gate had looked exactly at the signal, or everywhere? Same weights.")
        else:
            st.radio("Gate mode", list(MODES), key="mode_off", horizontal=True, format_func=MODES.get, disabled=True,
                     help=NO_GATE)
            st.selectbox("Gate decided by", ["open"], key="gate_off", format_func=GATES.get, disabled=True, help=NO_GATE)
    with c6:
        seed = st.number_input("Seed", 0, 2**31 - 1, key="seed", help="Noise seed")

    spec = SampleSpec(index=int(index), noise_level=int(level), start=int(start), seed=int(seed), T=T)
    view = ViewOptions(controller_theta=float(theta), gate_mode=mode, gate=gate_choice) if gated else ViewOptions()
    link = {"dataset": selection.dataset, "model": selection.model_id, "sample": spec.index, "noise": spec.noise_level,
            "start": spec.start, "seed": spec.seed, **({"theta": float(theta), "mode": mode, "gate": gate_choice} if gated else {})}
    try:
        sample = sample_for(selection, spec)
        trace = trace_for(selection, spec, view, sample)
    except SHOWN_ERRORS as e:
        st.error(f"**Inference failed.** {e}")
        return
    s = summarize(sample, trace)

    m = st.columns(6 if gated else 3)
    m[0].metric("Prediction", verdict(s.prediction, s.label, classes), f"true label {classes[s.label]}",
                delta_color="off", delta_arrow="off",
                help="argmax of output spikes per admitted step; a network that emitted no output spike has no prediction")
    m[1].metric("Confidence", "–" if s.silent else percent(s.confidence),
                help="share of the predicted class in the summed output rates")
    if gated:
        m[2].metric("State updates", percent(s.state_updates, 1), f"oracle {percent(s.oracle_state_updates, 1)}",
                    delta_color="off", delta_arrow="off",
                    help="admitted frames / all frames; the oracle opens exactly on the signal (L/T)")
        m[3].metric("Gate precision", f"{s.gate_precision:.2f}", help="admitted frames that hold signal")
        m[4].metric("Gate recall", f"{s.gate_recall:.2f}", help="signal frames that were admitted")
        saved = percent(s.synops_saving)
        m[5].metric("Synaptic ops", f"{s.synops / 1e6:.2f} M", f"{saved} saved",
                    delta_color="off" if saved == "0%" else "normal",  # a negative saving (extra work) shows red
                    delta_arrow="off",
                    help="input events × H + hidden spikes × C + controller input, summed over the sample; "
                    "saved: against the same weights with the gate always open")
    else:
        m[2].metric("Synaptic ops", f"{s.synops / 1e6:.2f} M",
                    help="input events × H + hidden spikes × C, summed over the sample; a plain SNN admits every frame")

    chart = st.container() if not gated else None
    if gated:
        chart, side = st.columns([4, 1])
    with chart:
        cursor = explorer_chart(explorer_payload_for(selection, spec, view, sample, trace), key="explorer_chart",
                                cursor=st.session_state["cursor_from_link"])
    links.publish({**link, "t": cursor})
    if not gated:
        return
    with side:
        st.markdown("**Gate forced open**  \nsame weights, every frame admitted")
        st.metric("Prediction", verdict(s.open_prediction, s.label, classes))
        st.metric("Confidence", "–" if s.open_silent else percent(s.open_confidence))
        st.metric("Synaptic ops", f"{s.synops_open / 1e6:.2f} M")
        st.plotly_chart(evidence_figure(trace.forced_open, classes, "Evidence, gate open", label=sample.label), key="open_chart",
                        width="stretch", config={"displaylogo": False})


explorer()
