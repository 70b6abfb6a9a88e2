"""Event datasets and events -> frames.

Every dataset yields ``(events, label)`` with events in tonic's structured layout
(``x, y, t`` in µs, ``p``), so tonic's transforms apply to all of them:

- ``BuiltinDigits``: simulated event-camera recordings of scikit-learn's 1,797 real 8x8
  handwritten digits, moved along N-MNIST's three saccades in front of a simulated 34x34
  two-polarity sensor. Ships with the package; no download.
- ``NMNISTFolder``: real N-MNIST recordings from a local folder, either a plain folder of
  ``.bin``/``.bs2`` files with a ``labels.csv`` (``filename,label``), or tonic's ``NMNIST``
  layout (``.../Train/<digit>/*.bin``, ``.../Test/<digit>/*.bin``).
- ``TonicDataset``: DVS128 Gesture and SHD through tonic's own classes.

``frames`` bins events with tonic's ``ToFrame`` (1 ms bins over the first L = 50 ms by
default, as the reference) and flattens them with channel p*H*W + y*W + x.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Literal, Protocol, Sequence

import numpy as np

EVENT_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "?")])  # tonic.io.events_struct
NMNIST_SENSOR = (34, 34, 2)
Split = Literal["train", "test", "all"]
Progress = Callable[[int, int], None]  # (done, total)


class DataError(ValueError):
    """Data that cannot be read, with the path and the layout that was expected."""


class EventDataset(Protocol):
    name: str
    sensor_size: tuple[int, int, int]  # (W, H, P), tonic's order
    labels: np.ndarray  # (n,) int
    classes: Sequence[str]

    def __len__(self) -> int: ...

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]: ...


# ---------------------------------------------------------------- events -> frames


@dataclass(frozen=True)
class FrameSpec:
    """How events become the signal frames: L bins of ``bin_us`` from t = 0, binarised."""

    L: int = 50  # signal frames (reference: 50)
    bin_us: int = 1000  # bin width in µs (reference: 1 ms)


def frames(events: np.ndarray, sensor_size: tuple[int, int, int], spec: FrameSpec = FrameSpec()) -> np.ndarray:
    """(L, P*H*W) uint8 0/1 frames of the first L bins; channel index p*H*W + y*W + x."""
    from tonic.transforms import ToFrame

    W, H, P = sensor_size
    events = events[events["t"] < spec.L * spec.bin_us]
    out = np.zeros((spec.L, P * H * W), dtype=np.uint8)
    if len(events) == 0:
        return out
    binned = ToFrame(sensor_size=sensor_size, time_window=spec.bin_us, start_time=0, end_time=spec.L * spec.bin_us)(events)
    binned = binned.reshape(binned.shape[0], -1)[: spec.L]  # (bins, P, H, W) -> (bins, N)
    out[: len(binned)] = binned > 0
    return out


# ---------------------------------------------------------------- built-in digits


@dataclass(frozen=True)
class SensorSim:
    """A simple event-camera model: log-intensity change detector per pixel."""

    contrast: float = 0.25  # log-intensity change that triggers an event
    refractory_us: int = 3000  # a pixel is silent this long after an event
    dt_us: int = 1000  # simulation step
    jitter_us: int = 1000  # event time uniform within [step, step + jitter)
    saccade_us: int = 100_000  # each of the three saccades
    amplitude: float = 3.0  # saccade length in pixels
    scale: int = 3  # 8x8 digit -> 24x24 on the 34x34 sensor


def _saccade_path(sim: SensorSim, n_steps: int) -> np.ndarray:
    """(n_steps, 2) sensor offsets (dx, dy): N-MNIST's triangle, one side per saccade."""
    a = sim.amplitude
    corners = np.array([[0.0, 0.0], [a / 2, a], [a, 0.0], [0.0, 0.0]])  # down-right, up-right, back left
    t = np.arange(n_steps) * sim.dt_us / sim.saccade_us  # in saccades
    side = np.minimum(t.astype(int), 2)
    frac = np.clip(t - side, 0, 1)[:, None]
    return corners[side] * (1 - frac) + corners[side + 1] * frac


