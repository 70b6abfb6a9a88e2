"""Training and evaluation of SkipSNN and the plain SNN on signals buried in temporal noise.

    python -m skipsnn_core.train --dataset digits --kind skipsnn --epochs 20 --out assets/digits_skipsnn.pt
    python -m skipsnn_core.train --dataset nmnist --data-dir ../shared/data/nmnist --kind snn ...
    python -m skipsnn_core.train --preset quick --out quick.pt   # 2-3 minutes on a 2-core CPU (README)
    torchrun --nproc_per_node=2 -m skipsnn_core.train ...           # every core / GPU (README, "Training at scale")

Every epoch draws fresh noise and signal starts: each sample's from a generator seeded by (seed, epoch,
index), so a sample gets the same draw in any batch and on any rank; validation uses fixed noise.
Batches come from the split's on-disk store through a DataLoader and a DistributedSampler: under
torchrun every rank takes a disjoint share of each global batch (``--batch-size``), DDP averages the
gradients, and rank 0 alone prints, shows progress and writes files.
The loss is MSE(rate, one_hot(y)) + lambda * mean a[t] (SKIPSNN.md); the surrogate
temperature ``lens`` starts at ``--lens`` and is multiplied by ``--lens-decay`` every
``--lens-every`` epochs. After each epoch a resume file (``OUT.resume``) is written
atomically; ``--resume`` continues from it. The final checkpoint holds the figures
measured on the held-out split and the exact command.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset

from . import distributed, metrics
from .checkpoint import save_checkpoint
from .data import DATASETS, DataError, Framed, FrameSpec, Progress, frame_store, open_dataset
from .device import default_device, describe
from .model import InferenceOptions, Run, SkipSNN, SkipSNNConfig
from .noise import embed_batch


@dataclass(frozen=True)
class NoiseSpec:
    T: int = 300  # total frames
    level: int = 1  # noise event pairs per noise frame
    in_signal: bool = False  # noise inside the signal window too


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "digits"
    data_dir: str | None = None
    kind: str = "skipsnn"  # "skipsnn" | "snn"
    hidden: int = 800
    T: int = 300
    L: int = 50
    noise_level: int = 1
    lam: float = 0.5  # weight of the gate penalty
    epochs: int = 20
    lr: float = 1e-3
    batch_size: int = 64
    lens: float = 1.0
    lens_decay: float = 0.9
    lens_every: int = 10
    shift: int = 0  # random spatial shift of training signals, +-pixels (augmentation)
    max_minutes: float = 0.0  # stop after the epoch that passes this wall-clock budget (0: no limit)
    limit: int = 0  # train on the first N training recordings only (0: all); the held-out check always uses all
    seed: int = 0
    out: str = "checkpoint.pt"


# Recipes chosen by measurement (README, "Train and evaluate"). quick: on the built-in digits, a 2-core CPU trains it in
# 1.5-2.5 minutes (86-146 s over two rounds) to >= 90 % held-out accuracy with state updates <= 0.30; the gate stays open
# for two epochs, then learns to close on the noise, which is what the Train page shows a class.
PRESETS: dict[str, dict] = {
    "quick": dict(hidden=200, batch_size=32, epochs=8, lam=0.1, lr=2e-3),
}
# On a GPU a training step costs about the same for any small batch (the 300-step loop is launch-bound), so the CUDA
# variant takes fewer, larger steps: 144 instead of 360. Measured on this CPU to the same figures (96.7 % held-out
# accuracy, 0.214 state updates); its speed on a GPU is not measured yet.
CUDA_PRESETS: dict[str, dict] = {
    "quick": dict(batch_size=128, lr=4e-3, epochs=12),
}


def preset_values(name: str, device: torch.device | str | None = None) -> dict:
    """The recipe's settings, with its CUDA variant on a CUDA ``device``."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    cuda = device is not None and torch.device(device).type == "cuda"
    return {**PRESETS[name], **(CUDA_PRESETS.get(name, {}) if cuda else {})}


