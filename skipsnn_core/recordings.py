"""A user's own recording: bytes of an N-MNIST ``.bin``/``.bs2`` file or a NumPy ``.npy`` array of events.

Everything is read from memory (an upload never touches the disk) and checked like the shared
recordings: events inside the sensor, time running forward, and something in the signal window.
Errors are DataErrors that name the file and the problem. AEDAT4 is not read: tonic reads it
only through an extra native package (``aedat``), which the app does not install.
"""

from __future__ import annotations

import io

import numpy as np

from .data import EVENT_DTYPE, NMNIST_SENSOR, DataError, FrameSpec, check_events, frames

MAX_BYTES = 64 * 2**20
KINDS = (".bin", ".bs2", ".npy")


def decode_nmnist(raw: bytes) -> np.ndarray:
    """N-MNIST's native format: 5 bytes an event, big-endian x, y, polarity bit and a 23-bit µs timestamp."""
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 5).astype(np.uint32)
    events = np.empty(len(b), EVENT_DTYPE)
    events["x"], events["y"], events["p"] = b[:, 0], b[:, 1], (b[:, 2] >> 7) == 1
    events["t"] = ((b[:, 2] & 127) << 16) | (b[:, 3] << 8) | b[:, 4]
    return events


def read_recording(raw: bytes, name: str, sensor_size: tuple[int, int, int] = NMNIST_SENSOR) -> np.ndarray:
    """Events (tonic's x, y, t, p layout) of an uploaded recording called ``name``."""
    kind = name[name.rfind("."):].lower() if "." in name else ""
    if kind not in KINDS:
        hint = " (AEDAT4 is not supported: convert it to .npy with tonic)" if kind in (".aedat4", ".aedat") else ""
        raise DataError(f"{name}: not a recording this app reads; give an N-MNIST .bin/.bs2 file or a .npy event array{hint}")
    if len(raw) > MAX_BYTES:
        raise DataError(f"{name}: {len(raw) / 2**20:.1f} MB is over the {MAX_BYTES // 2**20} MB limit")
    if not raw:
        raise DataError(f"{name}: empty file (0 bytes)")
    if kind == ".npy":
        try:
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
        except ValueError as e:
            raise DataError(f"{name}: not a NumPy array file ({e})") from None
        fields = set(arr.dtype.names or ())
        if not {"x", "y", "t", "p"} <= fields:
            raise DataError(f"{name}: a .npy recording needs a structured array with fields x, y, t, p (tonic's layout); "
                            f"found {sorted(fields) if fields else arr.dtype}")
        events = np.empty(len(arr), EVENT_DTYPE)
        for f in "xytp":
            events[f] = arr[f]
    else:
        if len(raw) % 5:
            raise DataError(f"{name}: not an N-MNIST recording (size {len(raw)} bytes is not a multiple of 5 bytes per event); "
                            "truncated or another format?")
        events = decode_nmnist(raw)
    check_events(events, sensor_size, name)
    return events


def recording_frames(raw: bytes, name: str, sensor_size: tuple[int, int, int] = NMNIST_SENSOR,
                     spec: FrameSpec = FrameSpec()) -> np.ndarray:
    """(L, N) signal frames of an uploaded recording; a DataError when its signal window is empty."""
    x = frames(read_recording(raw, name, sensor_size), sensor_size, spec)
    if not x.any():
        raise DataError(f"{name}: no events in the first {spec.L * spec.bin_us / 1000:g} ms, the window the signal frames are "
                        "cut from")
    return x