def _shift_bilinear(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """img moved by (dx, dy) pixels, bilinear, zero outside."""
    H, W = img.shape
    ys, xs = np.arange(H)[:, None] - dy, np.arange(W)[None, :] - dx
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0

    def at(yy, xx):
        ok = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        return np.where(ok, img[np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)], 0.0)

    return (
        at(y0, x0) * (1 - fy) * (1 - fx) + at(y0, x0 + 1) * (1 - fy) * fx
        + at(y0 + 1, x0) * fy * (1 - fx) + at(y0 + 1, x0 + 1) * fy * fx
    )


def simulate_events(image: np.ndarray, rng: np.random.Generator, sim: SensorSim = SensorSim(),
                    until_us: int | None = None) -> np.ndarray:
    """Events of an 8x8 digit image (0..16) seen by a 34x34 sensor moving along three saccades.

    ``until_us``: stop simulating there. The events before it are exactly those of the whole recording
    (each step draws its jitter after the steps before it), at a fraction of the cost: the signal frames
    use the first 50 ms of a 300 ms recording.
    """
    W = H = NMNIST_SENSOR[0]
    big = np.kron(image / 16.0, np.ones((sim.scale, sim.scale)))  # nearest upsample
    big = (big + _shift_bilinear(big, 0.5, 0.5)) / 2  # soften the blocks
    canvas = np.zeros((H, W))
    o = (W - big.shape[0]) // 2 - 1
    canvas[o : o + big.shape[0], o : o + big.shape[1]] = big
    n_steps = 3 * sim.saccade_us // sim.dt_us
    path = _saccade_path(sim, n_steps)
    if until_us is not None:
        n_steps = min(n_steps, -(-until_us // sim.dt_us))  # steps starting before until_us
    log_ref = np.log(0.05 + canvas)  # every pixel starts adapted to the still image
    last = np.full((H, W), -sim.refractory_us)
    chunks = []
    for k in range(1, n_steps):
        t = k * sim.dt_us
        log_now = np.log(0.05 + _shift_bilinear(canvas, *path[k]))
        diff = log_now - log_ref
        fire = (np.abs(diff) > sim.contrast) & (t - last >= sim.refractory_us)
        y, x = np.nonzero(fire)
        if len(y):
            ev = np.empty(len(y), EVENT_DTYPE)
            ev["x"], ev["y"], ev["p"] = x, y, diff[y, x] > 0
            ev["t"] = t + rng.integers(0, sim.jitter_us, len(y))
            chunks.append(ev)
            log_ref[fire] = log_now[fire]
            last[fire] = t
    events = np.concatenate(chunks) if chunks else np.empty(0, EVENT_DTYPE)
    if until_us is not None:
        events = events[events["t"] < until_us]
    return events[np.argsort(events["t"], kind="stable")]


@lru_cache(maxsize=1)
def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.float64), d.target.astype(np.int64)


class BuiltinDigits:
    """scikit-learn's 1,797 real handwritten digits as simulated N-MNIST-like recordings.

    Split (fixed): index % 5 == 0 is the test split (360), the rest train (1,437).
    Recording i is deterministic: its jitter comes from a generator seeded with i.
    """

    name = "digits"
    sensor_size = NMNIST_SENSOR
    classes = [str(d) for d in range(10)]

    N_IMAGES = 1797  # scikit-learn's digits: fixed, so the split is known without loading them

    def __init__(self, split: Split = "train", sim: SensorSim = SensorSim()):
        idx = np.arange(self.N_IMAGES)
        keep = {"train": idx % 5 != 0, "test": idx % 5 == 0, "all": np.ones_like(idx, bool)}[split]
        self.split, self.sim = split, sim
        self.indices = idx[keep]

    @property
    def labels(self) -> np.ndarray:
        """The split's labels (loads scikit-learn's digits on first use; a cached split never needs them)."""
        return _sklearn_digits()[1][self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def image(self, i: int) -> np.ndarray:
        """The 8x8 image (0..16) behind recording i."""
        return _sklearn_digits()[0][int(self.indices[i])]

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return self.head(i, None)

    def head(self, i: int, until_us: int | None) -> tuple[np.ndarray, int]:
        """Recording i's events before ``until_us`` (all of them for None) and its label."""
        j = int(self.indices[i])
        images, targets = _sklearn_digits()
        return simulate_events(images[j], np.random.default_rng(j), self.sim, until_us), int(targets[j])

    def source_id(self) -> str:
        return f"digits:{self.split}:{self.sim}"


# ---------------------------------------------------------------- N-MNIST from a folder


def read_nmnist_file(path: Path) -> np.ndarray:
    """One N-MNIST recording (.bin/.bs2), read with tonic; every problem is a DataError naming the file."""
    from tonic.io import read_mnist_file

    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read recording ({e.strerror or e})") from e
    if len(raw) == 0:
        raise DataError(f"{path}: empty file (0 bytes), not an N-MNIST recording")
    if len(raw) % 5:
        raise DataError(f"{path}: not an N-MNIST recording (size {len(raw)} bytes is not a multiple of 5 bytes per event); "
                        "truncated or another format?")
    events = read_mnist_file(str(path), dtype=EVENT_DTYPE)
    check_events(events, NMNIST_SENSOR, str(path))
    return events


def check_events(events: np.ndarray, sensor_size: tuple[int, int, int], where: str) -> None:
    """Raise a DataError naming ``where`` when events fall outside the sensor or their timestamps go back."""
    W, H, P = sensor_size
    if len(events) == 0:
        raise DataError(f"{where}: the recording holds no events")
    x, y = events["x"].astype(np.int64), events["y"].astype(np.int64)
    outside = (x < 0) | (x >= W) | (y < 0) | (y >= H)
    if outside.any():
        k, n = int(np.argmax(outside)), int(outside.sum())
        raise DataError(f"{where}: {n} event{'s' * (n != 1)} outside the {W}x{H} sensor (first: x={x[k]}, y={y[k]}); "
                        "is this a recording of this sensor?")
    t = events["t"]
    back = np.flatnonzero(np.diff(t) < 0)
    if len(back):
        k = int(back[0]) + 1
        raise DataError(f"{where}: timestamps go backwards at event {k} ({int(t[k])} µs after {int(t[k - 1])} µs); "
                        "the recording is corrupt")
    if t[0] < 0:
        raise DataError(f"{where}: negative timestamp {int(t[0])} µs")


NMNIST_LAYOUT = (
    "a folder with labels.csv (columns filename,label) beside the .bin/.bs2 recordings it names, "
    "or tonic's NMNIST layout: <dir>/[NMNIST/]Train/<digit>/*.bin and <dir>/[NMNIST/]Test/<digit>/*.bin"
)


class NMNISTFolder:
    """Real N-MNIST recordings from a local folder (see ``NMNIST_LAYOUT``).

    Splits: with labels.csv, row i (0-based, file order) is test when i % 5 == 0 (the 1,000
    shared recordings: 800 train, 200 test); with tonic's layout, Train/ and Test/.
    """

    name = "nmnist"
    sensor_size = NMNIST_SENSOR
    classes = [str(d) for d in range(10)]

    def __init__(self, root: str | os.PathLike, split: Split = "train"):
        self.root, self.split = Path(root).expanduser(), split
        if not self.root.is_dir():
            raise DataError(f"{self.root}: no such folder; expected {NMNIST_LAYOUT}")
        files, labels = self._index()
        if not files:
            raise DataError(f"{self.root}: no N-MNIST recordings found for split {split!r}; expected {NMNIST_LAYOUT}")
        self.files, self.labels = files, np.asarray(labels, dtype=np.int64)

    def _index(self) -> tuple[list[Path], list[int]]:
        csv_path = self.root / "labels.csv"
        if csv_path.is_file():
            rows = self._read_csv(csv_path)
            pick = {"train": lambda i: i % 5 != 0, "test": lambda i: i % 5 == 0, "all": lambda i: True}[self.split]
            rows = [r for i, r in enumerate(rows) if pick(i)]
            return [self.root / f for f, _ in rows], [lab for _, lab in rows]
        for base in (self.root / "NMNIST", self.root):
            parts = {"train": ["Train"], "test": ["Test"], "all": ["Train", "Test"]}[self.split]
            if all((base / p).is_dir() for p in parts):
                files, labels = [], []
                for part in parts:
                    for digit in range(10):
                        found = sorted((base / part / str(digit)).glob("*.bin"))
                        files += found
                        labels += [digit] * len(found)
                return files, labels
        raise DataError(f"{self.root}: unknown layout; expected {NMNIST_LAYOUT}")

    @staticmethod
    def _read_csv(path: Path) -> list[tuple[str, int]]:
        """Rows (filename, label) of labels.csv; errors name the file and the line."""
        try:
            with path.open(newline="") as f:
                reader = csv.DictReader(f)
                if not reader.fieldnames or not {"filename", "label"} <= set(reader.fieldnames):
                    raise DataError(f"{path}: needs the columns filename,label; found {reader.fieldnames}")
                raw = [(reader.line_num, r["filename"], r["label"]) for r in reader]
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            raise DataError(f"{path}: unreadable labels file ({e})") from e
        rows, first_seen = [], {}
        for line, name, label in raw:
            if not name or label is None:
                raise DataError(f"{path}, line {line}: needs a filename and a label")
            try:
                value = int(label)
            except ValueError:
                raise DataError(f"{path}, line {line}: label {label!r} is not an integer digit") from None
            if not 0 <= value <= 9:
                raise DataError(f"{path}, line {line}: label {value} is not a digit 0-9")
            if name in first_seen:
                raise DataError(f"{path}, line {line}: {name!r} is listed again (first on line {first_seen[name]})")
            first_seen[name] = line
            rows.append((name, value))
        folder = path.parent.resolve()
        for name, _ in rows:
            file = (path.parent / name).resolve()
            if not file.is_relative_to(folder):
                raise DataError(f"{path}, line {first_seen[name]}: {name!r} points outside the folder")
            if not file.is_file():
                raise DataError(f"{path}, line {first_seen[name]}: the recording {name!r} is not in the folder")
        return rows

    def describe(self, i: int) -> str:
        return str(self.files[i])

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return read_nmnist_file(self.files[i]), int(self.labels[i])

    def source_id(self) -> str:
        # names relative to the folder and sizes: the same recordings copied elsewhere share the cache
        listing = "\n".join(f"{f.relative_to(self.root)}:{f.stat().st_size}" for f in self.files)
        return f"nmnist:{self.split}:" + hashlib.sha1(listing.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- DVS Gesture and SHD

TONIC_DATASETS = {
    # name: (tonic class, sensor size (W, H, P), classes, layout read from a local copy)
    "dvsgesture": ("DVSGesture", (128, 128, 2), 11,
                   "<dir>/DVSGesture/ibmGestureTrain|ibmGestureTest/user<NN>_<lighting>/<label>.npy (tonic's extracted layout)"),
    "shd": ("SHD", (700, 1, 1), 20, "<dir>/SHD/shd_train.h5 and shd_test.h5 (tonic's extracted layout)"),
}


class TonicDataset:
    """DVS128 Gesture or SHD from tonic's extracted folder layout under ``root``.

    The extracted files are read directly (as tonic's classes read them), so a local copy
    works without its archives; ``download=True`` asks tonic to fetch them first (online
    only). Their sensors differ from N-MNIST's, so models need their own checkpoints
    (``n_inputs`` = W*H*P), and SHD (one polarity, no image) cannot take the reference noise.
    """

    def __init__(self, name: str, root: str | os.PathLike, split: Split = "train", download: bool = False):
        if name not in TONIC_DATASETS:
            raise DataError(f"unknown dataset {name!r}; tonic-backed ones are {sorted(TONIC_DATASETS)}")
        if split == "all":
            raise DataError(f"{name}: choose split 'train' or 'test'")
        cls_name, self.sensor_size, n_classes, self.layout = TONIC_DATASETS[name]
        self.name, self.split, self.root = name, split, Path(root).expanduser()
        self.classes = [str(c) for c in range(n_classes)]
        if download:
            import tonic.datasets

            getattr(tonic.datasets, cls_name)(save_to=str(self.root), train=split == "train")
        if name == "dvsgesture":
            folder = self.root / "DVSGesture" / ("ibmGestureTrain" if split == "train" else "ibmGestureTest")
            self._files = sorted(folder.glob("user*_*/*.npy"))
            if not self._files:
                raise DataError(f"{folder}: no DVS Gesture recordings; expected {self.layout}")
            self.labels = np.array([int(f.stem) for f in self._files])
        else:
            self._h5 = self.root / "SHD" / f"shd_{split}.h5"
            if not self._h5.is_file():
                raise DataError(f"{self._h5}: not found; expected {self.layout}")
            import h5py

            try:
                with h5py.File(self._h5, "r") as f:
                    self.labels = np.asarray(f["labels"][()], dtype=np.int64)
            except (OSError, KeyError) as e:
                raise DataError(f"{self._h5}: not an SHD file ({e}); expected {self.layout}") from e

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        if self.name == "dvsgesture":
            raw = np.load(self._files[i])  # columns x, y, p, t (ms), as tonic reads them
            events = np.empty(len(raw), EVENT_DTYPE)
            events["x"], events["y"], events["p"] = raw[:, 0], raw[:, 1], raw[:, 2] > 0
            events["t"] = np.round(raw[:, 3] * 1000)
        else:
            import h5py

            with h5py.File(self._h5, "r") as f:
                times, units = f["spikes/times"][i], f["spikes/units"][i]
            events = np.zeros(len(times), EVENT_DTYPE)
            events["x"], events["t"], events["p"] = units, np.round(times * 1e6), True
        return events[np.argsort(events["t"], kind="stable")], int(self.labels[i])

    def source_id(self) -> str:
        return f"{self.name}:{self.split}:{self.root.resolve()}:{len(self)}"


def open_dataset(
    name: str, data_dir: str | os.PathLike | None = None, split: Split = "train", download: bool = False
) -> EventDataset:
    """A dataset by name: 'digits' (built in), 'nmnist' (needs data_dir), 'dvsgesture', 'shd'.

    ``download`` (DVS Gesture, SHD only) lets tonic fetch the files into data_dir first, with
    its progress bar; nothing is ever downloaded otherwise."""
    if name == "digits":
        return BuiltinDigits(split)
    if data_dir is None:
        raise DataError(f"dataset {name!r} needs a data folder")
    if name == "nmnist":
        return NMNISTFolder(data_dir, split)
    return TonicDataset(name, data_dir, split, download=download)


DATASETS = ("digits", "nmnist", *TONIC_DATASETS)


# ---------------------------------------------------------------- framed, cached


class PackedFrames:
    """A split's frames (n, L, N) uint8 0/1 left on disk, bit-packed, read by index.

    ``frames[i]`` is (L, N), ``frames[a:b]`` and ``frames[[i, j]]`` are (k, L, N): fresh arrays unpacked from
    ``os.pread`` of the rows asked for. Nothing is memory-mapped, so what a process has read is never held
    against its memory (a mapped file's resident pages count in its RSS); the page cache keeps hot rows fast.
    Pickles without its open file: DataLoader workers and other processes reopen it.
    """

    dtype = np.dtype(np.uint8)
    ndim = 3

    def __init__(self, path: Path, shape: tuple[int, int, int], offset: int):
        self.path, self.shape, self.offset = Path(path), tuple(int(v) for v in shape), int(offset)
        n, L, N = self.shape
        self._row = L * -(-N // 8)  # bytes per recording
        self._fd: int | None = None

    @classmethod
    def open(cls, path: Path, N: int) -> "PackedFrames":
        """The packed ``.npy`` (n, L, ceil(N / 8)) at ``path`` as frames of N channels."""
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)
            offset = f.tell()
        if dtype != np.uint8 or len(shape) != 3 or shape[2] != -(-N // 8):
            raise ValueError(f"{path}: not packed frames of {N} channels (shape {shape}, {dtype})")
        return cls(path, (shape[0], shape[1], N), offset)

    def __len__(self) -> int:
        return self.shape[0]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fd": None}

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    def _read(self, start: int, count: int) -> np.ndarray:
        """Rows start .. start+count-1, unpacked: (count, L, N)."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        n, L, N = self.shape
        raw = os.pread(self._fd, count * self._row, self.offset + start * self._row)
        if len(raw) != count * self._row:
            raise DataError(f"{self.path}: truncated frame store (rows {start}..{start + count - 1} of {n})")
        bits = np.frombuffer(raw, np.uint8).reshape(count, L, -1)
        return np.unpackbits(bits, axis=-1, count=N)

    def __getitem__(self, index) -> np.ndarray:
        n = self.shape[0]
        if isinstance(index, (int, np.integer)):
            i = int(index) + n if index < 0 else int(index)
            if not 0 <= i < n:
                raise IndexError(f"recording {index} of {n}")
            return self._read(i, 1)[0]
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step == 1:
                return self._read(start, max(stop - start, 0))
            index = range(start, stop, step)
        rows = [int(i) for i in np.asarray(index, dtype=np.int64).reshape(-1)]
        if not rows:
            return np.zeros((0, *self.shape[1:]), np.uint8)
        return np.stack([self[i] for i in rows])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self[:]
        return whole if dtype is None else whole.astype(dtype)


@dataclass(frozen=True)
class Framed:
    """A whole split as signal frames: ``x`` (n, L, N) uint8 0/1 and ``y`` (n,).

    ``x`` is an array in memory (``framed``) or a ``PackedFrames`` left on disk (``frame_store``); both index
    alike (``x[i]``, ``x[a:b]``, ``x.shape``)."""

    x: np.ndarray | PackedFrames
    y: np.ndarray
    sensor_size: tuple[int, int, int]


def default_cache_dir() -> Path:
    return Path(os.environ.get("SKIPSNN_CACHE", Path.home() / ".cache" / "skipsnn_explorer"))


def _cache_stem(dataset: EventDataset, spec: FrameSpec) -> str:
    """The cache's name for a split framed by ``spec``: dataset name and a digest of its source and the spec."""
    return f"{dataset.name}-" + hashlib.sha1(f"{dataset.source_id()}|{spec}|v1".encode()).hexdigest()[:20]


def _channels(dataset: EventDataset) -> int:
    W, H, P = dataset.sensor_size
    return W * H * P


def _each_frames(dataset: EventDataset, spec: FrameSpec, progress: Progress | None):
    """(frames (L, N), label) of every recording in order; a recording with nothing in the window is a DataError."""
    window_us = spec.L * spec.bin_us
    head = getattr(dataset, "head", None)  # datasets that make their events (the digits) can stop at the window
    for i in range(len(dataset)):
        events, label = head(i, window_us) if head else dataset[i]
        x = frames(events, dataset.sensor_size, spec)
        if not x.any():
            where = dataset.describe(i) if hasattr(dataset, "describe") else f"{dataset.name} recording {i}"
            raise DataError(f"{where}: no events in the first {spec.L * spec.bin_us / 1000:g} ms, the window the signal "
                            "frames are cut from")
        if progress:
            progress(i + 1, len(dataset))
        yield x, int(label)


def _read_npz(path: Path, spec: FrameSpec, N: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(bits (n, L, ceil(N/8)), y) of an .npz frame cache, None when it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            bits, y = z["bits"], z["y"]
    except (OSError, ValueError, KeyError):
        return None
    return (bits, y) if bits.ndim == 3 and bits.shape[1:] == (spec.L, -(-N // 8)) and len(y) == len(bits) else None


def framed(
    dataset: EventDataset,
    spec: FrameSpec = FrameSpec(),
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    shipped: Path | None = None,
) -> Framed:
    """Frames of every recording in ``dataset``, in memory, cached on disk (bit-packed) by source and spec.

    ``shipped``: a read-only folder of caches that came with the app (the built-in digits'
    test split), looked at first. A split already in the on-disk store (``frame_store``) is read from it.
    """
    cache_dir = cache_dir or default_cache_dir()
    stem = _cache_stem(dataset, spec)
    path = cache_dir / f"{stem}.npz"
    N = _channels(dataset)
    found = _read_npz(shipped / path.name, spec, N) if shipped else None
    if found is None:
        store = _open_store(cache_dir / f"{stem}.frames", N, dataset.sensor_size)
        if store is not None:
            return Framed(store.x[:], store.y, dataset.sensor_size)
        found = _read_npz(path, spec, N)
        if found is None:
            path.unlink(missing_ok=True)  # a broken cache is rebuilt, never trusted
    if found is not None:
        bits, y = found
        return Framed(np.unpackbits(bits, axis=-1, count=N), y, dataset.sensor_size)
    x = np.zeros((len(dataset), spec.L, N), dtype=np.uint8)
    y = np.zeros(len(dataset), dtype=np.int64)
    for i, (frames_i, label) in enumerate(_each_frames(dataset, spec, progress)):
        x[i], y[i] = frames_i, label
    _write_atomic(path, bits=np.packbits(x, axis=-1), y=y)
    return Framed(x, y, dataset.sensor_size)


# ---------------------------------------------------------------- the on-disk store: frames read by index


def frame_store(
    dataset: EventDataset,
    spec: FrameSpec = FrameSpec(),
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    shipped: Path | None = None,
) -> Framed:
    """Frames of every recording in ``dataset`` left on disk: a ``Framed`` whose ``x`` is ``PackedFrames``.

    The store is a folder ``<cache>/<dataset>-<key>.frames/`` holding ``bits.npy`` (n, L, ceil(N/8)) uint8 and
    ``y.npy`` (n,), written once: recording by recording into a temporary folder of this process's own (memory
    stays flat whatever n), then renamed into place, so readers see no store or a whole one. Framing holds an
    exclusive lock on the cache folder: of several processes starting at once (torchrun's ranks, the Train
    page and a CLI run), the first frames and the others wait, then read its store. An .npz cache of ``framed``
    (or a shipped one) is converted instead of framing again. A cache folder that cannot be written falls
    back to ``framed`` (in memory).
    """
    cache_dir = cache_dir or default_cache_dir()
    stem = _cache_stem(dataset, spec)
    final = cache_dir / f"{stem}.frames"
    N = _channels(dataset)
    store = _open_store(final, N, dataset.sensor_size)
    if store is not None:
        return store
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        lock = os.open(cache_dir, os.O_RDONLY)
    except OSError:
        return framed(dataset, spec, cache_dir, progress, shipped)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the descriptor closes, also if this process dies
        store = _open_store(final, N, dataset.sensor_size)  # framed by another process while this one waited
        if store is not None:
            return store
        shutil.rmtree(final, ignore_errors=True)  # a broken store is rebuilt, never trusted
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{stem}.", suffix=".tmp", dir=cache_dir))
        except OSError:
            return framed(dataset, spec, cache_dir, progress, shipped)
        try:
            found = _read_npz(shipped / f"{stem}.npz", spec, N) if shipped else None
            found = found if found is not None else _read_npz(cache_dir / f"{stem}.npz", spec, N)
            _write_store(tmp, len(dataset), spec, N, found, _each_frames(dataset, spec, progress))
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():  # another host on a shared folder may have renamed its own first
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        os.close(lock)
    store = _open_store(final, N, dataset.sensor_size)
    if store is None:
        raise DataError(f"{final}: the frame store just written cannot be read back")
    return store


def _write_store(folder: Path, n: int, spec: FrameSpec, N: int, found, each) -> None:
    """bits.npy and y.npy in ``folder``: from an .npz's ``found`` (bits, y), else framed one by one from ``each``."""
    width = -(-N // 8)
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False,
              "shape": (n, spec.L, width)}
    y = np.zeros(n, dtype=np.int64)
    with open(folder / "bits.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        if found is not None:
            bits, y = found
            f.write(np.ascontiguousarray(bits, dtype=np.uint8).tobytes())
        else:
            for i, (x, label) in enumerate(each):
                f.write(np.packbits(x, axis=-1).tobytes())
                y[i] = label
        f.flush()
        os.fsync(f.fileno())
    np.save(folder / "y.npy", np.asarray(y, dtype=np.int64))


def _open_store(folder: Path, N: int, sensor_size: tuple[int, int, int]) -> Framed | None:
    """The store in ``folder`` as a lazy ``Framed``; None when there is none or it does not hold n whole rows."""
    try:
        y = np.load(folder / "y.npy")
        x = PackedFrames.open(folder / "bits.npy", N)
        size = (folder / "bits.npy").stat().st_size
    except (OSError, ValueError):
        return None
    n, L, _ = x.shape
    if len(y) != n or size != x.offset + n * x._row:
        return None
    return Framed(x, y, sensor_size)


def _write_atomic(path: Path, **arrays: np.ndarray) -> None:
    """Save an .npz through a temporary file of this process's own, then rename: readers see the old
    file or the whole new one, and two processes framing the same split at once both succeed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp.npz", dir=path.parent)
    except OSError:
        return  # a read-only cache folder only costs speed
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
