"""Model card: how the selected checkpoint was trained and what it measured."""

import streamlit as st

from skipsnn_core.figures import training_figure
from ui.sidebar import sidebar
from ui.state import SHOWN_ERRORS, model_for

st.title("Model card")
selection = sidebar()
try:
    model = model_for(selection)
except SHOWN_ERRORS as e:
    st.error(f"**Cannot read this checkpoint.** {e}")
    st.stop()

meta = model.meta
kind = "SkipSNN (with controller)" if meta.get("kind") == "skipsnn" else "Plain SNN (no controller)"
st.subheader(f"{kind} · trained on {meta.get('dataset', 'unknown')}")
cfg = model.config
st.caption(
    f"{cfg.n_inputs} inputs → {cfg.n_hidden} hidden LIF → {cfg.n_classes} output LIF"
    + (f" + controller (θc = {cfg.controller_theta})" if cfg.controller else "")
    + f"; β = {cfg.beta}, θ = {cfg.theta}, gate mode {cfg.gate_mode}"
)
figures = meta.get("figures")
if figures:
    c = st.columns(5)
    c[0].metric("Accuracy", f"{figures['accuracy']:.1%}", help=f"{figures.get('n_samples', '?')} held-out samples")
    c[1].metric("State updates", f"{figures['state_updates']:.3f}", f"oracle {figures['oracle_state_updates']:.3f}", delta_color="off",
                delta_arrow="off")
    c[2].metric("Gate precision", f"{figures['gate_precision']:.2f}")
    c[3].metric("Gate recall", f"{figures['gate_recall']:.2f}")
    c[4].metric("Synaptic ops saved", f"{figures['synops_saving']:.0%}")
if meta.get("history"):
    st.plotly_chart(training_figure(meta["history"]), key="history_chart", width="stretch")
if meta.get("command"):
    st.markdown("**Reproduce**")
    st.code(meta["command"], language="bash", wrap_lines=True)
with st.expander("All metadata"):
    st.json({k: v for k, v in meta.items() if k != "history"})
