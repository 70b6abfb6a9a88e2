"""Model card: how the selected checkpoint was trained and what it measured on held-out data."""

from pathlib import Path

import streamlit as st

from skipsnn_core.cards import card_for, headline, neurobench_markdown, reproduce_command
from skipsnn_core.explore import percent
from skipsnn_core.figures import sweep_figure, training_curves
from ui import links, theme
from ui.sidebar import sidebar
from ui.state import SHOWN_ERRORS, model_for

st.title("Model card")
selection = sidebar()
links.show_notices()
try:
    model = model_for(selection)
except SHOWN_ERRORS as e:
    st.error(f"**Cannot read this checkpoint.** {e}")
    st.stop()
links.publish({"dataset": selection.dataset, "model": selection.model_id})

meta = model.meta
gated = model.config.controller
name = Path(selection.checkpoint).name
kind = "SkipSNN (with controller)" if gated else "Plain SNN (no controller, every frame admitted)"
st.subheader(f"{kind} · trained on {meta.get('dataset', 'unknown')}")
cfg = model.config
st.caption(
    f"{cfg.n_inputs} inputs → {cfg.n_hidden} hidden LIF → {cfg.n_classes} output LIF"
    + (f" + controller (θc = {cfg.controller_theta})" if gated else "")
    + f"; β = {cfg.beta}, θ = {cfg.theta}" + (f", gate mode {cfg.gate_mode}" if gated else "")
)

card = card_for(selection.checkpoint)
if card is not None:  # a shipped checkpoint: the evaluate CLI's figures, the same file the README is written from
    figures, sweep = headline(card), card["sweep"]
    source = (f"Held-out figures at noise level {figures['noise_level']} from `assets/model_cards.json`, measured by "
              f"`{card['evaluate_command']}` (the same numbers as README.md and MODEL_CARDS.md).")
    command = card["reproduce"]
else:  # the user's own checkpoint: what training measured on the held-out split with the same evaluate function
    figures, sweep = meta.get("figures"), None
    source = ("Held-out figures written into the checkpoint at the end of training by the same evaluation as "
              "`python3 -m skipsnn_core.evaluate` (seed 1234). Run that command with `--sweep 0,1,2,4` for a noise sweep.")
    command = reproduce_command(meta["command"], f"retrained/{name}") if meta.get("command") else None

if figures:
    silent = figures.get("silent")
    if gated:
        c = st.columns(6)
        c[0].metric("Accuracy", percent(figures["accuracy"], 1), help=f"{figures.get('n_samples', '?')} held-out samples")
        c[1].metric("Gate forced open", percent(figures["forced_open_accuracy"], 1),
                    help="accuracy of the same weights with every frame admitted")
        c[2].metric("State updates", f"{figures['state_updates']:.3f}", f"oracle {figures['oracle_state_updates']:.3f}",
                    delta_color="off", delta_arrow="off")
        c[3].metric("Gate precision", f"{figures['gate_precision']:.2f}")
        c[4].metric("Gate recall", f"{figures['gate_recall']:.2f}")
        c[5].metric("Synaptic ops saved", percent(figures["synops_saving"]))
    else:
        c = st.columns(3)
        c[0].metric("Accuracy", percent(figures["accuracy"], 1), help=f"{figures.get('n_samples', '?')} held-out samples")
    if silent is not None:
        c[1 if not gated else 0].caption(f"{silent} silent sample(s): no output spike, counted as wrong")
    st.caption(source)
else:
    st.info("This checkpoint carries no held-out figures. Measure them with `python3 -m skipsnn_core.evaluate "
            f"--checkpoint {name} --dataset {meta.get('dataset', 'digits')} --json`.")
if card is not None and card.get("neurobench"):
    st.markdown("**NeuroBench figures**, counted by the `neurobench` package's own hooks on this network (beside ours "
                "on the same samples)")
    st.markdown(neurobench_markdown(card["neurobench"]))
    st.caption(f"Measured by `{card['neurobench_command']}` (skipsnn_core/harness.py: NeuroBench's TorchModel over our "
               "time loop; the gated network and the same weights forced open).")
if sweep:
    st.plotly_chart(theme.figure(sweep_figure(sweep, gated, name)), key="sweep_chart", width="stretch", config={"displaylogo": False})
if meta.get("history"):
    history = meta["history"]
    curves = training_curves(history, max(meta.get("train_config", {}).get("epochs", 0), len(history)), gated,
                             title="Training curve: validation after each epoch (training-time, not the published figures)")
    st.plotly_chart(theme.figure(curves), key="history_chart", width="stretch", config={"displaylogo": False})
if command:
    st.markdown("**Reproduce** (from a fresh clone, in the project folder)")
    st.code(command, language=None, wrap_lines=True)  # no highlighting: its token colours were 2.6:1
with st.expander("All metadata"):
    st.json({k: v for k, v in meta.items() if k not in ("history", "figures")})