def preset(name: str, device: torch.device | str | None = None, **changes) -> TrainConfig:
    """TrainConfig of a named recipe for ``device``, with ``changes`` on top (the CLI's other flags)."""
    return replace(TrainConfig(**preset_values(name, device)), **changes)


def command_line(cfg: TrainConfig, preset_name: str | None = None) -> str:
    """The CLI command that trains ``cfg``: the preset's name plus every flag that differs from its CPU recipe
    (so a GPU run's command names its batch size and rate, and trains the same network anywhere)."""
    base = TrainConfig(**PRESETS[preset_name]) if preset_name else TrainConfig()
    words = ["python", "-m", "skipsnn_core.train"] + (["--preset", preset_name] if preset_name else [])
    for key, value in asdict(cfg).items():
        if key == "out" or value != getattr(base, key):  # a value equal to the recipe's is left out (and so None is)
            words += ["--" + key.replace("_", "-"), str(value)]
    return shlex.join(words)


class Stopped(Exception):
    """Training was stopped by its caller (``Hooks.stop``); nothing was saved."""


@dataclass(frozen=True)
class Hooks:
    """How a caller (the Train page) follows a run and stops it; every field optional.

    frames(done, total): recordings framed so far; batch(done, total): training batches done over the whole run;
    epoch(row, model, test): after each epoch's validation, its history row, the model (eval mode) and the
    held-out split; stop(): True stops the run at the next recording or batch, raising ``Stopped``.
    """

    frames: Progress | None = None
    batch: Callable[[int, int], None] | None = None
    epoch: Callable[[dict, SkipSNN, Framed], None] | None = None
    stop: Callable[[], bool] | None = None

    def check(self) -> None:
        if self.stop is not None and self.stop():
            raise Stopped()


def lens_at(cfg: TrainConfig, epoch: int) -> float:
    return cfg.lens * cfg.lens_decay ** (epoch // cfg.lens_every)


def shift_frames(x: torch.Tensor, sensor: tuple[int, int, int], max_shift: int, g: torch.Generator) -> torch.Tensor:
    """Move each sample's frames (B, L, N) by a random (dx, dy) in [-max_shift, max_shift], zero fill."""
    if max_shift <= 0:
        return x
    W, H, P = sensor
    B, L, _ = x.shape
    img = x.reshape(B, L, P, H, W)
    out = torch.zeros_like(img)
    d = torch.randint(-max_shift, max_shift + 1, (B, 2), generator=g).tolist()
    for b, (dx, dy) in enumerate(d):
        src_y, dst_y = slice(max(0, -dy), H - max(0, dy)), slice(max(0, dy), H - max(0, -dy))
        src_x, dst_x = slice(max(0, -dx), W - max(0, dx)), slice(max(0, dx), W - max(0, -dx))
        out[b, :, :, dst_y, dst_x] = img[b, :, :, src_y, src_x]
    return out.reshape(B, L, -1)


def load_split(
    dataset: str, data_dir: str | None, split: str, spec: FrameSpec, quiet: bool = False, download: bool = False,
    progress: Progress | None = None,
) -> Framed:
    """A split as frames left on disk (``frame_store``, read by index): a bar on stderr as recordings are framed
    unless ``quiet``, and ``progress(done, total)`` called for each."""
    ds = open_dataset(dataset, data_dir, split, download=download)
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(ds), desc=f"frames {dataset}/{split}", unit="rec", leave=False, file=sys.stderr)

    def framing(done: int, total: int) -> None:
        if bar:
            bar.update(1)
        if progress:
            progress(done, total)

    data = frame_store(ds, spec, progress=framing)
    if bar:
        bar.close()
    return data


