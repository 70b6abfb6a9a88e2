"""How long does a full noise sweep take? 360 held-out digits x 9 noise levels x (gated + forced open + oracle).

    python3 bench/sweep.py [--threads 1] [--plain] [--theta-samples 60]

Prints the seconds for the sweep (goal on this 2-core CPU: <= 20 s for 360 x 9), per noise level, and, as a
baseline in the same process, the same work through the "numpy" engine. Then the threshold sweep (18 thresholds,
one shared pass) against evaluate called once per threshold, in the same process, and checks their figures agree.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skipsnn_core import load_checkpoint  # noqa: E402
from skipsnn_core.data import FrameSpec, framed, open_dataset  # noqa: E402
from skipsnn_core.kernels import warm_up  # noqa: E402
from skipsnn_core.sweep import LEVELS, THETAS, noise_sweep, threshold_sweep  # noqa: E402
from skipsnn_core.train import NoiseSpec, evaluate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--plain", action="store_true", help="also the plain SNN line (as the Sweeps page draws it)")
    ap.add_argument("--theta-samples", type=int, default=60, help="samples in the threshold sweep (tour step 5: 60)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warm_up()
    model = load_checkpoint(ROOT / "assets" / "digits_skipsnn.pt")
    plain = load_checkpoint(ROOT / "assets" / "digits_snn.pt") if args.plain else None
    data = framed(open_dataset("digits", None, "test"), FrameSpec(), shipped=ROOT / "assets" / "frames")
    noise_sweep(model, data, (1,), limit=64)  # warm-up
    t0 = time.perf_counter()
    rows = noise_sweep(model, data, LEVELS, plain=plain)
    seconds = time.perf_counter() - t0
    print(f"device {model.device}, torch threads {args.threads}")
    print(f"noise sweep, {rows[0]['n_samples']} samples x {len(LEVELS)} levels x (gated + forced open + oracle"
          f"{' + plain SNN' if plain else ''}): {seconds:.1f} s (goal <= 20 s), {seconds / len(LEVELS):.2f} s per level")
    import skipsnn_core.model as model_module

    def numpy_engine_level():
        original = model_module._engine_for
        model_module._engine_for = lambda engine, device, autograd: "numpy"
        try:
            t = time.perf_counter()
            noise_sweep(model, data, (1,))
            return time.perf_counter() - t
        finally:
            model_module._engine_for = original

    base = numpy_engine_level()
    print(f"baseline, one level through the numpy engine: {base:.2f} s; compiled is {base / (seconds / len(LEVELS)):.1f}x faster")
    print("accuracy by noise level:", " ".join(f"{r['noise_level']}:{r['accuracy']:.3f}" for r in rows))

    # The threshold axis (Sweeps page, tour step 5): one shared pass against evaluate called once per threshold.
    t = time.perf_counter()
    shared = threshold_sweep(model, data, THETAS, level=1, limit=args.theta_samples)
    shared_s = time.perf_counter() - t
    t = time.perf_counter()
    each = [evaluate(model, data, NoiseSpec(300, 1), controller_theta=theta, oracle=True, limit=args.theta_samples)
            for theta in THETAS]
    each_s = time.perf_counter() - t
    assert [{k: v for k, v in r.items() if k != "theta"} for r in shared] == each, "the shared pass changed a figure"
    print(f"threshold sweep, {shared[0]['n_samples']} samples x {len(THETAS)} thresholds: {shared_s:.1f} s; one evaluate per "
          f"threshold (baseline): {each_s:.1f} s; shared pass {each_s / shared_s:.1f}x faster, same figures")


if __name__ == "__main__":
    main()
