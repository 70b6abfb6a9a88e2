"""Named Explore settings for teaching and demos. Each is a plain link too, so it can be bookmarked."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

BASE = {"dataset": "digits", "model": "digits_skipsnn", "sample": 3, "noise": 1, "start": 120, "seed": 0, "theta": 0.5,
        "mode": "mask", "gate": "controller"}
PRESETS: dict[str, tuple[str, dict]] = {  # name: (what it shows, the settings that differ from BASE)
    "Clean hit": ("a digit with no noise: the gate wakes on the first events and sleeps after", {"noise": 0}),
    "Heavy noise": ("six noise pairs a frame: the gate still finds the digit, the forced-open network drowns",
                    {"noise": 6}),
    "Gate too strict": ("threshold 1.5: the controller almost never fires, the network sees nothing and says nothing",
                        {"theta": 1.5}),
    "Gate too lax": ("threshold -0.3: the gate never closes, so it saves no work", {"theta": -0.3}),
    "Early signal": ("the digit in the first frames", {"start": 5}),
    "Late signal": ("the digit in the last frames", {"start": 245}),
    "A misclassified sample": ("a 5 the gated network calls 9 (sample 1)", {"sample": 1}),
    "Oracle gate": ("what if the gate had looked exactly at the digit?", {"gate": "oracle"}),
    "Mask vs freeze": ("the same sample with the paper's freeze semantics (compare on the Compare page)", {"mode": "freeze"}),
}
KEYS = ("sample", "noise", "start", "seed", "theta", "mode", "gate")


def settings(name: str) -> dict:
    return {**BASE, **PRESETS[name][1]}


def link(name: str) -> str:
    return "?" + urlencode({k: v for k, v in settings(name).items()})


def apply(name: str) -> None:
    """Put the preset's settings into the Explore widgets (call from a callback, before they are drawn)."""
    for key in KEYS:
        st.session_state[key] = settings(name)[key]
    st.session_state["edits"] = ""


def picker() -> None:
    """A selector of presets; picking one sets the view. Needs the digits checkpoint chosen in the sidebar."""
    def chosen() -> None:
        name = st.session_state["preset"]
        if name in PRESETS:
            apply(name)

    st.selectbox("Preset", ["—", *PRESETS], key="preset", on_change=chosen,
                 help="Named settings for teaching and demos; each is also a plain link:\n\n"
                 + "\n".join(f"- **{n}**: {what}" for n, (what, _) in PRESETS.items()))
