"""How fast is ``SkipSNN.trace``? Ratios against baselines timed in this same process.

    python bench/inference.py [--repeats 20] [--checkpoint assets/nmnist_skipsnn.pt]

One N-MNIST-sized sample (B=1, T=300, 2312 -> 800 -> 10 + controller, everything recorded):
  ours   SkipSNN.trace: the gated run and the forced-open run, all states recorded (engine "auto":
         the numba kernels on the CPU, the Triton kernels on CUDA); also the "numpy" engine
  (a)    the plain per-step loop of bench/reference_loop.py (dense W x[t] each step), run
         twice (gated and forced open) so it does the same work as ``trace``
  (b)    the always-open network built from snnTorch's Leaky neurons, recording spikes
         and membranes
and the sweep path: a batch of 64 through ``simulate`` and ``trace``.
Medians of --repeats runs after warm-up. Prints the device.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.reference_loop import reference_run, weights_of  # noqa: E402
from skipsnn_core import SkipSNN, SkipSNNConfig, load_checkpoint  # noqa: E402
from skipsnn_core.device import describe  # noqa: E402
from skipsnn_core.noise import embed_batch  # noqa: E402


def median_seconds(fn, repeats: int, warmup: int = 2, sync=lambda: None) -> float:
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def signal_frames(n: int) -> torch.Tensor:
    """(n, 50, 2312) real N-MNIST signal frames when the shared recordings are there, else built-in digits."""
    from skipsnn_core.data import FrameSpec
    from skipsnn_core.train import load_split

    nmnist = ROOT.parent / "shared" / "data" / "nmnist"
    name, folder = ("nmnist", nmnist) if (nmnist / "labels.csv").is_file() else ("digits", None)
    data = load_split(name, folder, "test", FrameSpec(), quiet=True)
    print(f"signal: {name} test split")
    return torch.from_numpy(data.x[:n]).float()


def snntorch_always_open(model: SkipSNN):
    """The always-open network from snnTorch Leaky neurons, with the same weights."""
    import snntorch as snn

    cfg = model.config
    fc1 = torch.nn.Linear(cfg.n_inputs, cfg.n_hidden)
    fc2 = torch.nn.Linear(cfg.n_hidden, cfg.n_classes)
    with torch.no_grad():
        fc1.weight.copy_(model.w_in.detach().cpu().T)
        fc1.bias.copy_(model.b_in.detach().cpu())
        fc2.load_state_dict(model.fc_out.state_dict())
    lif1 = snn.Leaky(beta=cfg.beta, threshold=cfg.theta, reset_mechanism="zero")
    lif2 = snn.Leaky(beta=cfg.beta, threshold=cfg.theta, reset_mechanism="zero")

    @torch.no_grad()
    def run(x: torch.Tensor):  # x (T, N)
        mem1, mem2 = lif1.init_leaky(), lif2.init_leaky()
        spk1_rec, mem1_rec, spk2_rec, mem2_rec = [], [], [], []
        for t in range(x.shape[0]):
            spk1, mem1 = lif1(fc1(x[t]), mem1)
            spk2, mem2 = lif2(fc2(spk1), mem2)
            spk1_rec.append(spk1)
            mem1_rec.append(mem1)
            spk2_rec.append(spk2)
            mem2_rec.append(mem2)
        return torch.stack(spk2_rec).sum(0) / x.shape[0]

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--checkpoint", default=str(ROOT / "assets" / "nmnist_skipsnn.pt"))
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (the app runs with 1)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    if Path(args.checkpoint).is_file():
        model = load_checkpoint(args.checkpoint)
        print(f"model: {args.checkpoint}")
    else:
        torch.manual_seed(0)
        model = SkipSNN(SkipSNNConfig()).to(torch.device("cuda" if torch.cuda.is_available() else "cpu")).eval()
        print("model: untrained (no checkpoint found)")
    device = model.device
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    print(f"device: {describe(device)}; baselines (a) and (b) run on the CPU; torch {torch.__version__}")

    g = torch.Generator().manual_seed(0)
    signals = signal_frames(64)
    x64, _, _ = embed_batch(signals, 300, level=1, generator=g)
    x1 = x64[:1]
    print(f"sample: {int(x1.count_nonzero())} events in {x1.shape[1]} frames; gate open "
          f"{model.trace(x1).gate.float().mean():.1%} of steps")

    ours = median_seconds(lambda: model.trace(x1), args.repeats, sync=sync)
    numpy_engine = median_seconds(lambda: model.trace(x1, engine="numpy"), max(3, args.repeats // 3)) \
        if device.type == "cpu" else None
    w = weights_of(model)
    xc = x1[0]

    def plain_loop():
        reference_run(w, xc)
        reference_run(w, xc, override=torch.ones(xc.shape[0]))

    base_a = median_seconds(plain_loop, max(3, args.repeats // 3))
    snn_run = snntorch_always_open(model)
    base_b = median_seconds(lambda: snn_run(xc), max(3, args.repeats // 3))

    x64d = x64.to(device)
    with torch.no_grad():
        sweep = median_seconds(lambda: model.simulate(x64d), max(3, args.repeats // 3), sync=sync)
    trace64 = median_seconds(lambda: model.trace(x64d), 3, warmup=1, sync=sync)

    ms = lambda s: f"{1000 * s:8.2f} ms"  # noqa: E731
    print()
    print(f"trace, B=1                         {ms(ours)}")
    if numpy_engine is not None:
        print(f"trace, B=1, numpy engine           {ms(numpy_engine)}   ratio = {numpy_engine / ours:5.1f}x")
    print(f"(a) plain per-step loop, x2 runs   {ms(base_a)}   ratio (a)/ours = {base_a / ours:5.1f}x  (goal >= 40x)")
    print(f"(b) snnTorch Leaky, always open    {ms(base_b)}   ratio (b)/ours = {base_b / ours:5.1f}x  (goal >= 40x)")
    print(f"simulate, B=64 (sweep path)        {ms(sweep)}   {ms(sweep / 64)} per sample (goal <= 0.5 ms); "
          f"(a)/per-sample = {base_a / 2 / (sweep / 64):5.1f}x")
    print(f"trace, B=64 (all recorded)         {ms(trace64)}   {ms(trace64 / 64)} per sample")
    if device.type == "cuda":
        sweep_gpu(model, signals, sync)


def sweep_gpu(model: SkipSNN, signals: torch.Tensor, sync) -> None:
    """The sweep goal on the GPU: 360 samples x 9 noise levels x (gated + forced open) <= 1 s."""
    g = torch.Generator().manual_seed(1)
    reps = signals.repeat(6, 1, 1)[:360]
    batches = [embed_batch(reps, 300, level=level, generator=g)[0].to(model.device) for level in range(9)]
    sync()

    def run():
        with torch.no_grad():
            for x in batches:
                model.simulate(x)
                model.simulate(x, gate_override="open")

    seconds = median_seconds(run, 3, warmup=1, sync=sync)
    print(f"sweep, 360 samples x 9 noise levels x (gated + forced open) on the GPU: {seconds:6.2f} s (goal <= 1 s)")


if __name__ == "__main__":
    main()
