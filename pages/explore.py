"""Explore: one sample through SkipSNN, with the gate, membranes and spikes on one time axis."""

import numpy as np
import streamlit as st

from skipsnn_core.explore import SampleSpec, ViewOptions, summarize
from skipsnn_core.figures import evidence_figure
from ui.sidebar import sidebar
from ui.state import SHOWN_ERRORS, check_selection, explorer_figure_for, sample_for, trace_for

T = 300

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
    st.error(f"**Cannot show this selection.** {e}")
    st.info("Pick the built-in digits or another checkpoint in the sidebar; nothing you chose was lost.")
    st.stop()

classes = [str(c) for c in range(model.config.n_classes)]
labels = data.y
L = data.x.shape[1]


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
        index = st.number_input("Sample", 0, len(labels) - 1, 0, key="sample", bind="query-params",
                                help=f"Recording in the test split (0–{len(labels) - 1})")
    with c2:
        st.selectbox("Digit", ["any", *classes], key="digit", on_change=pick_class, help="Jump to a recording of this digit")
        st.button("Random", key="random", on_click=pick_random, width="stretch")
    with c3:
        level = st.slider("Noise level", 0, 8, 1, key="noise", bind="query-params",
                          help="ON/OFF noise event pairs per noise frame (reference: 1)")
        start = st.slider("Signal start", 0, T - L, 120, key="start", bind="query-params",
                          help="First frame of the digit's events")
    with c4:
        theta = st.slider("Gate threshold", -0.5, 2.0, float(model.config.controller_theta), 0.05, key="theta",
                          bind="query-params", disabled=not model.config.controller,
                          help="The controller's firing threshold at inference: higher opens the gate less often")
    with c5:
        mode = st.radio("Gate mode", ["mask", "freeze"], key="mode", bind="query-params", horizontal=True,
                        format_func={"mask": "mask (reference)", "freeze": "freeze (paper)"}.get,
                        help="mask: a skipped frame's input synapses are silenced, membranes still decay. "
                        "freeze: hidden and output layers hold their state and emit nothing while hibernating.")
        gate_choice = st.selectbox("Gate decided by", ["controller", "oracle", "open"], key="gate", bind="query-params",
                                   format_func={"controller": "the controller", "oracle": "oracle: signal window only",
                                                "open": "nobody: always open"}.get,
                                   help="What if the gate had looked exactly at the signal, or everywhere? Same weights.")
    with c6:
        seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="seed", bind="query-params", help="Noise seed")

    spec = SampleSpec(index=int(index), noise_level=int(level), start=int(start), seed=int(seed), T=T)
    view = ViewOptions(controller_theta=float(theta) if model.config.controller else None, gate_mode=mode, gate=gate_choice)
    try:
        sample = sample_for(selection, spec)
        trace = trace_for(selection, spec, view, sample)
    except SHOWN_ERRORS as e:
        st.error(f"**Inference failed.** {e}")
        return
    s = summarize(sample, trace)

    m = st.columns(6)
    m[0].metric("Prediction", f"{classes[s.prediction]} {'✓' if s.correct else '✗'}", f"true label {classes[s.label]}",
                delta_color="off", delta_arrow="off", help="argmax of output spikes per admitted step")
    m[1].metric("Confidence", f"{s.confidence:.0%}", help="share of the predicted class in the summed output rates")
    m[2].metric("State updates", f"{s.state_updates:.1%}", f"oracle {s.oracle_state_updates:.1%}", delta_color="off", delta_arrow="off",
                help="admitted frames / all frames; the oracle opens exactly on the signal (L/T)")
    m[3].metric("Gate precision", f"{s.gate_precision:.2f}", help="admitted frames that hold signal")
    m[4].metric("Gate recall", f"{s.gate_recall:.2f}", help="signal frames that were admitted")
    m[5].metric("Synaptic ops", f"{s.synops / 1e6:.2f} M", f"{s.synops_saving:.0%} saved",
                delta_color="normal" if s.synops_saving >= 0 else "inverse", delta_arrow="off",
                help="input events × H + hidden spikes × C + controller input, summed over the sample; "
                "saved: against the same weights with the gate always open")

    main, side = st.columns([4, 1])
    with main:
        st.plotly_chart(explorer_figure_for(selection, spec, view, sample, trace), key="explorer_chart", width="stretch",
                        config={"displaylogo": False})
    with side:
        st.markdown("**Gate forced open**  \nsame weights, every frame admitted")
        st.metric("Prediction", f"{classes[s.open_prediction]} {'✓' if s.open_correct else '✗'}")
        st.metric("Confidence", f"{s.open_confidence:.0%}")
        st.metric("Synaptic ops", f"{s.synops_open / 1e6:.2f} M")
        st.plotly_chart(evidence_figure(trace.forced_open, classes, "Evidence, gate open", label=sample.label), key="open_chart",
                        width="stretch", config={"displaylogo": False})


explorer()
