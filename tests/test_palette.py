"""The charts' colours keep their promises in both themes: contrast on the ground, distinctions that survive
colour-blind vision (simulated deuteranopia and protanopia), a second cue where colour alone would not do, and a
dark figure that carries no light colour."""

from __future__ import annotations

import base64
import io
import json
import tomllib
from pathlib import Path

import numpy as np
import plotly.io
import pytest
from PIL import Image

from skipsnn_core.figures.palette import DARK, LIGHT, PALETTES, colour_map, contrast_ratio, themed

ROOT = Path(__file__).resolve().parents[1]
CVD = ("deuteranomaly", "protanomaly")  # colorspacious' names; severity 100 is full deuteranopia / protanopia
MIN_DELTA_E = 20.0  # CAM02-UCS; ~1 is a just-noticeable difference, 20+ is told apart at a glance in a small mark

# Pairs the charts tell apart by colour ALONE (no shape, dash or label beside it): these must stay apart under CVD.
COLOUR_ONLY = [
    ("on", "off"),  # the input picture's ON and OFF squares (same shape, same size)
    ("open", "closed"),  # admitted vs skipped bars in "events per frame"
    ("open", "gate_off"),  # open vs closed steps on the gate strip
    ("signal", "neutral"),  # the digit's bars vs the noise frames' bars (Tour, step 1)
    ("open", "paper"), ("closed", "paper"), ("on", "paper"), ("off", "paper"),  # every mark against the ground
]
TEXT_ROLES = ("ink", "muted", "open_text", "signal")  # drawn as text: 4.5:1 (WCAG 1.4.3)
MARK_ROLES = ("strong", "reference", "on", "off", "open", "controller", "contrast", "pulse")  # 3:1 (WCAG 1.4.11)
# Not held to 3:1 in the light theme: "closed", a skipped frame's bar (2.6:1 on white), de-emphasised on purpose and
# kept apart from the admitted teal by ΔE >= 20 under deuteranopia and protanopia; no grey managed both 3:1 on white
# and that distance from the teal. The gate strip right under it says admitted/skipped at 5.5:1, and hover names it.
MARKS_UNDER_3 = {"light": {"closed"}, "dark": set()}


def simulated(color: str, kind: str | None) -> np.ndarray:
    from colorspacious import cspace_convert

    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], float) / 255
    if kind is None:
        return rgb
    return np.clip(cspace_convert(rgb, {"name": "sRGB1+CVD", "cvd_type": kind, "severity": 100}, "sRGB1"), 0, 1)


def delta_e(a: str, b: str, kind: str | None) -> float:
    from colorspacious import deltaE

    return float(deltaE(simulated(a, kind), simulated(b, kind), input_space="sRGB1", uniform_space="CAM02-UCS"))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_colour_only_distinctions_survive_deuteranopia_and_protanopia(theme):
    pytest.importorskip("colorspacious")
    p = PALETTES[theme]
    weak = [(a, b, kind, round(delta_e(getattr(p, a), getattr(p, b), kind), 1))
            for a, b in COLOUR_ONLY for kind in (None, *CVD) if delta_e(getattr(p, a), getattr(p, b), kind) < MIN_DELTA_E]
    assert not weak, f"{theme}: pairs closer than ΔE {MIN_DELTA_E} (role, role, vision, ΔE): {weak}"


def test_the_check_can_fail():
    """Red against green, the textbook confusion, is far apart in normal vision and collapses under deuteranopia."""
    pytest.importorskip("colorspacious")
    assert delta_e("#d62728", "#2ca02c", None) > 40 and delta_e("#d62728", "#2ca02c", "deuteranomaly") < MIN_DELTA_E


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_and_marks_stand_out_from_the_ground(theme):
    p = PALETTES[theme]
    low = {r: round(contrast_ratio(getattr(p, r), p.paper), 2) for r in TEXT_ROLES if contrast_ratio(getattr(p, r), p.paper) < 4.5}
    assert not low, f"{theme}: text colours under 4.5:1 on {p.paper}: {low}"
    low = {r: round(contrast_ratio(getattr(p, r), p.paper), 2) for r in (*MARK_ROLES, "closed")
           if contrast_ratio(getattr(p, r), p.paper) < 3.0 and r not in MARKS_UNDER_3[theme]}
    assert not low, f"{theme}: marks under 3:1 on {p.paper}: {low}"