class Recordings(Dataset):
    """A framed split for a DataLoader: item i is (i, frames (L, N) uint8, label), read from disk when the split
    is a store. The index travels with the frames: it seeds the sample's noise."""

    def __init__(self, data: Framed):
        self.data = data

    def __len__(self) -> int:
        return len(self.data.y)

    def __getitem__(self, i: int) -> tuple[int, torch.Tensor, int]:
        return i, torch.from_numpy(self.data.x[i]), int(self.data.y[i])


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of one training sample's draw (shift, start, noise) in one epoch."""
    return ((seed * 100_003 + epoch) * 1_000_003 + index) % 2**63


def training_batch(signals: torch.Tensor, rows: Sequence[int], cfg: TrainConfig, epoch: int,
                   sensor: tuple[int, int, int]) -> torch.Tensor:
    """Signals (B, L, N) of the samples ``rows`` shifted (``cfg.shift``) and placed in fresh noise: x (B, T, N) float.

    Each sample's draw comes from its own generator (``sample_seed``), never from the batch's order: a 2-rank
    run's halves of a global batch are exactly the rows a 1-rank run makes of it.
    """
    xs = []
    for sig, i in zip(signals, rows):
        g = torch.Generator().manual_seed(sample_seed(cfg.seed, epoch, int(i)))
        one = shift_frames(sig[None].float(), sensor, cfg.shift, g)
        xs.append(embed_batch(one, cfg.T, level=cfg.noise_level, sensor=sensor, generator=g)[0])
    return torch.cat(xs)


