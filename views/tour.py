"""A guided tour: event attention in eight steps, each a short text beside one live figure run by the real model."""

from dataclasses import replace
from urllib.parse import urlencode

import streamlit as st

from skipsnn_core.cards import card_for
from skipsnn_core.explore import SampleSpec, ViewOptions, percent, summarize
from skipsnn_core.figures.compare import compare_figure
from skipsnn_core.figures.sweep import sweep_page_figure
from skipsnn_core.figures.tour import architecture_figure, savings_figure, task_figure
from skipsnn_core.sweep import THETAS
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
     "How? It learns to stop listening."),
    ("The controller neuron",
     "SkipSNN adds one LIF neuron, the controller. Its inputs are the hidden layer's spikes and four synchronisation "
     "pulses: P1 every step, P2 every other, P10 every tenth, P100 every hundredth. Its membrane u adds them up; when u "
     "crosses its threshold θc it spikes, and that spike lets the next frame in."),
    ("The gate opens when the digit arrives",
     "Press ▶. Outside the digit the gate is mostly closed: frames are skipped (hibernating), except when a P10 pulse "
     "wakes the controller to take a look. When a look finds the digit, hidden spikes keep the controller firing and "
     "the gate stays open until the digit is gone."),
    ("The threshold is a trade",
     "Raise θc and the controller fires less: fewer frames admitted (state updates fall), less work, until it misses "
     "the digit and accuracy drops. Lower it and the gate never closes. The curves are measured on 60 held-out digits."),
    ("Mask or freeze?",
     "The reference code only silences a skipped frame's input synapses (mask): membranes still decay. The paper "
     "describes freezing the hidden and output layers instead (freeze). Same weights, same sample: the gates differ "
     "where the two diverge."),
    ("What the gate saves",
     "A skipped frame costs no synaptic work: no input events to spread over 800 hidden neurons. Summed over the "
     "sample, the gated network does a fraction of the work of the same weights with the gate forced open."),
    ("Try it yourself",
     "Open the Explorer with this sample: move the noise level and the gate threshold, edit the gate by clicking it, "
     "and ask the Why page which hidden neurons made the controller fire."),
]

st.title("Event attention in eight steps")
links.seed_from_url("tour", [links.IntParam("tour", 1, 1, len(STEPS), state="tour_step")])
links.show_notices()
step = int(st.session_state["tour_step"])
title, text = STEPS[step - 1]
if step == 2:  # the numbers come from the published model cards, never typed in
    cards = {name: card_for(ASSETS / name) for name in ("digits_skipsnn.pt", "digits_snn.pt")}
    at = {name: {r["noise_level"]: r["accuracy"] for r in card["sweep"]} for name, card in cards.items() if card}
    if len(at) == 2:
        text = text.format(plain0=percent(at["digits_snn.pt"][0]), plain4=percent(at["digits_snn.pt"][4]),
                           skip4=percent(at["digits_skipsnn.pt"][4]))
    else:
        text = "A plain spiking network takes in every frame, noise included, and drowns as noise rises. SkipSNN learns to stop listening."


def move(by: int) -> None:
    st.session_state["tour_step"] = min(max(st.session_state["tour_step"] + by, 1), len(STEPS))


nav = st.columns([1, 1, 6])
nav[0].button("◀ Back", key="tour_back", on_click=move, args=(-1,), disabled=step == 1, width="stretch")
nav[1].button("Next ▶", key="tour_next", on_click=move, args=(1,), disabled=step == len(STEPS), width="stretch")
nav[2].progress(step / len(STEPS), text=f"Step {step} of {len(STEPS)}: {title}")

left, right = st.columns([1, 2.4])
with left:
    st.subheader(title)
    st.write(text)
    glossary()
try:
    model, data = check_selection(SELECTION)
    sample = sample_for(SELECTION, SPEC)
    view = ViewOptions(controller_theta=0.5, gate_mode="mask")
    trace = trace_for(SELECTION, SPEC, view, sample)
except SHOWN_ERRORS as e:
    st.error(f"**The tour's model could not be loaded.** {e}")
    st.stop()
with right:
    if step == 1:
        st.plotly_chart(theme.figure(task_figure(sample)), key="tour_fig", width="stretch")
    elif step == 2:
        cards = {name: card_for(ASSETS / name) for name in ("digits_skipsnn.pt", "digits_snn.pt")}
        if all(cards.values()):
            rows = [{**a, "plain_accuracy": b["accuracy"]} for a, b in zip(cards["digits_skipsnn.pt"]["sweep"],
                                                                           cards["digits_snn.pt"]["sweep"])]
            st.plotly_chart(theme.figure(sweep_page_figure(rows, "noise_level", "noise level (event pairs per noise frame)", height=460)),
                            key="tour_fig", width="stretch")
            st.caption("From assets/model_cards.json: the evaluate CLI on all 360 held-out digits.")
    elif step == 3:
        st.plotly_chart(theme.figure(architecture_figure(model.config.n_hidden)), key="tour_fig", width="stretch")
    elif step == 4:
        explorer_chart(explorer_payload_for(SELECTION, SPEC, view, False, sample, trace), key="tour_chart", cursor=100)
        s = summarize(sample, trace)
        st.caption(f"State updates {percent(s.state_updates, 1)} (oracle {percent(s.oracle_state_updates, 1)}); "
                   f"prediction {s.prediction} for a {s.label}.")
    elif step == 5:
        bar = st.progress(0.0, text="Measuring…")
        rows = sweep_for(SELECTION, "theta", THETAS, 60, 1, None,
                         lambda done, total: bar.progress(done / total, text=f"{len(THETAS)} thresholds: batch {done} of {total}"))
        bar.empty()
        st.plotly_chart(theme.figure(sweep_page_figure(rows, "theta", "gate threshold θc", marker=0.5, height=460)), key="tour_fig",
                        width="stretch")
    elif step == 6:
        frozen = replace(view, gate_mode="freeze")
        st.plotly_chart(theme.figure(compare_figure(sample, [("mask", trace), ("freeze", trace_for(SELECTION, SPEC, frozen, sample))],
                                       [str(c) for c in range(10)])), key="tour_fig", width="stretch")
    elif step == 7:
        st.plotly_chart(theme.figure(savings_figure(trace)), key="tour_fig", width="stretch")
        s = summarize(sample, trace)
        st.caption(f"{percent(s.synops_saving)} of the forced-open network's synaptic operations saved on this sample.")
    else:
        link = {"dataset": "digits", "model": "digits_skipsnn", "sample": SPEC.index, "noise": SPEC.noise_level,
                "start": SPEC.start, "seed": SPEC.seed, "theta": 0.5, "mode": "mask", "gate": "controller"}
        st.markdown(f"### [Open this sample in the Explorer](/?{urlencode(link)})")
        st.plotly_chart(theme.figure(task_figure(sample, height=220)), key="tour_fig", width="stretch")
links.publish({"tour": step})
