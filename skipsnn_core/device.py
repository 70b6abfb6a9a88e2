"""Where the core computes: CUDA when present, else CPU; ``SKIPSNN_DEVICE`` overrides."""

from __future__ import annotations

import os

import torch

DEVICE_ENV = "SKIPSNN_DEVICE"


def default_device() -> torch.device:
    """``$SKIPSNN_DEVICE`` if set (e.g. ``cpu``, ``cuda:1``), else ``cuda`` when available, else ``cpu``."""
    wanted = os.environ.get(DEVICE_ENV, "").strip()
    if wanted:
        device = torch.device(wanted)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"{DEVICE_ENV}={wanted!r} but CUDA is not available on this machine")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe(device: torch.device) -> str:
    """A short human name for the device, e.g. 'cuda (NVIDIA H100)' or 'cpu (2 threads)'."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"
