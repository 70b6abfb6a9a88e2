"""Training at scale: memory that does not grow with the recordings, and samples/s over processes.

    python3 bench/scale.py [--work DIR] [--sizes 6000,60000] [--test 1000]

1. Writes N-MNIST-layout folders (tonic's ``Train/<digit>/*.bin``, ``Test/<digit>/*.bin``, N-MNIST's 5-byte
   events) from the built-in digits simulator: each of scikit-learn's 1,797 digits is simulated once over the
   first 60 ms (the signal window is 50 ms), and recording k is digit k % 1797 with its event times jittered
   afresh by a generator seeded k (the simulator's only randomness). The largest folder is generated once and
   kept under --work (default: $TMPDIR/skipsnn_scale); the smaller ones link to its first files. Not committed.
2. Trains one epoch on each folder (``python -m skipsnn_core.train``, a fresh frame cache, so framing is
   measured too) and samples the process tree's RSS with psutil every 0.1 s: peak per process and in all.
3. Trains one epoch of the smallest folder under torchrun with 1 process x 1 thread and with 2 x 1, the same
   global batch, and prints the ratio of the training samples per second (the history's ``samples_per_s``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skipsnn_core.data import EVENT_DTYPE, SensorSim, _sklearn_digits, simulate_events  # noqa: E402

TRAIN = ["--dataset", "nmnist", "--hidden", "64", "--T", "60", "--L", "50", "--epochs", "1", "--batch-size", "64",
         "--lr", "0.005", "--quiet"]


def encode(events: np.ndarray) -> bytes:
    """N-MNIST's 5-byte events: x, y, polarity in bit 7 and the time's high 7 bits, then its low 16 bits."""
    t = events["t"].astype(np.uint32)
    raw = np.empty((len(events), 5), np.uint8)
    raw[:, 0], raw[:, 1] = events["x"], events["y"]
    raw[:, 2] = (events["p"].astype(np.uint32) << 7) | ((t >> 16) & 0x7F)
    raw[:, 3], raw[:, 4] = (t >> 8) & 0xFF, t & 0xFF
    return raw.tobytes()


def generate(root: Path, n_train: int, n_test: int) -> float:
    """Write the folder (if not there yet); seconds it took (0 when it was there)."""
    done = root / "complete"
    if done.is_file():
        return 0.0
    started = time.perf_counter()
    images, labels = _sklearn_digits()
    sim = SensorSim()
    skeletons = []  # per digit: events with their step times, jitter not yet drawn
    for j in range(len(images)):
        ev = simulate_events(images[j], np.random.default_rng(j), sim, until_us=60_000)
        ev["t"] -= ev["t"] % sim.dt_us
        skeletons.append(ev)
    for part, count, offset in (("Train", n_train, 0), ("Test", n_test, n_train)):
        for d in range(10):
            (root / part / str(d)).mkdir(parents=True, exist_ok=True)
        for k in range(offset, offset + count):
            j = k % len(images)
            ev = skeletons[j].copy()
            ev["t"] += np.random.default_rng(k).integers(0, sim.jitter_us, len(ev))
            ev = ev[np.argsort(ev["t"], kind="stable")]
            (root / part / str(labels[j]) / f"{k:06d}.bin").write_bytes(encode(ev))
    done.write_text("ok\n")
    return time.perf_counter() - started


def linked(big: Path, root: Path, n_train: int) -> Path:
    """A folder of the first n_train training recordings of ``big`` (and all its test ones), as symlinks."""
    if (root / "complete").is_file():
        return root
    for part in ("Train", "Test"):
        for d in range(10):
            (root / part / str(d)).mkdir(parents=True, exist_ok=True)
    for f in sorted((big / "Train").glob("*/*.bin"), key=lambda p: p.name)[:n_train]:
        (root / "Train" / f.parent.name / f.name).symlink_to(f)
    for f in (big / "Test").glob("*/*.bin"):
        (root / "Test" / f.parent.name / f.name).symlink_to(f)
    (root / "complete").write_text("ok\n")
    return root


def watch(cmd: list[str], env: dict) -> tuple[int, float, float, float]:
    """Run cmd; (returncode, seconds, peak RSS of one process, peak RSS of the tree), RSS in GB."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peaks = {"one": 0, "all": 0}

    def sample() -> None:
        top = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [top, *top.children(recursive=True)]
                rss = [p.memory_info().rss for p in tree]
            except psutil.Error:
                continue
            peaks["one"], peaks["all"] = max(peaks["one"], *rss), max(peaks["all"], sum(rss))
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, err = proc.communicate()
    thread.join()
    if proc.returncode:
        print(err[-2000:], file=sys.stderr)
    return proc.returncode, time.perf_counter() - started, peaks["one"] / 1e9, peaks["all"] / 1e9


def history(path: Path) -> dict:
    return torch.load(path, weights_only=True)["meta"]["history"][-1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "skipsnn_scale")
    p.add_argument("--sizes", default="6000,60000", help="training recordings per folder")
    p.add_argument("--test", type=int, default=1000, help="test recordings (the same in every folder)")
    p.add_argument("--throughput-only", action="store_true", help="skip the memory runs (their frame caches must be there)")
    args = p.parse_args()
    sizes = sorted(int(v) for v in args.sizes.split(","))
    big = args.work / f"nmnist-{sizes[-1]}"
    seconds = generate(big, sizes[-1], args.test)
    total = sizes[-1] + args.test
    print(f"generated {total} recordings in {seconds:.0f} s" if seconds else f"{big}: generated before (kept)")
    folders = {n: (big if n == sizes[-1] else linked(big, args.work / f"nmnist-{n}", n)) for n in sizes}

    env = {**os.environ, "OMP_NUM_THREADS": "1", "SKIPSNN_DEVICE": "cpu", "PYTHONPATH": str(ROOT)}
    print(f"\none epoch, {' '.join(TRAIN)}, 1 thread, a fresh frame cache (framing included)")
    print(f"{'train recordings':>16} {'seconds':>8} {'peak RSS':>9} {'samples/s':>10}")
    for n, folder in ({} if args.throughput_only else folders).items():
        cache = args.work / f"cache-{n}"
        subprocess.run(["rm", "-rf", str(cache)], check=True)
        out = args.work / f"rss-{n}.pt"
        rc, secs, one, _ = watch([sys.executable, "-m", "skipsnn_core.train", *TRAIN, "--data-dir", str(folder),
                                  "--out", str(out)], {**env, "SKIPSNN_CACHE": str(cache)})
        rate = history(out)["samples_per_s"] if rc == 0 else float("nan")
        print(f"{n:>16} {secs:>8.0f} {one:>8.2f}G {rate:>10.1f}" + ("" if rc == 0 else f"  (failed: {rc})"))

    n = sizes[0]
    print(f"\none epoch of {n} recordings under torchrun, global batch 64, 1 thread per process (cached frames)")
    rates = {}
    for procs in (1, 2):
        out = args.work / f"procs-{procs}.pt"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", "-m", "skipsnn_core.train", *TRAIN, "--data-dir", str(folders[n]), "--out", str(out)]
        rc, secs, one, whole = watch(cmd, {**env, "SKIPSNN_CACHE": str(args.work / f"cache-{n}")})
        rates[procs] = history(out)["samples_per_s"] if rc == 0 else float("nan")
        print(f"{procs} x 1 thread: {rates[procs]:.1f} samples/s ({secs:.0f} s in all, peak RSS {one:.2f} GB per process, "
              f"{whole:.2f} GB with torchrun's agent)")
    print(f"2 processes / 1 process: {rates[2] / rates[1]:.2f}x (goal >= 1.6x); on {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
