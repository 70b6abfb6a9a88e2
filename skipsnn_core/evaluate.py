"""Evaluate a checkpoint on a dataset split buried in temporal noise.

    python -m skipsnn_core.evaluate --checkpoint assets/nmnist_skipsnn.pt --dataset nmnist \\
        --data-dir ../shared/data/nmnist [--split test] [--noise-level 1] [--json]
    python -m skipsnn_core.evaluate ... --sweep 0,1,2,4      # the same over several noise levels
    torchrun --nproc_per_node=2 -m skipsnn_core.evaluate ...  # batches shared over processes, same figures

Prints accuracy, state updates (and the oracle L/T), gate precision and recall, and the
synaptic-operation saving against the always-open network with the same weights. ``--neurobench``: also
the NeuroBench harness's own metrics on the same samples (skipsnn_core/harness.py).
"""

from __future__ import annotations

import argparse
import json
import sys

from . import distributed
from .checkpoint import CheckpointError, load_checkpoint
from .data import DATASETS, DataError, FrameSpec
from .harness import NeuroBenchMissing, require_neurobench
from .model import SkipSNN
from .train import NoiseSpec, evaluate, load_split

KEYS = ("accuracy", "state_updates", "gate_precision", "gate_recall", "synops_saving")
JSON_KEYS = (*KEYS, "noise_level", "oracle_state_updates", "forced_open_accuracy", "silent", "forced_open_silent", "n_samples",
             "gate_recall_visible")


def check_fits(model: SkipSNN, sensor_size: tuple[int, int, int], dataset: str) -> None:
    """Raise a clear error when a checkpoint cannot read a dataset's frames."""
    W, H, P = sensor_size
    if model.config.n_inputs != W * H * P:
        raise DataError(
            f"the checkpoint expects {model.config.n_inputs} input channels but {dataset} frames have "
            f"{W * H * P} ({W}x{H}x{P}); it was trained on {model.meta.get('dataset', 'another dataset')!r}: "
            "use a checkpoint trained on this dataset"
        )


def run(args: argparse.Namespace) -> list[dict]:
    model = load_checkpoint(args.checkpoint)
    data = load_split(args.dataset, args.data_dir, args.split, FrameSpec(L=model.meta.get("signal_frames", 50)),
                      quiet=args.json or not distributed.is_main())
    check_fits(model, data.sensor_size, args.dataset)
    levels = [int(v) for v in args.sweep.split(",")] if args.sweep else [args.noise_level]
    T = model.meta.get("noise", {}).get("T", 300) if args.T is None else args.T
    results = []
    for level in levels:
        figures = evaluate(model, data, NoiseSpec(T, level), seed=args.seed, controller_theta=args.controller_theta,
                           oracle=args.oracle, limit=args.limit)
        if args.neurobench and distributed.is_main():  # NeuroBench's harness on the same samples, once (rank 0; the
            # package is optional, so imported here)
            from .harness import report

            figures["neurobench"] = report(model, data, NoiseSpec(T, level), seed=args.seed,
                                           controller_theta=args.controller_theta, limit=args.limit)
        results.append(figures)
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m skipsnn_core.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--dataset", choices=DATASETS, required=True)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--split", choices=("train", "test", "all"), default="test")
    p.add_argument("--noise-level", type=int, default=1, help="noise event pairs per noise frame")
    p.add_argument("--sweep", default=None, help="comma-separated noise levels, e.g. 0,1,2,4")
    p.add_argument("--T", type=int, default=None, help="frames per sample (default: as trained)")
    p.add_argument("--controller-theta", type=float, default=None, help="gate threshold at inference")
    p.add_argument("--seed", type=int, default=1234, help="noise seed")
    p.add_argument("--oracle", action="store_true", help="also the same weights with the gate open exactly on the signal")
    p.add_argument("--limit", type=int, default=None, help="the first N samples of the split only")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument("--backend", choices=("auto", "gloo", "nccl"), default="auto",
                   help="under torchrun: the process group (auto: nccl on GPUs, gloo on CPUs)")
    p.add_argument("--neurobench", action="store_true",
                   help="also NeuroBench's own metrics, counted by its hooks (needs: pip install --no-deps -r requirements-neurobench.txt)")
    args = p.parse_args(argv)
    distributed.init(args.backend)  # under torchrun each rank evaluates a share of the batches; figures are joined
    printing = distributed.is_main()
    try:
        if args.neurobench:
            require_neurobench()  # before any work: a missing package is said at once, with the install command
        results = run(args)
    except (CheckpointError, DataError, NeuroBenchMissing) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        distributed.close()
    if not printing:
        return 0
    if args.json:
        rows = [{k: r[k] for k in (*JSON_KEYS, "oracle_accuracy", "neurobench") if k in r} for r in results]
        print(json.dumps(rows if args.sweep else rows[0]))
        return 0
    print(f"{args.checkpoint} on {args.dataset}/{args.split}, {results[0]['n_samples']} samples")
    print(f"{'noise':>5} {'accuracy':>9} {'open acc':>9} {'updates':>8} {'oracle':>7} {'precision':>9} {'recall':>7} "
          f"{'recall*':>7} {'synops saved':>12} {'silent':>6}")
    for r in results:
        print(
            f"{r['noise_level']:>5} {r['accuracy']:>9.1%} {r['forced_open_accuracy']:>9.1%} {r['state_updates']:>8.3f} "
            f"{r['oracle_state_updates']:>7.3f} {r['gate_precision']:>9.3f} {r['gate_recall']:>7.3f} "
            f"{r['gate_recall_visible']:>7.3f} {r['synops_saving']:>12.1%} {r['silent']:>6}"
        )
    print("silent: samples with no output spike at all; they have no prediction and count as wrong")
    print("recall*: recall over the signal frames holding more events than a noise frame can (> 2 x noise level)")
    if args.neurobench:
        from .harness import format_report

        for r in results:
            print(f"\nnoise level {r['noise_level']}: " + format_report(r["neurobench"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