def test_streamlit_themes_pass_contrast():
    """.streamlit/config.toml: the text, its 60 % caption tint (Streamlit's captions and slider labels), the primary
    colour (slider values, white text on primary buttons) and inline code, on the ground and on the sidebar."""
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    assert set(theme) >= {"light", "dark"}, "a light and a dark theme, for the settings menu's switch"

    def caption(text, ground):
        mix = [round(0.6 * int(text[i:i + 2], 16) + 0.4 * int(ground[i:i + 2], 16)) for i in (1, 3, 5)]
        return "#" + "".join(f"{v:02x}" for v in mix)

    problems = []
    for name in ("light", "dark"):
        t = theme[name]
        for ground in (t["backgroundColor"], t["secondaryBackgroundColor"]):
            for what, fg, need in (("text", t["textColor"], 4.5), ("caption", caption(t["textColor"], ground), 4.5),
                                   ("primary", t["primaryColor"], 4.5)):
                if contrast_ratio(fg, ground) < need:
                    problems.append((name, what, fg, ground, round(contrast_ratio(fg, ground), 2)))
        if name == "light" and contrast_ratio("#ffffff", t["primaryColor"]) < 4.5:
            problems.append((name, "white on primary", t["primaryColor"], round(contrast_ratio("#ffffff", t["primaryColor"]), 2)))
        if "codeTextColor" in t and contrast_ratio(caption(t["codeTextColor"], "#fbfcfd"), "#fbfcfd") < 4.5:
            problems.append((name, "code in a caption", t["codeTextColor"]))  # on Streamlit's light code ground
    assert not problems, problems
    assert theme["dark"]["backgroundColor"] == DARK.paper and theme["light"]["backgroundColor"] == LIGHT.paper, \
        "the charts' ground is the page's"


def _png_colours(source: str) -> set[tuple[int, int, int]]:
    img = np.array(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))
    return {tuple(int(v) for v in px[:3]) for px in img.reshape(-1, img.shape[-1]) if img.shape[-1] == 3 or px[3] > 0}


def test_a_dark_explorer_figure_carries_no_light_colour_and_keeps_its_second_cues():
    """The whole Explorer figure and its payload (a run of the model on a sample), then turned dark."""
    from skipsnn_core.figures import explorer_base, explorer_payload
    from tests.test_figures import sample_and_trace

    sample, trace = sample_and_trace()
    light, _ = explorer_base(sample, trace, [str(c) for c in range(10)])
    dark = themed(light, "dark")
    assert themed(light, "light") is light, "light is what the builders draw"
    text = plotly.io.json.to_json_plotly(dark)
    lights = {k for k, v in colour_map().items() if v.lower() != k and not k.startswith("rgba") and k != "#ffffff"}
    left = {c for c in lights if c in text.lower().replace('"source"', "")}
    assert not left, f"light colours left in the dark figure: {left}"
    assert dark["layout"]["paper_bgcolor"] == DARK.paper and plotly.io.json.to_json_plotly(light) != text
    for im_light, im_dark in zip(light["layout"]["images"], dark["layout"]["images"]):
        before, after = _png_colours(im_light["source"]), _png_colours(im_dark["source"])
        assert (255, 255, 255) not in after, f"{im_dark['name']}: a white ground in the dark theme"
        assert len(after) == len(before), f"{im_dark['name']}: as many colours as before ({before} -> {after})"
    # the distinctions that lean on more than colour: the true class is dashed, the prediction solid
    dashes = {t["name"]: t["line"].get("dash") for t in dark["data"] if t.get("line") and ", true" in t.get("name", "")}
    assert all(d == "dash" for d in dashes.values())
    payload = json.loads(explorer_payload(sample, trace, [str(c) for c in range(10)], theme="dark"))
    assert payload["theme"] == "dark" and payload["colors"] == {"open": DARK.open_text, "closed": DARK.muted}


def test_a_vs_b_and_gated_vs_open_carry_a_dash_as_well_as_a_colour():
    """Run A and B (Compare) and the sweep's lines are closer than ΔE 20 under deuteranopia in places: their second
    cue is the dash, which must differ for every pair."""
    from skipsnn_core.figures.compare import RUN_COLORS, RUN_DASH
    from skipsnn_core.figures.sweep import LINES

    assert len(set(RUN_DASH)) == len(RUN_DASH) == len(RUN_COLORS)
    assert len({dash for *_, dash in LINES}) == len(LINES)
