"""Model cards: the one place the published figures of the shipped checkpoints come from.

``tools/model_cards.py`` runs the evaluate CLI on every checkpoint in ``assets/`` and writes
``assets/model_cards.json``; ``assets/MODEL_CARDS.md``, the README's tables and the app's Model
card page are all made from that file, so they cannot disagree. A card's ``neurobench`` entry is
``evaluate --neurobench`` at the reference noise level (skipsnn_core/harness.py). A card names the SHA-256 of the
checkpoint it measured: a card whose checkpoint changed since is not shown.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from functools import lru_cache
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"
CARDS = ASSETS / "model_cards.json"
REFERENCE_LEVEL = 1  # the noise level the headline figures are quoted at


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@lru_cache(maxsize=32)
def _card(path: str, size: int, mtime: float) -> dict | None:
    if not CARDS.is_file():
        return None
    card = json.loads(CARDS.read_text()).get(Path(path).name)
    if card is None or card.get("sha256") != sha256(Path(path)):
        return None
    return card


def card_for(path: str | Path) -> dict | None:
    """The evaluate CLI's card for this checkpoint file, or None (not shipped, or changed since measured)."""
    path = Path(path).resolve()
    if path.parent != ASSETS.resolve() or not path.is_file():
        return None
    st = path.stat()
    return _card(str(path), st.st_size, st.st_mtime)


def headline(card: dict) -> dict:
    """The sweep row at the reference noise level."""
    return next(row for row in card["sweep"] if row["noise_level"] == REFERENCE_LEVEL)


def reproduce_command(command: str, out: str) -> str:
    """A training command that runs from a fresh clone: ``python3 -m ...`` writing to ``out`` (relative)."""
    args = shlex.split(command)
    if args[:1] == ["python"]:
        args[0] = "python3"
    if "--out" in args:
        args[args.index("--out") + 1] = out
    else:
        args += ["--out", out]
    return shlex.join(args)


README_BEGIN, README_END = "<!-- model table: written by tools/model_cards.py -->", "<!-- end of model table -->"


