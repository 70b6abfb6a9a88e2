"""Training runs in the background, for the Train page (no Streamlit here).

A ``Board`` is shared by every session of a server. It runs at most ``limit`` trainings at once; later ones wait
in a first-come queue. Each owner (a browser session) has at most one run queued or running. A run trains in a
thread of its own through ``train.train`` with ``Hooks``: the page polls ``Job.snapshot()`` for progress, the
history and the gate of one fixed validation sample after every epoch, and ``Job.stop()`` ends it at the next
batch. A run stops by itself at the board's wall-clock cap (after the epoch that passes it: what was trained is
saved and the snapshot says so). A stopped or failed run writes nothing: the checkpoint is saved atomically at the
very end, into the models folder, where the sidebar lists it.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from .data import Framed
from .model import SkipSNN
from .train import Hooks, NoiseSpec, Stopped, TrainConfig, command_line, noisy_batch, train

State = Literal["queued", "framing", "training", "done", "stopped", "failed"]
ACTIVE: tuple[State, ...] = ("queued", "framing", "training")

PROBE_SAMPLE = 0  # the held-out sample whose gate the page redraws after every epoch
PROBE_SEED = 1234  # evaluate's noise seed: the probe is the sample exactly as validation saw it
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class BoardError(ValueError):
    """A run the board will not start, with the reason to show."""


@dataclass(frozen=True)
class Probe:
    """The fixed validation sample after one epoch: the gate learning where to look."""

    epoch: int
    gate: np.ndarray  # (T,) bool, the frames admitted
    controller_u: np.ndarray  # (T,) controller membrane
    signal: np.ndarray  # (T,) bool, where the digit is
    theta: float  # the controller's threshold
    prediction: int  # metrics.SILENT when no output neuron spiked
    label: int


@dataclass(frozen=True)
class Snapshot:
    """A run as the page shows it, copied under the job's lock."""

    id: int
    state: State
    config: TrainConfig
    name: str
    queue_position: int  # 1 = next to start; 0 when not queued
    framed: tuple[int, int]  # recordings framed, of
    batches: tuple[int, int]  # training batches done, of
    elapsed_s: float  # since training started (the queue does not count)
    history: tuple[dict, ...]
    probes: tuple[Probe, ...]
    message: str  # why it ended (done, stopped, failed, capped)
    path: str | None  # the checkpoint, once saved
    figures: dict | None  # held-out figures of the saved checkpoint
    command: str

    @property
    def fraction(self) -> float:
        done, total = self.batches
        return done / total if total else 0.0

    @property
    def seconds_left(self) -> float | None:
        """Linear in batches (validation included in the pace); None until the first batch."""
        done, total = self.batches
        if self.state != "training" or done == 0:
            return None
        return self.elapsed_s / done * (total - done)


@dataclass(eq=False)
class Job:
    board: Board
    owner: str
    config: TrainConfig
    name: str
    id: int = field(default_factory=itertools.count(1).__next__)
    state: State = "queued"
    framed: tuple[int, int] = (0, 0)
    batches: tuple[int, int] = (0, 0)
    started: float | None = None
    ended: float | None = None
    history: list = field(default_factory=list)
    probes: list = field(default_factory=list)
    message: str = ""
    path: str | None = None
    figures: dict | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def command(self) -> str:
        """The CLI command that trains the same network (saving beside the caller, not in the server's folder)."""
        return command_line(replace(self.config, out=f"{self.name}.pt"), "quick")

    def stop(self) -> None:
        """Stop at the next recording or batch (or leave the queue); nothing is saved."""
        self._stop.set()
        self.board._wake()

    def snapshot(self) -> Snapshot:
        with self._lock:
            now = self.ended or time.monotonic()
            return Snapshot(
                id=self.id, state=self.state, config=self.config, name=self.name,
                queue_position=self.board._position(self), framed=self.framed, batches=self.batches,
                elapsed_s=now - self.started if self.started else 0.0,
                history=tuple(self.history), probes=tuple(self.probes), message=self.message, path=self.path,
                figures=self.figures, command=self.command,
            )

    def wait(self, timeout: float | None = None) -> bool:
        """Until the run ends (tests, scripts); True if it did."""
        self.board._threads[self.id].join(timeout)
        return self.state not in ACTIVE

    def _set(self, **values) -> None:
        with self._lock:
            for k, v in values.items():
                setattr(self, k, v)

    def _probe(self, row: dict, model: SkipSNN, test: Framed) -> None:
        noise = NoiseSpec(self.config.T, self.config.noise_level)
        x, mask = noisy_batch(test, range(PROBE_SAMPLE, PROBE_SAMPLE + 1), noise, PROBE_SEED)
        trace = model.trace(x)
        probe = Probe(
            epoch=row["epoch"], gate=trace.gate[0].numpy().astype(bool), controller_u=trace.controller_u[0].numpy(),
            signal=mask[0].numpy().astype(bool), theta=trace.controller_theta,
            prediction=int(trace.prediction[0]), label=int(test.y[PROBE_SAMPLE]),
        )
        with self._lock:
            self.history.append(dict(row))
            self.probes.append(probe)

    def _frames(self, done: int, total: int) -> None:
        self._set(state="framing", framed=(done, total))

    def _batch(self, done: int, total: int) -> None:
        with self._lock:
            if self.state != "training":
                self.state, self.started = "training", time.monotonic()
            self.batches = (done, total)

    def _run(self) -> None:
        if not self.board._take_slot(self):
            self._set(state="stopped", message="Left the queue before starting; nothing was trained.",
                      ended=time.monotonic())
            return
        try:
            cap = self.board.cap_minutes
            cfg = replace(self.config, max_minutes=cap, out=str(self.board.models_dir / f"{self.name}.pt"))
            hooks = Hooks(frames=self._frames, batch=self._batch, epoch=self._probe, stop=self._stop.is_set)
            self._set(state="framing")
            _, figures = train(cfg, command=self.command, quiet=True, hooks=hooks, resume_file=False)
            epochs = len(self.history)
            capped = epochs < cfg.epochs
            self._set(state="done", path=cfg.out, figures=figures, message=(
                f"Stopped at the {cap:g}-minute cap after {epochs} of {cfg.epochs} epochs; saved what was trained."
                if capped else f"Finished {epochs} epochs."))
        except Stopped:
            self._set(state="stopped", message=f"Stopped during epoch {len(self.history) + 1}; nothing was saved.")
        except Exception as e:  # noqa: BLE001 - any failure ends this run only, with its reason, and writes nothing
            self._set(state="failed", message=f"{type(e).__name__}: {e}")
        finally:
            self._set(ended=time.monotonic())
            self.board._release(self)


