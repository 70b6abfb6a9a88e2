"""Write assets/MODEL_CARDS.md: for each shipped checkpoint, how it was trained and what the
evaluate CLI measures on its held-out split (run here, now; nothing is copied from training logs).

    python3 tools/model_cards.py --nmnist-dir ../shared/data/nmnist
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

KEYS = ("accuracy", "state_updates", "gate_precision", "gate_recall", "synops_saving")


def evaluate(path: Path, dataset: str, data_dir: str | None, sweep: str) -> tuple[str, list[dict]]:
    cmd = [sys.executable, "-m", "skipsnn_core.evaluate", "--checkpoint", str(path.relative_to(ROOT)), "--dataset", dataset,
           "--json", "--sweep", sweep]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    shown = " ".join(c if c != sys.executable else "python3" for c in cmd)
    return shown, json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nmnist-dir", default="../shared/data/nmnist")
    ap.add_argument("--sweep", default="0,1,2,4")
    args = ap.parse_args()
    lines = ["# Model cards", "",
             "Every figure below was printed by `python3 -m skipsnn_core.evaluate` on the held-out split (fixed noise, seed "
             "1234), by `tools/model_cards.py`. State updates: admitted frames / all frames (oracle 50/300 = 0.167). "
             "Synops saved: synaptic operations saved against the same weights with the gate forced open. "
             "*Recall over the signal frames that hold more events than a noise frame can (> 2 × noise level): a real "
             "N-MNIST recording starts slowly, its first ~12 frames hold 1–3 events each, as many as a noise frame, so no "
             "causal gate can tell them from noise.", "",
             "The checkpoints were trained on this 2-core CPU (one thread each), written to a scratch folder (the `--out` "
             "in each command) and copied here. Re-evaluating with another thread count can move accuracy by a sample or "
             "two (float summation order flips borderline spikes over 300 steps): the per-epoch validation inside each "
             "checkpoint's history, run with one thread, is the other number you may see.", ""]
    for path in sorted((ROOT / "assets").glob("*.pt")):
        model = load_checkpoint(path, "cpu")
        meta = model.meta
        dataset = meta["dataset"]
        data_dir = args.nmnist_dir if dataset == "nmnist" else None
        cmd, rows = evaluate(path, dataset, data_dir, args.sweep)
        tc = meta.get("train_config", {})
        lines += [f"## `{path.name}`: {'SkipSNN' if meta['kind'] == 'skipsnn' else 'plain SNN'} on {dataset}", "",
                  f"- Trained with: `{meta['command']}`",
                  f"- Data: {dataset} train split; held-out test split ({rows[0]['n_samples']} recordings); "
                  f"T = {tc.get('T')}, L = {tc.get('L')}, reference noise level {tc.get('noise_level')}, random shift ±{tc.get('shift')} px",
                  f"- Epochs run: {meta.get('epochs_run', len(meta.get('history', [])))}, device: {meta.get('device')}",
                  f"- Size: {path.stat().st_size / 2**20:.1f} MiB", "",
                  f"Measured with `{cmd}`:", "",
                  "| noise level | accuracy | gate forced open | state updates | gate precision | gate recall | recall, visible frames* | synops saved |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['noise_level']} | {r['accuracy']:.1%} | {r['forced_open_accuracy']:.1%} | {r['state_updates']:.3f} | "
                         f"{r['gate_precision']:.3f} | {r['gate_recall']:.3f} | {r['gate_recall_visible']:.3f} | {r['synops_saving']:.1%} |")
        lines.append("")
    (ROOT / "assets" / "MODEL_CARDS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