def readme_table(cards: dict) -> str:
    """The README's table of shipped models at the reference noise level, from the cards."""
    lines = [README_BEGIN,
             "| checkpoint | accuracy | same weights, gate open | state updates (oracle 0.167) | gate precision / recall "
             "| synops saved | NeuroBench Effective_ACs saved | silent |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, card in cards.items():
        r = headline(card)
        if card["kind"] == "skipsnn":
            nb = card.get("neurobench", {}).get("effective_acs_saving")
            lines.append(f"| `{name}` | {r['accuracy']:.1%} | {r['forced_open_accuracy']:.1%} | {r['state_updates']:.3f} | "
                         f"{r['gate_precision']:.2f} / {r['gate_recall']:.2f} | {r['synops_saving']:.0%} | "
                         f"{'' if nb is None else f'{nb:.0%}'} | {r['silent']} |")
        else:
            lines.append(f"| `{name}` (plain SNN, same budget) | {r['accuracy']:.1%} | | 1.000 | | | | {r['silent']} |")
    return "\n".join([*lines, README_END])


NB_BEGIN, NB_END = "<!-- neurobench table: written by tools/model_cards.py -->", "<!-- end of neurobench table -->"


def nb_value(figures: dict, metric: str, sub: str | None = None):
    """One NeuroBench figure of a network's results, or None where it is not available (the reason is in
    ``figures["not_available"]``)."""
    if metric in figures.get("not_available", {}) or metric not in figures:
        return None
    v = figures[metric]
    return v.get(sub) if sub else v


def _fmt(v, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


# (label, NeuroBench metric, its sub-figure, format)
NB_ROWS = (("ClassificationAccuracy", "ClassificationAccuracy", None, ".1%"),
           ("SynapticOperations: Effective_ACs / sample", "SynapticOperations", "Effective_ACs", ",.0f"),
           ("SynapticOperations: Effective_MACs / sample", "SynapticOperations", "Effective_MACs", ",.0f"),
           ("SynapticOperations: Dense / sample", "SynapticOperations", "Dense", ",.0f"),
           ("ActivationSparsity", "ActivationSparsity", None, ".4f"),
           ("MembraneUpdates / sample", "MembraneUpdates", None, ",.0f"),
           ("Footprint (bytes)", "Footprint", None, ",d"),
           ("ConnectionSparsity", "ConnectionSparsity", None, ".4f"))


def neurobench_markdown(nb: dict) -> str:
    """One checkpoint's NeuroBench figures (gated and forced open) beside ours on the same samples, as markdown."""
    nets = [k for k in ("gated", "forced_open") if k in nb]
    heads = {"gated": "gated" if len(nets) > 1 else "plain SNN", "forced_open": "same weights, gate forced open"}
    cross = nb["cross_check"]
    lines = ["| NeuroBench metric | " + " | ".join(heads[k] for k in nets) + " | ours, same samples |",
             "|---|" + "---:|" * (len(nets) + 1)]
    for label, metric, sub, spec in NB_ROWS:
        ours = ""
        if metric == "ClassificationAccuracy":
            ours = " / ".join(f"{cross[k]['kernel_accuracy']:.1%}" for k in nets)
        elif sub == "Effective_ACs":
            ours = " / ".join(f"{cross[k]['ours_synops_per_sample']:,.0f}" for k in nets) + " synops"
        lines.append(f"| {label} | " + " | ".join(_fmt(nb_value(nb[k], metric, sub), spec) for k in nets) + f" | {ours} |")
    if "effective_acs_saving" in nb:
        lines.append(f"| Effective_ACs saved by the gate | {nb['effective_acs_saving']:.1%} | | "
                     f"{cross['ours_synops_saving']:.1%} synops saved |")
    for k in nets:
        lines += [f"| not available ({heads[k]}): {m} | {why} |" + " |" * len(nets) for m, why in nb[k]["not_available"].items()]
    lines += ["", f"{nb['n_samples']} samples, NeuroBench {nb['neurobench_version']}. Cross-check: {cross['explained']}."]
    return "\n".join(lines)


def neurobench_table(cards: dict) -> str:
    """The README's table of NeuroBench figures of the shipped models, from the cards."""
    lines = [NB_BEGIN,
             "| checkpoint | ClassificationAccuracy | Effective_ACs / sample (forced open) | Effective_ACs saved "
             "(our synops saved) | Dense / sample | ActivationSparsity | MembraneUpdates / sample (forced open) "
             "| Footprint |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, card in cards.items():
        nb = card.get("neurobench")
        if nb is None:
            lines.append(f"| `{name}` | not measured | | | | | | |")
            continue
        g, o = nb["gated"], nb.get("forced_open")
        acs, mu = nb_value(g, "SynapticOperations", "Effective_ACs"), nb_value(g, "MembraneUpdates")
        acs_cell, mu_cell = _fmt(acs, ",.0f"), _fmt(mu, ",.0f")
        saved = ""
        if o is not None:
            acs_cell += f" ({_fmt(nb_value(o, 'SynapticOperations', 'Effective_ACs'), ',.0f')})"
            mu_cell += f" ({_fmt(nb_value(o, 'MembraneUpdates'), ',.0f')})"
            saved = f"{_fmt(nb.get('effective_acs_saving'), '.1%')} ({nb['cross_check']['ours_synops_saving']:.1%})"
        label = f"`{name}`" + ("" if o is not None else " (plain SNN)")
        lines.append(f"| {label} | {_fmt(nb_value(g, 'ClassificationAccuracy'), '.1%')} | {acs_cell} | {saved} | "
                     f"{_fmt(nb_value(g, 'SynapticOperations', 'Dense'), ',.0f')} | "
                     f"{_fmt(nb_value(g, 'ActivationSparsity'), '.4f')} | {mu_cell} | {_fmt(nb_value(g, 'Footprint'), ',d')} |")
    return "\n".join([*lines, NB_END])
