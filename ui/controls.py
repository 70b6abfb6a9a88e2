"""The settings every view of one sample shares: the sample, its noise, and the gate. Drawn once here.

The widgets keep their values for the whole session (``persist_state="session"``), so Explore, Why
and Compare show the same run; the link carries them (ui/links.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from skipsnn_core import SkipSNN
from skipsnn_core.explore import SampleSpec, ViewOptions, edits_override, format_edits, parse_edits
from ui import links
from ui.state import Selection

T = 300
MODES = {"mask": "mask (reference)", "freeze": "freeze (paper)"}
GATES = {"controller": "the controller", "oracle": "oracle: signal window only", "open": "nobody: always open"}
NO_GATE = "This checkpoint is a plain SNN: it has no controller, so every frame is admitted and there is no gate to set."
KEEP = "session"  # widget values survive page switches
CONTROL_KEYS = ("sample", "noise", "start", "theta", "mode", "gate", "seed")


@dataclass(frozen=True)
class Settings:
    spec: SampleSpec  # which sample, in which noise
    view: ViewOptions  # how the gate runs
    link: dict  # the link to these settings (ids only)


def seed(model: SkipSNN, selection: Selection, n_samples: int, L: int) -> None:
    """Seed the widgets from the link once per session (call before ``controls``), and show what the link got wrong."""
    gated = model.config.controller
    params = [
        links.IntParam("sample", 0, 0, n_samples - 1),
        links.IntParam("noise", 1, 0, 8),
        links.IntParam("start", 120, 0, T - L),
        links.IntParam("seed", 0, 0, 2**31 - 1),
        links.IntParam("t", 0, 0, T - 1, state="cursor_from_link"),  # the chart's cursor, placed once per session
    ]
    gate_params = [
        links.FloatParam("theta", round(float(model.config.controller_theta), 2), -0.5, 2.0, 0.05),
        links.ChoiceParam("mode", model.config.gate_mode, tuple(MODES)),
        links.ChoiceParam("gate", "controller", tuple(GATES)),
        links.TextParam("edits", "", lambda text: parse_edits(text, T)),  # steps forced open/closed, e.g. o120-169,c200
    ]
    if not gated and "view" not in st.session_state.get("_links_read", set()):
        asked = [p.key for p in gate_params if p.key in st.query_params]
        if asked:
            links.notice(f"{', '.join(f'`{k}`' for k in asked)} ignored: this checkpoint is a plain SNN and has no gate")
    links.seed_from_url("view", params + (gate_params if gated else []))
    for key in CONTROL_KEYS:  # a widget drawn on another page hands its value to this page's widget (Streamlit's
        if key in st.session_state:  # documented way: re-assign it through the Session State API before drawing)
            st.session_state[key] = st.session_state[key]
    links.show_notices()


def controls(model: SkipSNN, selection: Selection, labels: np.ndarray, L: int, compact: bool = False, row=None,
             more=None) -> Settings:
    """A toolbar: the sample, the two knobs a class turns (noise level, gate threshold) and *Settings* (digit
    picker, signal start, gate mode and decider, seed) one click away in a popover, so the figure starts on the
    first screen.

    ``labels``: the test split's labels; ``L``: its signal length in frames. ``row``: three columns for the sample
    and the two sliders, ``more``: the container of the rest (default: a new row with its own popover).
    ``compact`` (presentation mode): only the two sliders; the rest keep their values (they persist for the session).
    """
    classes = [str(c) for c in range(model.config.n_classes)]
    gated = model.config.controller
    if compact:
        return _compact(model, selection, gated)

    def pick_class() -> None:
        digit = st.session_state["digit"]
        if digit != "any":
            matches = np.flatnonzero(labels == int(digit))
            if len(matches):
                st.session_state["sample"] = int(matches[0])

    def pick_random() -> None:
        st.session_state["sample"] = int(np.random.default_rng().integers(len(labels)))
        st.session_state["digit"] = "any"

    if row is None:
        *row, last = st.columns([0.8, 1.3, 1.3, 0.9], vertical_alignment="bottom")
        more = last.popover("Settings", icon=":material/tune:", width="stretch",
                            help="Digit, signal start, gate mode, who decides the gate, noise seed")
    c1, c2, c3 = row
    index = c1.number_input("Sample", 0, len(labels) - 1, key="sample", persist_state=KEEP,
                            help=f"Recording in the test split (0–{len(labels) - 1}); a digit or a random one: *Settings*")
    level = c2.slider("Noise level", 0, 8, key="noise", persist_state=KEEP,
                      help="ON/OFF noise event pairs per noise frame (reference: 1)")
    if gated:
        theta = c3.slider("Gate threshold", -0.5, 2.0, step=0.05, key="theta", persist_state=KEEP,
                          help="The controller's firing threshold at inference: higher opens the gate less often")
    else:  # shown, disabled, with the reason (other keys: nothing of a gated model's state is touched)
        c3.slider("Gate threshold", -0.5, 2.0, round(float(model.config.controller_theta), 2), 0.05, key="theta_off",
                  disabled=True, help=NO_GATE)
    with more:
        a, b = st.columns(2, vertical_alignment="bottom")
        a.selectbox("Digit", ["any", *classes], key="digit", on_change=pick_class, help="Jump to a recording of this digit")
        b.button("Random", key="random", on_click=pick_random, width="stretch")
        start = st.slider("Signal start", 0, T - L, key="start", persist_state=KEEP, help="First frame of the digit's events")
        if gated:
            mode = st.radio("Gate mode", list(MODES), key="mode", horizontal=True, format_func=MODES.get, persist_state=KEEP,
                            help="mask: a skipped frame's input synapses are silenced, membranes still decay. "
                            "freeze: hidden and output layers hold their state and emit nothing while hibernating.")
            gate_choice = st.selectbox("Gate decided by", list(GATES), key="gate", format_func=GATES.get, persist_state=KEEP,
                                       help="What if the gate had looked exactly at the signal, or everywhere? Same weights.")
        else:
            st.radio("Gate mode", list(MODES), key="mode_off", horizontal=True, format_func=MODES.get, disabled=True,
                     help=NO_GATE)
            st.selectbox("Gate decided by", ["open"], key="gate_off", format_func=GATES.get, disabled=True, help=NO_GATE)
        seed_value = st.number_input("Seed", 0, 2**31 - 1, key="seed", persist_state=KEEP, help="Noise seed")

    spec = SampleSpec(index=int(index), noise_level=int(level), start=int(start), seed=int(seed_value), T=T)
    edits = st.session_state.get("edits", "") if gated and gate_choice == "controller" else ""
    view = ViewOptions(controller_theta=float(theta), gate_mode=mode, gate=gate_choice, edits=edits) if gated else ViewOptions()
    link = {"dataset": selection.dataset, "model": selection.model_id, "sample": spec.index, "noise": spec.noise_level,
            "start": spec.start, "seed": spec.seed,
            **({"theta": float(theta), "mode": mode, "gate": gate_choice} if gated else {}), **({"edits": edits} if edits else {})}
    return Settings(spec, view, link)


def _compact(model: SkipSNN, selection: Selection, gated: bool) -> Settings:
    c1, c2, _ = st.columns([1, 1, 1.2])
    c1.slider("Noise level", 0, 8, key="noise", persist_state=KEEP, help="ON/OFF noise event pairs per noise frame")
    if gated:
        c2.slider("Gate threshold", -0.5, 2.0, step=0.05, key="theta", persist_state=KEEP,
                  help="The controller's firing threshold: higher opens the gate less often")
    state = st.session_state
    spec = SampleSpec(index=int(state["sample"]), noise_level=int(state["noise"]), start=int(state["start"]),
                      seed=int(state["seed"]), T=T)
    gate = state.get("gate", "controller")
    edits = state.get("edits", "") if gated and gate == "controller" else ""
    view = ViewOptions(controller_theta=float(state["theta"]), gate_mode=state["mode"], gate=gate, edits=edits) if gated \
        else ViewOptions()
    link = {"dataset": selection.dataset, "model": selection.model_id, "sample": spec.index, "noise": spec.noise_level,
            "start": spec.start, "seed": spec.seed,
            **({"theta": view.controller_theta, "mode": view.gate_mode, "gate": gate} if gated else {}),
            **({"edits": edits} if edits else {})}
    return Settings(spec, view, link)


BRUSH = {"open": 1, "closed": 0, "free": -1}
BRUSH_LABELS = {"open": "force open", "closed": "force closed", "free": "give back to the controller"}


def apply_chart_edit(steps: tuple[int, int] | None) -> None:
    """Force the steps the user picked on the gate (first..last) to the chosen brush; keep the old edits for Undo."""
    if steps is None or st.session_state.get("gate", "controller") != "controller":
        return
    first, last = max(1, steps[0]), min(T - 1, steps[1])  # step 0 is always open
    if first > last:
        return
    before = st.session_state.get("edits", "")
    override = edits_override(parse_edits(before, T), T)
    override[first : last + 1] = BRUSH[st.session_state.get("edit_brush", "open")]
    st.session_state["edits"] = format_edits(override)
    st.session_state.setdefault("edit_history", []).append(before)


def undo_edit() -> None:
    history = st.session_state.get("edit_history") or [""]
    st.session_state["edits"] = history.pop()


def clear_edits() -> None:
    st.session_state.setdefault("edit_history", []).append(st.session_state.get("edits", ""))
    st.session_state["edits"] = ""


def edits_label(model: SkipSNN) -> str:
    """The gate-edit popover's label: how many runs of steps are forced now."""
    if not model.config.controller:
        return "Edits"
    runs = parse_edits(st.session_state.get("edits", ""), T)
    return f"Edits ({len(runs)})" if runs else "Edits"


def edit_controls(model: SkipSNN) -> None:
    """What a click or a box selection on the gate does, and the edits made so far (undo, clear)."""
    if not model.config.controller:
        st.caption(NO_GATE)
        return
    if st.session_state.get("gate", "controller") != "controller":
        st.caption("Gate edits apply on top of the controller: choose *Gate decided by: the controller* to edit it.")
        return
    edits = parse_edits(st.session_state.get("edits", ""), T)
    st.radio("A click on the gate will", list(BRUSH), key="edit_brush", format_func=BRUSH_LABELS.get,
             help="Click a step on the gate panel, or press ⬚ Select steps and drag across it. The network re-runs with "
             "those frames forced; the rest the controller decides.")
    st.markdown("**Forced now:** " + (", ".join(f"{'open' if v else 'closed'} {a}" + (f"–{b}" if b > a else "") for a, b, v in edits)
                                      if edits else "none (the controller decides every step)"))
    c3, c4 = st.columns(2)
    c3.button("Undo", key="edit_undo", on_click=undo_edit, disabled=not st.session_state.get("edit_history"), width="stretch")
    c4.button("Clear", key="edit_clear", on_click=clear_edits, disabled=not edits, width="stretch")