def noisy_batch(data: Framed, rows: range, noise: NoiseSpec, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Samples ``rows`` of a split in fixed noise: x (B, T, N) uint8 0/1 and the signal mask (B, T).

    Sample i's noise and start come from its own generator, seeded by (seed, i), so a sample
    looks the same whatever the batch size, the subset or the order it is evaluated in.
    """
    xs, masks = [], []
    for i in rows:
        g = torch.Generator().manual_seed(seed * 1_000_003 + i)
        sig = torch.from_numpy(data.x[i : i + 1])
        x, mask, _ = embed_batch(sig, noise.T, level=noise.level, in_signal=noise.in_signal, sensor=data.sensor_size, generator=g,
                                 dtype=torch.uint8)  # 0/1 frames: a quarter of the memory of floats, and faster to count
        xs.append(x)
        masks.append(mask)
    return torch.cat(xs), torch.cat(masks)


@dataclass
class _Tally:
    """Running sums of one network's held-out run: the gated one at one threshold, or the same weights forced open."""

    correct: int = 0
    silent: int = 0
    ops: list = field(default_factory=list)
    updates: list = field(default_factory=list)
    precision: list = field(default_factory=list)
    recall: list = field(default_factory=list)
    visible_recall: list = field(default_factory=list)

    def add(self, model: SkipSNN, run: Run, y: torch.Tensor, events: torch.Tensor, mask: torch.Tensor, visible: torch.Tensor,
            with_controller: bool) -> None:
        predicted = metrics.decode(run.rates.cpu())
        self.correct += int((predicted == y).sum())  # SILENT (-1) never equals a label
        self.silent += int((predicted == metrics.SILENT).sum())
        gate = run.gate.cpu()
        self.ops.append(model.synaptic_ops(events, gate, run.hidden_spikes.cpu(), with_controller).sum(1))
        gate = gate.bool()
        self.updates.append(metrics.state_updates(gate))
        p, r = metrics.gate_precision_recall(gate, mask)
        self.precision.append(p)
        self.recall.append(r)
        self.visible_recall.append(metrics.gate_precision_recall(gate, visible)[1][visible.any(1)])

    @classmethod
    def joined(cls, parts: Sequence["_Tally"]) -> "_Tally":
        """One tally of ``parts`` in their order: the per-sample lists concatenated, the counts summed."""
        whole = cls()
        for part in parts:
            whole.correct += part.correct
            whole.silent += part.silent
            for name in ("ops", "updates", "precision", "recall", "visible_recall"):
                getattr(whole, name).extend(getattr(part, name))
        return whole


class _NoisyBatches(Dataset):
    """Evaluation batch b: rows b*B .. of a split in fixed noise (``noisy_batch``), as (b, x, mask, y)."""

    def __init__(self, data: Framed, n: int, noise: NoiseSpec, seed: int, batch_size: int):
        self.data, self.n, self.noise, self.seed, self.batch_size = data, n, noise, seed, batch_size

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __getitem__(self, b: int):
        rows = range(b * self.batch_size, min((b + 1) * self.batch_size, self.n))
        x, mask = noisy_batch(self.data, rows, self.noise, self.seed)
        return b, x, mask, torch.from_numpy(self.data.y[rows.start : rows.stop])


def evaluate(
    model: SkipSNN,
    data: Framed,
    noise: NoiseSpec,
    *,
    seed: int = 1234,
    batch_size: int = 64,
    controller_theta: float | None = None,
    oracle: bool = False,
    limit: int | None = None,
) -> dict:
    """Accuracy, state updates, gate precision/recall and synaptic-op saving on fixed noise.

    A silent sample (no output spike) has no prediction and counts as wrong; ``silent`` and
    ``forced_open_silent`` say how many there were. ``oracle``: also run the same weights with the
    gate open exactly on the signal window (``oracle_accuracy``). ``limit``: the first samples only.
    """
    return evaluate_thresholds(model, data, noise, (controller_theta,), seed=seed, batch_size=batch_size, oracle=oracle,
                               limit=limit)[0]


@torch.no_grad()
def evaluate_thresholds(
    model: SkipSNN,
    data: Framed,
    noise: NoiseSpec,
    thetas: Sequence[float | None],
    *,
    seed: int = 1234,
    batch_size: int = 64,
    oracle: bool = False,
    limit: int | None = None,
    progress: Progress | None = None,
) -> list[dict]:
    """``evaluate`` at each gate threshold, equal to calling it once per threshold, but the noise, the input
    projection and the runs no threshold changes (forced open, oracle) are made once per batch.
    ``progress(done, total)`` after each batch (of this rank's).

    Under torchrun each rank runs a disjoint share of the batches (a DistributedSampler over batch numbers),
    each batch exactly as one process would form it; the per-batch tallies are gathered and joined in batch
    order, so every figure equals a single-process evaluation's bit for bit."""
    dev, cfg = model.device, model.config
    n = len(data.y) if limit is None else min(limit, len(data.y))
    batches = _NoisyBatches(data, n, noise, seed, batch_size)
    sampler = DistributedSampler(batches, distributed.world(), distributed.rank(), shuffle=False) if distributed.world() > 1 else None
    parts: dict[int, tuple[list[_Tally], _Tally, int]] = {}  # batch number -> its gated tallies, forced one, oracle hits
    for done, (b, x, mask, y) in enumerate(DataLoader(batches, batch_size=None, sampler=sampler), 1):
        gated, forced, oracle_correct = [_Tally() for _ in thetas], _Tally(), 0
        settings = [(None, InferenceOptions(controller_theta=theta)) for theta in thetas]
        if cfg.controller:  # a plain SNN's gate never closes: its own run is the forced-open one
            settings.append(("open", InferenceOptions()))
        if oracle:  # open exactly on the signal
            settings.append((mask.long().to(dev), InferenceOptions()))
        runs, events = model.simulate_each(x, settings)
        events = events.cpu()  # (B, T) input events per frame
        visible = metrics.visible_signal(mask, events, noise.level)
        for tally in gated:
            tally.add(model, next(runs), y, events, mask, visible, cfg.controller)
        if cfg.controller:
            forced.add(model, next(runs), y, events, mask, visible, False)
        if oracle:
            oracle_correct += int((metrics.decode(next(runs).rates.cpu()) == y).sum())
        parts[int(b)] = (gated, forced, oracle_correct)
        if progress:
            progress(done, len(sampler) if sampler is not None else len(batches))
    for rank_parts in distributed.gather(parts) if distributed.world() > 1 else []:
        parts.update(rank_parts)  # a batch the sampler gave two ranks (padding) is the same batch twice
    order = [parts[b] for b in sorted(parts)]
    gated = [_Tally.joined([part[0][j] for part in order]) for j in range(len(thetas))]
    forced = _Tally.joined([part[1] for part in order]) if cfg.controller else gated[0]
    oracle_correct = sum(part[2] for part in order)
    open_ops = torch.cat(forced.ops).double().sum()
    return [{
        "accuracy": tally.correct / n,
        "state_updates": float(torch.cat(tally.updates).mean()),
        "oracle_state_updates": metrics.oracle_state_updates(data.x.shape[1], noise.T),
        "gate_precision": float(torch.cat(tally.precision).mean()),
        "gate_recall": float(torch.cat(tally.recall).mean()),
        "gate_recall_visible": float(torch.cat(tally.visible_recall).mean()),
        "synops_saving": float(1 - torch.cat(tally.ops).double().sum() / open_ops),
        "forced_open_accuracy": forced.correct / n,
        **({"oracle_accuracy": oracle_correct / n} if oracle else {}),
        "silent": tally.silent,
        "forced_open_silent": forced.silent,
        "n_samples": n,
        "noise_level": noise.level,
    } for tally in gated]


def train(
    cfg: TrainConfig, command: str = "", resume: bool = False, quiet: bool = False, download: bool = False,
    hooks: Hooks = Hooks(), resume_file: bool = True,
) -> tuple[SkipSNN, dict]:
    """Train, evaluate on the held-out split and save ``cfg.out`` (atomically, with figures and command).

    ``resume_file``: write ``OUT.resume`` after each epoch (the CLI's --resume); the Train page runs without.
    A run stopped through ``hooks`` raises ``Stopped`` before anything is written to ``cfg.out``.
    Under torchrun (``distributed.init()`` first) every rank calls this: ``cfg.batch_size`` is the global batch,
    split evenly over the ranks; rank 0 alone prints and writes; every rank returns the same model and figures.
    """
    from tqdm import tqdm

    world, rank = distributed.world(), distributed.rank()
    quiet = quiet or not distributed.is_main()
    if cfg.limit < 0:
        raise ValueError(f"--limit {cfg.limit}: the number of training recordings must be 0 (all) or more")
    if cfg.batch_size % world:
        raise ValueError(f"--batch-size {cfg.batch_size} is the global batch: it must divide evenly over {world} processes")
    torch.manual_seed(cfg.seed)
    device = default_device()
    spec = FrameSpec(L=cfg.L)

    def framing(done: int, total: int) -> None:
        hooks.check()
        if hooks.frames:
            hooks.frames(done, total)

    train_data = load_split(cfg.dataset, cfg.data_dir, "train", spec, quiet, download, framing)
    test_data = load_split(cfg.dataset, cfg.data_dir, "test", spec, quiet, download, framing)
    W, H, P = train_data.sensor_size
    n_classes = int(max(train_data.y.max(), test_data.y.max())) + 1
    n_classes = max(n_classes, 10) if cfg.dataset in ("digits", "nmnist") else n_classes
    model_cfg = SkipSNNConfig(n_inputs=W * H * P, n_hidden=cfg.hidden, n_classes=n_classes, controller=cfg.kind == "skipsnn")
    model = SkipSNN(model_cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    noise = NoiseSpec(cfg.T, cfg.noise_level)
    history: list[dict] = []
    start_epoch = 0
    resume_path = Path(cfg.out + ".resume")
    state = None
    if resume and distributed.is_main() and resume_path.is_file():
        state = torch.load(resume_path, map_location="cpu", weights_only=True)
    state = distributed.broadcast(state)  # rank 0's file: other machines need not see it
    if state is not None:
        if state["train_config"] != asdict(cfg):
            raise SystemExit(f"{resume_path}: was written by a different training configuration; remove it or match it")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        history, start_epoch = state["history"], state["epoch"] + 1
        if not quiet:
            print(f"resuming from {resume_path} at epoch {start_epoch + 1}", file=sys.stderr)
    n_train = min(cfg.limit or len(train_data.y), len(train_data.y))
    if not quiet:
        ranks = f", {world} processes" if world > 1 else ""
        print(f"training {cfg.kind} on {cfg.dataset} ({n_train} train, {len(test_data.y)} test) on {describe(device)}{ranks}",
              file=sys.stderr)

    # Every parameter is in every step's graph (the controller's hidden input is detached, not its weights), but
    # find_unused_parameters makes DDP reduce a parameter some rank's step left out instead of waiting for it.
    net = model if world == 1 else DistributedDataParallel(
        model, device_ids=[device.index or torch.cuda.current_device()] if device.type == "cuda" else None,
        find_unused_parameters=True)
    recordings = Recordings(train_data)
    if cfg.limit:  # a first look in seconds: the first N recordings (each keeps its index, so its noise seed)
        recordings = Subset(recordings, range(n_train))
    # shuffled as before: randperm(n) from a generator seeded seed * 100_003 + epoch, then rank r takes rows r::world
    sampler = DistributedSampler(recordings, world, rank, shuffle=True, seed=cfg.seed * 100_003)
    loader = DataLoader(recordings, batch_size=cfg.batch_size // world, sampler=sampler)
    started = time.perf_counter()
    per_epoch = len(loader)  # batches
    for epoch in range(start_epoch, cfg.epochs):
        spent = bool(cfg.max_minutes and time.perf_counter() - started > 60 * cfg.max_minutes)
        if distributed.broadcast(spent):  # rank 0's clock decides for all, or the ranks would part ways
            if not quiet:
                print(f"stopping after {epoch} epochs: --max-minutes {cfg.max_minutes} spent", file=sys.stderr)
            break
        model.train()
        lens = lens_at(cfg, epoch)
        sampler.set_epoch(epoch)
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False, disable=quiet, file=sys.stderr)
        t0, total_loss, total_gate, seen = time.perf_counter(), 0.0, 0.0, 0
        for k, (idx, sig, y) in enumerate(bar):
            hooks.check()
            x = training_batch(sig, idx.tolist(), cfg, epoch, train_data.sensor_size)
            y = y.to(device)
            run = net(x.to(device), lens=lens)
            loss = F.mse_loss(run.rates, F.one_hot(y, n_classes).float())
            if model_cfg.controller:
                loss = loss + cfg.lam * run.penalty()
            opt.zero_grad(set_to_none=True)
            loss.backward()  # DDP: gradients averaged over ranks, i.e. those of the global batch's mean loss
            opt.step()
            loss_value, open_share = loss.item(), run.gate.mean().item()
            total_loss += loss_value * len(idx)
            total_gate += open_share * len(idx)
            seen += len(idx)
            bar.set_postfix(loss=f"{loss_value:.4f}", open=f"{open_share:.2f}")
            if hooks.batch:
                hooks.batch(epoch * per_epoch + k + 1, cfg.epochs * per_epoch)
        train_seconds = time.perf_counter() - t0
        total_loss, total_gate, seen = distributed.total([total_loss, total_gate, seen])
        model.eval()
        val = evaluate(model, test_data, noise, batch_size=cfg.batch_size)
        row = {
            "epoch": epoch + 1, "lens": lens, "loss": total_loss / seen, "train_open": total_gate / seen,
            "seconds": round(time.perf_counter() - t0, 1), "samples_per_s": round(seen / max(train_seconds, 1e-9), 1),
            **{k: val[k] for k in ("accuracy", "state_updates", "gate_precision", "gate_recall", "synops_saving")},
        }
        history.append(row)
        if not quiet:
            print(json.dumps(row), file=sys.stderr)
        if hooks.epoch:
            hooks.epoch(row, model, test_data)
        if resume_file and distributed.is_main():
            _save_resume(resume_path, model, opt, cfg, epoch, history)

    hooks.check()
    model.eval()
    figures = evaluate(model, test_data, noise, batch_size=cfg.batch_size)
    meta = {
        "dataset": cfg.dataset,
        "kind": cfg.kind,
        "command": command,
        "train_config": asdict(cfg),
        "split": "test (held out)",
        "noise": asdict(noise),
        "signal_frames": cfg.L,
        "figures": figures,
        "history": history,
        "epochs_run": len(history),
        "device": describe(device),
        **({"processes": world} if world > 1 else {}),
    }
    if distributed.is_main():
        save_checkpoint(model, cfg.out, meta)
        resume_path.unlink(missing_ok=True)
    distributed.barrier()  # no rank returns before the checkpoint is there
    return model, figures


def _save_resume(path: Path, model, opt, cfg: TrainConfig, epoch: int, history: list) -> None:
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"model": model.state_dict(), "optimizer": opt.state_dict(), "train_config": asdict(cfg), "epoch": epoch, "history": history},
        tmp,
    )
    os.replace(tmp, path)


