"""Every symbol a student meets, explained once (the tour and Explore show it)."""

import streamlit as st

GLOSSARY = (
    "- **u**: a neuron's membrane potential; **θ** (0.5): the threshold of the hidden and output neurons; **θc**: the "
    "controller's threshold (the *Gate threshold* slider).\n"
    "- **P1, P2, P10, P100**: synchronisation pulses every 1, 2, 10 and 100 steps, inputs of the controller (P1 and P2 "
    "fire almost always, so the chart marks only P10 ▲ and P100 ★).\n"
    "- **admitted**: the frame reached the network; **skipped** or **hibernating**: it did not, because the controller "
    "did not spike one step before (its spike at t opens frame t + 1: the arrows on the gate).\n"
    "- **the faint grey digit** in the input panel: where the digit's events fall over its 50 ms, to place the events "
    "at the cursor.\n"
    "- **N active**: how many of the hidden neurons spiked at least once in this run (of 800).\n"
    "- **running evidence**: each class's output spikes so far divided by the frames admitted so far; it can start at "
    "1.0 when the very first admitted frame already makes an output neuron spike.\n"
    "- **state updates**: admitted frames / all frames; the oracle, open exactly on the digit, reaches 50/300.\n"
    "- **synaptic ops**: input events × hidden neurons + hidden spikes × classes + the controller's inputs."
)


def glossary() -> None:
    with st.expander("What the symbols mean"):
        st.markdown(GLOSSARY)
