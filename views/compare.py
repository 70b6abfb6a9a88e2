"""Compare: the same sample through two runs that differ in checkpoint, gate mode, threshold, noise or gate edits."""

from dataclasses import replace

import streamlit as st

from skipsnn_core.explore import (RunSetting, SampleSpec, ViewOptions, gate_differences, label_text, parse_edits, percent,
                                  run_labels, summarize, verdict)
from skipsnn_core.figures.compare import compare_figure
from ui import controls, links, theme
from ui.sidebar import selected_or_stop
from ui.state import SHOWN_ERRORS, check_selection, offered_models, sample_for, trace_for

st.title("Compare two runs of one sample")
st.caption(
    "Run **A** is the sample as set on Explore; run **B** is the same sample with the differences you choose: another "
    "checkpoint, gate mode, threshold, noise or gate edits. Each run is named by the settings in which it differs."
)

selection, model, data = selected_or_stop()
controls.seed(model, selection, len(data.y), data.x.shape[1])
models = offered_models()
fitting = [m for m, (_, meta) in models.items() if meta.get("dataset") == selection.dataset] or list(models)
other_mode = "freeze" if model.config.gate_mode == "mask" else "mask"
B_PARAMS = [
    links.ChoiceParam("b_model", selection.model_id if selection.model_id in fitting else fitting[0], tuple(fitting)),
    links.ChoiceParam("b_mode", other_mode, tuple(controls.MODES)),
    links.FloatParam("b_theta", round(float(model.config.controller_theta), 2), -0.5, 2.0, 0.05),
    links.IntParam("b_noise", 1, 0, 8),
    links.IntParam("b_seed", 0, 0, 2**31 - 1),
    links.TextParam("b_edits", "", lambda text: parse_edits(text, controls.T)),
]
links.seed_from_url("compare", B_PARAMS)


def change(value: float, digits: int, unit: str, lower_is_better: bool = False) -> dict:
    """A card's delta: signed, green when better; a change that rounds to zero is neutral, with no arrow."""
    if round(value, digits) == 0:
        return dict(delta=f"±0{unit}", delta_color="off", delta_arrow="off")
    return dict(delta=f"{value:+.{digits}f}{unit}", delta_color="inverse" if lower_is_better else "normal")


def summary_cards(title: str, s, gated: bool, against=None) -> None:
    """One run's cards; with ``against``, each shows its difference from that run."""
    classes = [str(c) for c in range(10)]
    st.markdown(f"**{title}**")
    m = st.columns(4)
    m[0].metric("Prediction", verdict(s.prediction, s.label, classes), label_text(s.label, classes), delta_color="off", delta_arrow="off")
    conf = "–" if s.silent else percent(s.confidence)
    compared = against is not None and not s.silent and not against.silent
    m[1].metric("Confidence", conf, **(change(100 * (s.confidence - against.confidence), 0, " points") if compared else {}))
    m[2].metric("State updates", percent(s.state_updates, 1) if gated else "100% (no gate)",
                **(change(100 * (s.state_updates - against.state_updates), 1, " points", True) if against is not None else {}))
    m[3].metric("Synaptic ops", f"{s.synops / 1e6:.2f} M",
                **(change((s.synops - against.synops) / 1e6, 2, " M", True) if against is not None else {}))


def a_label() -> str:
    s = st.session_state
    return (f"Run A: sample {s.get('sample', 0)} · noise level {s.get('noise', 1)} · signal at {s.get('start', 120)} · "
            f"θc {float(s.get('theta', model.config.controller_theta)):.2f} · {s.get('mode', model.config.gate_mode)} "
            "(the Explore settings; change)")


@st.fragment
def compare() -> None:
    with st.expander(a_label(), icon=":material/tune:"):
        a = controls.controls(model, selection, data.y, data.x.shape[1])
    st.markdown("##### Run B differs in")
    c1, c2, c3 = st.columns(3)
    b_model = c1.selectbox("Checkpoint", fitting, key="b_model", help="Another checkpoint trained on this dataset")
    b_mode = c2.radio("Gate mode", list(controls.MODES), key="b_mode", format_func=controls.MODES.get, horizontal=True)
    b_theta = c3.slider("Gate threshold", -0.5, 2.0, step=0.05, key="b_theta")
    b_noise = c1.slider("Noise level", 0, 8, key="b_noise")
    b_seed = c2.number_input("Noise seed", 0, 2**31 - 1, key="b_seed")
    b_edits = c3.text_input("Gate edits", key="b_edits", placeholder="e.g. o120-169,c200",
                            help="Steps forced open (o) or closed (c) on top of B's controller")
    try:
        parse_edits(b_edits, controls.T)
    except ValueError as e:
        st.error(f"**Run B's gate edits cannot be read.** {e}")
        return
    b_selection = replace(selection, checkpoint=str(models[b_model][0]), model_id=b_model)
    try:
        b_net, _ = check_selection(b_selection)
        b_spec = SampleSpec(index=a.spec.index, noise_level=int(b_noise), start=a.spec.start, seed=int(b_seed), T=a.spec.T)
        b_view = ViewOptions(controller_theta=float(b_theta), gate_mode=b_mode, edits=b_edits) if b_net.config.controller \
            else ViewOptions()
        sample_a = sample_for(selection, a.spec)
        trace_a = trace_for(selection, a.spec, a.view, sample_a)
        sample_b = sample_for(b_selection, b_spec)
        trace_b = trace_for(b_selection, b_spec, b_view, sample_b)
    except SHOWN_ERRORS as e:
        st.error(f"**Cannot run B.** {e}")
        return
    name_a, name_b = run_labels(RunSetting(selection.model_id, a.spec, a.view, model.config.controller),
                                RunSetting(b_model, b_spec, b_view, b_net.config.controller))
    sa, sb = summarize(sample_a, trace_a), summarize(sample_b, trace_b)
    differ = gate_differences(trace_a, trace_b)
    if (name_a, name_b) == ("A", "B"):
        st.info("Run B has the same settings as run A: change one of B's settings to compare.")
    classes = [str(c) for c in range(model.config.n_classes)]
    st.plotly_chart(theme.figure(compare_figure(sample_a, [(name_a, trace_a), (name_b, trace_b)], classes)), key="compare_chart",
                    width="stretch", config={"displaylogo": False})
    noise = " (B's noise differs from A's: the gates are compared frame by frame on different inputs)" \
        if sample_b.x.ne(sample_a.x).any() else ""
    st.markdown(f"**The gates differ on {len(differ)} of {len(trace_a.gate[0])} steps**{noise}.")
    c1, c2 = st.columns(2)
    with c1:
        summary_cards(f"A: {name_a}", sa, model.config.controller)
    with c2:
        summary_cards(f"B: {name_b} (differences from A)", sb, b_net.config.controller, against=sa)
    links.publish({**a.link, "b_model": b_model, "b_mode": b_mode, "b_theta": float(b_theta), "b_noise": int(b_noise),
                   "b_seed": int(b_seed), **({"b_edits": b_edits} if b_edits else {})})


compare()
