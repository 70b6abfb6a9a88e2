"""Model cards: the one place the published figures of the shipped checkpoints come from.

``tools/model_cards.py`` runs the evaluate CLI on every checkpoint in ``assets/`` and writes
``assets/model_cards.json``; ``assets/MODEL_CARDS.md``, the README's table and the app's Model
card page are all made from that file, so they cannot disagree. A card names the SHA-256 of the
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
             "| synops saved | silent |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, card in cards.items():
        r = headline(card)
        if card["kind"] == "skipsnn":
            lines.append(f"| `{name}` | {r['accuracy']:.1%} | {r['forced_open_accuracy']:.1%} | {r['state_updates']:.3f} | "
                         f"{r['gate_precision']:.2f} / {r['gate_recall']:.2f} | {r['synops_saving']:.0%} | {r['silent']} |")
        else:
            lines.append(f"| `{name}` (plain SNN, same budget) | {r['accuracy']:.1%} | | 1.000 | | | {r['silent']} |")
    return "\n".join([*lines, README_END])
