"""Measure every shipped checkpoint with the evaluate CLI and write the one source of its figures.

    python3 tools/model_cards.py [--nmnist-dir ../shared/data/nmnist] [--sweep 0,1,2,3,4,6,8] [--nproc N]

Writes ``assets/model_cards.json`` (read by the app's Model card page), renders
``assets/MODEL_CARDS.md`` from it and replaces the tables between the markers in README.md.
Every figure comes from ``python3 -m skipsnn_core.evaluate ... --json`` run here, now; the NeuroBench
figures from the same CLI with ``--neurobench`` at the reference noise level (needs the neurobench
package: ``python3 -m pip install --no-deps -r requirements-neurobench.txt``).
``--nproc N`` runs each evaluation under torchrun on N processes (every core, or every GPU): the batches are shared
over the processes and the figures are the one-process figures (tests/test_distributed.py), so the cards name the
one-process command.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skipsnn_core import load_checkpoint  # noqa: E402
from skipsnn_core.cards import (CARDS, NB_BEGIN, NB_END, README_BEGIN, README_END, REFERENCE_LEVEL,  # noqa: E402
                                 neurobench_markdown, neurobench_table, readme_table, reproduce_command, sha256)
from skipsnn_core.harness import require_neurobench  # noqa: E402


def evaluate(path: Path, dataset: str, data_dir: str | None, *options: str, nproc: int = 1) -> tuple[str, list[dict] | dict]:
    """The evaluate CLI's JSON for ``path`` and the one-process command that prints it; run under torchrun
    (``--standalone``: its rendezvous on this machine) when ``nproc`` > 1."""
    args = ["-m", "skipsnn_core.evaluate", "--checkpoint", str(path.relative_to(ROOT)), "--dataset", dataset, "--json", *options]
    if data_dir:
        args += ["--data-dir", data_dir]
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"] if nproc > 1 else [sys.executable]
    out = subprocess.run(launch + args, cwd=ROOT, capture_output=True, text=True, check=True)
    return " ".join(["python3", *args]), json.loads(out.stdout)


def card(path: Path, nmnist_dir: str, sweep: str, nproc: int = 1) -> dict:
    meta = load_checkpoint(path, "cpu").meta
    dataset = meta["dataset"]
    data_dir = nmnist_dir if dataset == "nmnist" else None
    command, rows = evaluate(path, dataset, data_dir, "--sweep", sweep, nproc=nproc)
    nb_command, nb_row = evaluate(path, dataset, data_dir, "--noise-level", str(REFERENCE_LEVEL), "--neurobench", nproc=nproc)
    tc = meta.get("train_config", {})
    return {
        "sha256": sha256(path),
        "dataset": dataset,
        "kind": meta["kind"],
        "reproduce": reproduce_command(meta["command"], f"retrained/{path.name}"),
        "evaluate_command": command,
        "train": {k: tc.get(k) for k in ("T", "L", "noise_level", "shift", "lam", "epochs", "batch_size", "hidden")},
        "epochs_run": meta.get("epochs_run", len(meta.get("history", []))),
        "device": meta.get("device"),
        "size_mib": round(path.stat().st_size / 2**20, 1),
        "sweep": rows,
        "neurobench_command": nb_command,
        "neurobench": nb_row["neurobench"],  # NeuroBench's harness on the same samples as the sweep's reference row
    }


def markdown(cards: dict) -> str:
    lines = ["# Model cards", "",
             f"Written by `tools/model_cards.py` from `{CARDS.name}`: every figure was printed by `python3 -m "
             "skipsnn_core.evaluate` on the held-out split (fixed noise: sample *i* draws its noise and signal start from "
             "its own generator seeded by (1234, *i*)). The app's Model card page shows the same file. State updates: "
             "admitted frames / all frames (oracle 50/300 = 0.167). Synops saved: synaptic operations saved against the "
             "same weights with the gate forced open. Silent: samples with no output spike at all; they have no "
             "prediction and count as wrong. *Recall over the signal frames that hold more events than a noise frame can "
             "(> 2 × noise level): a real N-MNIST recording starts slowly, its first ~12 frames hold 1–3 events each, as "
             "many as a noise frame, so no causal gate can tell them from noise.", "",
             "The checkpoints were trained on this 2-core CPU, one thread each. The per-epoch validation stored inside "
             "each checkpoint is training-time validation; the app draws it only as the training curve.", ""]
    for name, c in cards.items():
        t = c["train"]
        lines += [f"## `{name}`: {'SkipSNN' if c['kind'] == 'skipsnn' else 'plain SNN'} on {c['dataset']}", "",
                  f"- Reproduce: `{c['reproduce']}`",
                  f"- Data: {c['dataset']} train split; held-out test split ({c['sweep'][0]['n_samples']} recordings); "
                  f"T = {t['T']}, L = {t['L']}, trained at noise level {t['noise_level']}, random shift ±{t['shift']} px",
                  f"- Epochs run: {c['epochs_run']}, device: {c['device']}; size {c['size_mib']} MiB; SHA-256 `{c['sha256'][:16]}…`",
                  "", f"Measured with `{c['evaluate_command']}`:", "",
                  "| noise level | accuracy | gate forced open | state updates | gate precision | gate recall "
                  "| recall, visible frames* | synops saved | silent |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in c["sweep"]:
            lines.append(f"| {r['noise_level']} | {r['accuracy']:.1%} | {r['forced_open_accuracy']:.1%} | {r['state_updates']:.3f} | "
                         f"{r['gate_precision']:.3f} | {r['gate_recall']:.3f} | {r['gate_recall_visible']:.3f} | "
                         f"{r['synops_saving']:.1%} | {r['silent']} |")
        lines += ["", f"NeuroBench's own metrics at noise level {REFERENCE_LEVEL}, counted by its hooks "
                  f"(`{c['neurobench_command']}`):", "", neurobench_markdown(c["neurobench"]), ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nmnist-dir", default="../shared/data/nmnist")
    ap.add_argument("--sweep", default="0,1,2,3,4,6,8")
    ap.add_argument("--nproc", type=int, default=1, help="processes per evaluation, under torchrun (default 1: no torchrun)")
    args = ap.parse_args()
    require_neurobench()  # say so before minutes of work
    cards = {path.name: card(path, args.nmnist_dir, args.sweep, args.nproc) for path in sorted((ROOT / "assets").glob("*.pt"))}
    CARDS.write_text(json.dumps(cards, indent=1) + "\n")
    (ROOT / "assets" / "MODEL_CARDS.md").write_text(markdown(cards))
    readme = (ROOT / "README.md").read_text()
    head, rest = readme.split(README_BEGIN)
    tail = rest.split(README_END, 1)[1]
    readme = head + readme_table(cards) + tail
    head, rest = readme.split(NB_BEGIN)
    tail = rest.split(NB_END, 1)[1]
    (ROOT / "README.md").write_text(head + neurobench_table(cards) + tail)
    print(markdown(cards))


if __name__ == "__main__":
    main()
