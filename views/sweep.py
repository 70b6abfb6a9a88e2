"""Sweeps: what the gate buys as noise rises, and what the gate threshold trades, on many held-out samples."""

from dataclasses import replace

import streamlit as st

from skipsnn_core.figures.sweep import sweep_page_figure
from skipsnn_core.sweep import LEVELS, THETAS
from ui import links, theme
from ui.sidebar import selected_or_stop
from ui.state import SHOWN_ERRORS, offered_models, sweep_for

st.title("Sweeps: accuracy and work against noise and threshold")
st.caption(
    "Every point is the evaluate CLI's figure for that setting on the held-out split (fixed noise), for the SkipSNN "
    "gated, the same weights with the gate forced open, the oracle gate (open exactly on the signal) and a plain SNN "
    "trained with the same budget. The dotted line marks the Explore view's setting."
)
selection, model, data = selected_or_stop("Choose a SkipSNN checkpoint to sweep; plain SNNs appear as the comparison line.")
models = offered_models()
plains = [m for m, (_, meta) in models.items() if meta.get("dataset") == selection.dataset and meta.get("kind") == "snn"]
n = len(data.y)
sizes = sorted({min(60, n), min(120, n), n})
links.seed_from_url("sweep", [links.ChoiceParam("axis", "noise", ("noise", "theta"), state="sweep_axis"),
                              links.ChoiceParam("n", str(sizes[-1]), tuple(map(str, sizes)), state="sweep_n"),
                              links.ChoiceParam("plain", plains[0] if plains else "none", (*plains, "none"), state="sweep_plain")])
links.show_notices()

c1, c2, c3 = st.columns(3)
axis = c1.radio("Sweep", ["noise", "theta"], key="sweep_axis", horizontal=True,
                format_func={"noise": "noise level 0–8", "theta": "gate threshold"}.get)
size = c2.selectbox("Held-out samples", list(map(str, sizes)), key="sweep_n", help="The first N samples of the test split")
plain = c3.selectbox("Plain SNN to compare", [*plains, "none"], key="sweep_plain", disabled=axis == "theta",
                     help="A plain SNN has no threshold: it appears on the noise sweep only")
theta = float(st.session_state.get("theta", model.config.controller_theta))
level = int(st.session_state.get("noise", 1))
limit = None if int(size) == n else int(size)
plain_sel = replace(selection, checkpoint=str(models[plain][0]), model_id=plain) if plain != "none" and axis == "noise" else None
bar = st.progress(0.0, text="Sweeping…")
try:
    if axis == "noise":
        rows = sweep_for(selection, "noise", LEVELS, limit, theta, plain_sel,
                         lambda done, total: bar.progress(done / total, text=f"Noise level {done}/{total}"))
        fig = sweep_page_figure(rows, "noise_level", "noise level (event pairs per noise frame)", marker=level)
        st.caption(f"Gate threshold {theta:g} (the Explore view's).")
    else:
        rows = sweep_for(selection, "theta", THETAS, limit, level, None,
                         lambda done, total: bar.progress(done / total, text=f"{len(THETAS)} thresholds: batch {done} of {total}"))
        fig = sweep_page_figure(rows, "theta", "gate threshold θc", marker=theta)
        st.caption(f"Noise level {level} (the Explore view's).")
except SHOWN_ERRORS as e:
    st.error(f"**The sweep failed.** {e}")
    st.stop()
bar.empty()
st.plotly_chart(theme.figure(fig), key="sweep_chart", width="stretch", config={"displaylogo": False})
with st.expander("The numbers"):
    st.dataframe([{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows], hide_index=True)
links.publish({"dataset": selection.dataset, "model": selection.model_id, "axis": axis, "n": size,
               **({"plain": plain} if axis == "noise" else {})})
