"""Checkpoints: one file holding the config, the weights and metadata.

Loaded with ``torch.load(weights_only=True)``, so a file carrying pickled code is refused
rather than run. Every problem is reported as a ``CheckpointError`` naming the file and
what is wrong with it. Saving writes a temporary file and renames it, so a crash never
leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import tempfile
from dataclasses import asdict, fields
from pathlib import Path

import torch

from .device import default_device
from .model import SkipSNN, SkipSNNConfig

FAMILY = "skipsnn-checkpoint/"
FORMAT = FAMILY + "1"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used, with the reason."""


def save_checkpoint(model: SkipSNN, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write config + weights + meta atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {**model.meta, **(meta or {})}
    meta.setdefault("kind", "skipsnn" if model.config.controller else "snn")
    payload = {
        "format": FORMAT,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(model.config).items()},
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "meta": meta,
    }
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a checkpoint is a normal file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read(path: Path, mmap: bool = False, content: bytes | None = None) -> dict:
    """The payload of the checkpoint at ``path``, or of ``content`` (its bytes, e.g. an upload named ``path``)."""
    if content is None and not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        source = io.BytesIO(content) if content is not None else path
        payload = torch.load(source, map_location="cpu", weights_only=True, mmap=mmap and content is None)
    except pickle.UnpicklingError as e:
        found = re.search(r"(unsupported GLOBAL [\w.]+|Unsupported global: [^\n]+)", str(e))
        if found is None:  # bytes the safe unpickler cannot even parse: not a checkpoint at all
            raise CheckpointError(f"{path}: truncated or not a checkpoint file (unreadable as saved weights)") from e
        raise CheckpointError(
            f"{path}: refused, the file carries pickled objects that are not plain weights ({found.group(1)}); "
            "it was not run"
        ) from e
    except Exception as e:  # torch.load raises many kinds (RuntimeError, EOFError, struct.error, ...) for bad bytes
        detail = str(e).splitlines()[0][:80] if str(e) else ""
        raise CheckpointError(f"{path}: truncated or not a checkpoint file ({type(e).__name__}{': ' + detail if detail else ''})") from e
    found = payload.get("format") if isinstance(payload, dict) else None
    if isinstance(found, str) and found.startswith(FAMILY) and found != FORMAT:
        raise CheckpointError(
            f"{path}: written in checkpoint format {found!r}, which this version of SkipSNN Explorer cannot read "
            f"(it reads {FORMAT!r}); update the app or re-save the checkpoint with the version that wrote it"
        )
    if found != FORMAT:
        raise CheckpointError(f"{path}: not a SkipSNN checkpoint (expected format {FORMAT!r})")
    return payload


def _config(path: Path, raw) -> SkipSNNConfig:
    known = {f.name for f in fields(SkipSNNConfig)}
    if not isinstance(raw, dict) or set(raw) - known:
        raise CheckpointError(f"{path}: unknown config fields {sorted(set(raw) - known) if isinstance(raw, dict) else raw}")
    try:
        return SkipSNNConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: invalid config: {e}") from e


def read_meta(path: str | os.PathLike) -> dict:
    """A checkpoint's metadata without reading its weights (memory-mapped); weights are not validated."""
    path = Path(path)
    meta = _read(path, mmap=True).get("meta") or {}
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: metadata is not a dictionary")
    return meta


def load_checkpoint(path: str | os.PathLike, device: torch.device | str | None = None, content: bytes | None = None) -> SkipSNN:
    """The model saved at ``path``, in eval mode on ``device`` (default: CUDA if present), with ``.meta``.

    ``content``: the file's bytes when it is not on disk (an upload); ``path`` then only names it in errors.
    Either way it is read with ``weights_only=True`` and validated (config, shapes, finite weights).
    """
    path = Path(path)
    payload = _read(path, content=content)
    config = _config(path, payload.get("config"))
    state = payload.get("state_dict")
    model = SkipSNN(config)
    expected = model.state_dict()
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: no weights in the file")
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{path}: weights do not match the config (missing {missing}, unexpected {extra})")
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor) or tensor.shape != expected[name].shape:
            got = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise CheckpointError(f"{path}: weight {name!r} has shape {got}, the config needs {tuple(expected[name].shape)}")
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"{path}: weight {name!r} holds NaN or infinite values")
    model.load_state_dict({k: v.float() for k, v in state.items()})
    meta = payload.get("meta") or {}
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: metadata is not a dictionary")
    meta.setdefault("kind", "skipsnn" if config.controller else "snn")
    meta.setdefault("dataset", "unknown")
    model.meta = meta
    return model.to(device or default_device()).eval()
