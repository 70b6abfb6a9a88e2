"""A guided tour: event attention in eight steps, each a short text beside one live figure run by the real model."""

from dataclasses import replace

import streamlit as st

from skipsnn_core.cards import card_for
from skipsnn_core.explore import SampleSpec, ViewOptions, gate_differences, percent, summarize
from skipsnn_core.figures.compare import compare_figure
from skipsnn_core.figures.sweep import sweep_page_figure
from skipsnn_core.figures.tour import architecture_figure, savings_figure, task_figure
from skipsnn_core.sweep import THETAS, steepest_drop
from ui import links, theme
from ui.glossary import glossary
from ui.components.explorer_chart import explorer_chart
from ui.state import ASSETS, SHOWN_ERRORS, Selection, check_selection, explorer_payload_for, sample_for, sweep_for, trace_for

SELECTION = Selection("digits", None, str(ASSETS / "digits_skipsnn.pt"), "digits_skipsnn")
PLAIN = Selection("digits", None, str(ASSETS / "digits_snn.pt"), "digits_snn")
SPEC = SampleSpec(index=3, noise_level=1, start=120, seed=0, T=300)
STEPS = [
    ("A digit hidden in noise",
     "An event camera reports changes, not images. Here a handwritten digit is seen for 50 ms somewhere inside 300 ms; "
     "every other millisecond holds noise: one ON and one OFF event at random pixels. The network sees one frame per "
     "millisecond and must say which digit it was."),
    ("A plain SNN drowns as noise rises",
     "A plain spiking network takes in every frame, noise included. On the built-in digits it falls from {plain0} with no "
     "noise to {plain4} at four noise pairs per frame, while SkipSNN, same size, same training budget, keeps {skip4}. "
     "Force SkipSNN's gate open and the same weights drown too ({open4}, dashed): it is the gate that keeps them "
     "afloat. It learns to stop listening."),
    ("The controller neuron",
     "SkipSNN adds one LIF neuron, the controller. Its inputs are the hidden layer's spikes and four synchronisation "
     "pulses: P1 every step, P2 every other, P10 every tenth, P100 every hundredth. Its membrane u adds them up; when u "
     "crosses its threshold θc it spikes, and that spike lets the next frame in."),
    ("The gate opens when the digit arrives",
     "Press ▶. Outside the digit the gate is mostly closed: frames are skipped (hibernating), except when a P10 pulse "
     "wakes the controller to take a look. When a look finds the digit, hidden spikes keep the controller firing and "
     "the gate stays open until the digit is gone."),
    ("The threshold: a free saving, then a cliff",
     "Raise θc and the controller fires less. Up to θc {lo}, fewer frames are admitted (state updates fall from {su0} to "
     "{su_lo}) at almost no cost: accuracy stays near {acc_lo}. One step further, at θc {hi}, the pulses no longer wake "
     "the controller: state updates drop to {su_hi} and accuracy to {acc_hi}. It is a cliff, not a slope. The curves "
     "are measured on 60 held-out digits; the dotted line is the trained θc."),
    ("Mask or freeze?",
     "The reference code only silences a skipped frame's input synapses (mask): membranes still decay. The paper "
     "describes freezing the hidden and output layers instead (freeze). Same weights, same sample: the two gates "
     "differ on {differ} of 300 steps (◆), and the evidence curves part: mask predicts {pred_mask}, freeze "
     "{pred_freeze}."),
    ("What the gate saves",
     "A skipped frame costs no synaptic work: no input events to spread over 800 hidden neurons. Summed over the "
     "sample, the gated network does {share} of the work of the same weights with the gate forced open."),
    ("Try it yourself",
     "Open the Explorer with this sample: move the noise level and the gate threshold, edit the gate by clicking it, "
     "and ask the Why page which hidden neurons made the controller fire."),
]

st.title("Event attention in eight steps")
links.seed_from_url("tour", [links.IntParam("tour", 1, 1, len(STEPS), state="tour_step")])
links.show_notices()
step = int(st.session_state["tour_step"])
title, text = STEPS[step - 1]
WIDE = {4}  # steps whose figure needs the page's whole width (the Explorer's panel titles): the text goes above it


def move(by: int) -> None:
    st.session_state["tour_step"] = min(max(st.session_state["tour_step"] + by, 1), len(STEPS))


nav = st.columns([1, 1, 6])
nav[0].button("◀ Back", key="tour_back", on_click=move, args=(-1,), disabled=step == 1, width="stretch")
nav[1].button("Next ▶", key="tour_next", on_click=move, args=(1,), disabled=step == len(STEPS), width="stretch")
nav[2].progress(step / len(STEPS), text=f"Step {step} of {len(STEPS)}: {title}")

try:
    model, data = check_selection(SELECTION)
    sample = sample_for(SELECTION, SPEC)
    view = ViewOptions(controller_theta=0.5, gate_mode="mask")
    trace = trace_for(SELECTION, SPEC, view, sample)
except SHOWN_ERRORS as e:
    st.error(f"**The tour's model could not be loaded.** {e}")
    st.stop()