class Board:
    """At most ``limit`` trainings at once on this server, one per owner, a first-come queue for the rest."""

    def __init__(self, models_dir: Path, limit: int = 2, cap_minutes: float = 10.0):
        self.models_dir, self.limit, self.cap_minutes = Path(models_dir), limit, cap_minutes
        self._cond = threading.Condition()
        self._jobs: dict[int, Job] = {}
        self._queue: list[Job] = []
        self._running: set[int] = set()
        self._threads: dict[int, threading.Thread] = {}

    @classmethod
    def from_env(cls, models_dir: Path) -> Board:
        """SKIPSNN_TRAININGS (runs at once, default 2) and SKIPSNN_TRAIN_MINUTES (cap per run, default 10)."""
        return cls(models_dir, int(os.environ.get("SKIPSNN_TRAININGS", 2)), float(os.environ.get("SKIPSNN_TRAIN_MINUTES", 10)))

    def check_name(self, name: str) -> str:
        """The file stem a run saves under: letters, digits, '_', '-', '.', not taken in the models folder."""
        name = name.strip()
        if not NAME.fullmatch(name):
            raise BoardError("Name the checkpoint with letters, digits, '_', '-' or '.' (up to 64, no spaces).")
        taken = {j.name for j in self._jobs.values() if j.state in ACTIVE}
        if name in taken or (self.models_dir / f"{name}.pt").exists():
            raise BoardError(f"A checkpoint named '{name}' exists or is being trained; choose another name.")
        return name

    def submit(self, owner: str, config: TrainConfig, name: str) -> Job:
        with self._cond:
            mine = self.job_of(owner)
            if mine is not None and mine.state in ACTIVE:
                raise BoardError("This session is already training; stop that run first (one training per session).")
            job = Job(self, owner, config, self.check_name(name))
            self._jobs[job.id] = job
            self._queue.append(job)
            thread = threading.Thread(target=job._run, name=f"skipsnn-train-{job.id}", daemon=True)
            self._threads[job.id] = thread
        thread.start()
        return job

    def job_of(self, owner: str) -> Job | None:
        """The owner's latest run."""
        with self._cond:
            mine = [j for j in self._jobs.values() if j.owner == owner]
        return mine[-1] if mine else None

    def active(self) -> tuple[int, int]:
        """(running, queued) on this server."""
        with self._cond:
            return len(self._running), len(self._queue)

    def _position(self, job: Job) -> int:
        with self._cond:
            return self._queue.index(job) + 1 if job in self._queue else 0

    def _take_slot(self, job: Job) -> bool:
        """Wait until the job is first in the queue and a slot is free (True), or it was stopped (False)."""
        with self._cond:
            while not job._stop.is_set() and not (self._queue[0] is job and len(self._running) < self.limit):
                self._cond.wait()
            self._queue.remove(job)
            if job._stop.is_set():
                self._cond.notify_all()
                return False
            self._running.add(job.id)
            return True

    def _release(self, job: Job) -> None:
        with self._cond:
            self._running.discard(job.id)
            self._cond.notify_all()

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()