def _parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(prog="python -m skipsnn_core.train", description="Train SkipSNN or the plain SNN.")
    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="a measured recipe (quick: 2-3 minutes on a 2-core CPU); the other flags override it")
    p.add_argument("--dataset", choices=DATASETS, default=d.dataset)
    p.add_argument("--data-dir", default=None, help="local data folder (nmnist, dvsgesture, shd)")
    p.add_argument("--kind", choices=("skipsnn", "snn"), default=d.kind)
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--T", type=int, default=d.T, help="frames per sample")
    p.add_argument("--L", type=int, default=d.L, help="signal frames (1 ms each)")
    p.add_argument("--noise-level", type=int, default=d.noise_level, help="noise event pairs per noise frame")
    p.add_argument("--lam", type=float, default=d.lam, help="gate penalty weight lambda")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help="the global batch: under torchrun each of the N processes takes batch-size / N of it")
    p.add_argument("--lens", type=float, default=d.lens, help="initial surrogate temperature")
    p.add_argument("--lens-decay", type=float, default=d.lens_decay)
    p.add_argument("--lens-every", type=int, default=d.lens_every)
    p.add_argument("--shift", type=int, default=d.shift, help="random spatial shift augmentation, pixels")
    p.add_argument("--max-minutes", type=float, default=d.max_minutes, help="training time budget (0: none)")
    p.add_argument("--limit", type=int, default=d.limit,
                   help="train on the first N training recordings only (0: all); the held-out figures use the whole test split")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", default=d.out)
    p.add_argument("--resume", action="store_true", help="continue from OUT.resume if present")
    p.add_argument("--download", action="store_true", help="let tonic download DVS Gesture / SHD into --data-dir (online)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--backend", choices=("auto", "gloo", "nccl"), default="auto",
                   help="torchrun's process group: auto is nccl on GPUs, gloo on CPUs ($SKIPSNN_DIST_BACKEND also sets it)")
    return p


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    chosen = parser.parse_known_args(argv)[0].preset
    if chosen:
        parser.set_defaults(**preset_values(chosen, default_device()))  # flags given still win
    args = vars(parser.parse_args(argv))
    resume, quiet, download = args.pop("resume"), args.pop("quiet"), args.pop("download")
    backend = args.pop("backend")
    args.pop("preset")
    cfg = TrainConfig(**args)
    command = "python -m skipsnn_core.train " + shlex.join(argv)
    distributed.init(backend)  # under torchrun: join its process group; else world size 1
    printing = distributed.is_main()
    try:
        _, figures = train(cfg, command=command, resume=resume, quiet=quiet, download=download)
    except (DataError, ValueError) as e:  # bad data folders, a sensor the reference noise cannot use
        raise SystemExit(f"error: {e}") from None
    finally:
        distributed.close()
    if printing:
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