# Every number a step's text states is read from what its figure draws, so the two cannot disagree.
figure, caption, numbers = None, None, {}
if step == 1:
    figure = task_figure(sample)
elif step == 2:  # the numbers come from the published model cards, never typed in
    cards = {name: card_for(ASSETS / name) for name in ("digits_skipsnn.pt", "digits_snn.pt")}
    if all(cards.values()):
        skip, plain = ({r["noise_level"]: r for r in cards[n]["sweep"]} for n in ("digits_skipsnn.pt", "digits_snn.pt"))
        numbers = dict(plain0=percent(plain[0]["accuracy"]), plain4=percent(plain[4]["accuracy"]),
                       skip4=percent(skip[4]["accuracy"]), open4=percent(skip[4]["forced_open_accuracy"]))
        rows = [{**a, "plain_accuracy": b["accuracy"]} for a, b in zip(cards["digits_skipsnn.pt"]["sweep"],
                                                                       cards["digits_snn.pt"]["sweep"])]
        figure = sweep_page_figure(rows, "noise_level", "noise level (event pairs per noise frame)", height=420,
                                   accuracy_only=True)
        caption = "From assets/model_cards.json: the evaluate CLI on all 360 held-out digits."
    else:
        text = "A plain spiking network takes in every frame, noise included, and drowns as noise rises. SkipSNN learns to stop listening."
elif step == 3:
    figure = architecture_figure(model.config.n_hidden)
elif step == 5:
    bar = st.progress(0.0, text="Measuring…")
    rows = sweep_for(SELECTION, "theta", THETAS, 60, 1, None,
                     lambda done, total: bar.progress(done / total, text=f"{len(THETAS)} thresholds: batch {done} of {total}"))
    bar.empty()
    figure = sweep_page_figure(rows, "theta", "gate threshold θc", marker=0.5, height=460)
    drop = steepest_drop(rows)
    if drop is not None:
        lo, hi = rows[drop[0]], rows[drop[1]]
        numbers = dict(lo=f"{lo['theta']:g}", hi=f"{hi['theta']:g}", su0=percent(rows[0]["state_updates"]),
                       su_lo=percent(lo["state_updates"]), acc_lo=percent(lo["accuracy"]),
                       su_hi=percent(hi["state_updates"]), acc_hi=percent(hi["accuracy"]))
    else:
        text = ("Raise θc and the controller fires less: fewer frames admitted, less work. Lower it and the gate never "
                "closes. The curves are measured on 60 held-out digits; the dotted line is the trained θc.")
elif step == 6:
    frozen = trace_for(SELECTION, SPEC, replace(view, gate_mode="freeze"), sample)
    figure = compare_figure(sample, [("mask", trace), ("freeze", frozen)], [str(c) for c in range(10)])
    pred = {name: summarize(sample, t).prediction for name, t in (("mask", trace), ("freeze", frozen))}
    numbers = dict(differ=len(gate_differences(trace, frozen)), pred_mask=pred["mask"] if pred["mask"] >= 0 else "nothing",
                   pred_freeze=pred["freeze"] if pred["freeze"] >= 0 else "nothing")
elif step == 7:
    figure = savings_figure(trace)
    s = summarize(sample, trace)
    numbers = dict(share=percent(1 - s.synops_saving))
    caption = f"{percent(s.synops_saving)} of the forced-open network's synaptic operations saved on this sample."
elif step == 8:
    figure = task_figure(sample, height=220)
text = text.format(**numbers) if numbers else text


def open_in_explorer() -> None:
    """The Explorer with the tour's sample, in this tab: the link's settings are read again on arrival."""
    link = {"dataset": "digits", "model": "digits_skipsnn", "sample": SPEC.index, "noise": SPEC.noise_level,
            "start": SPEC.start, "seed": SPEC.seed, "theta": 0.5, "mode": "mask", "gate": "controller"}
    links.read_again("sidebar", "model", "view")
    st.switch_page("views/explore.py", query_params=link)


def words() -> None:
    st.subheader(title)
    st.write(text)
    if step == len(STEPS) and st.button("Open this sample in the Explorer", key="tour_open", type="primary",
                                        icon=":material/insights:"):
        open_in_explorer()
    glossary()


def draw() -> None:
    if step == 4:
        explorer_chart(explorer_payload_for(SELECTION, SPEC, view, False, sample, trace), key="tour_chart", cursor=100)
        s = summarize(sample, trace)
        st.caption(f"State updates {percent(s.state_updates, 1)} (oracle {percent(s.oracle_state_updates, 1)}); "
                   f"prediction {s.prediction} for a {s.label}.")
    elif figure is not None:
        st.plotly_chart(theme.figure(figure), key="tour_fig", width="stretch", config={"displaylogo": False})
    if caption:
        st.caption(caption)


if step in WIDE:
    words()
    draw()
else:
    left, right = st.columns([1, 2.4])
    with left:
        words()
    with right:
        draw()
links.publish({"tour": step})
