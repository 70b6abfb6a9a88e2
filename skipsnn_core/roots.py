"""What the server offers: the data folders and checkpoint files a user may choose.

A link or a text box never names an arbitrary server path. Data folders must lie inside the
configured data roots, checkpoints inside the shipped ``assets/`` or the configured models
folder; paths are resolved (symlinks followed) before the check. Anything else gets the same
fixed message whether or not it exists, so the answers say nothing about the server's disk.

    SKIPSNN_DATA_ROOTS   folders separated by ':' (default: ../shared/data beside the project,
                         and <cache>/data)
    SKIPSNN_MODELS       the models folder (default: <cache>/models); training writes there
"""

from __future__ import annotations

import os
from pathlib import Path

from .data import default_cache_dir

PROJECT = Path(__file__).resolve().parents[1]
ASSETS = PROJECT / "assets"
DATA_ROOTS_ENV, MODELS_ENV = "SKIPSNN_DATA_ROOTS", "SKIPSNN_MODELS"
NOT_OFFERED = "this folder is not one the server offers"
NOT_OFFERED_FILE = "this file is not one the server offers"


class NotOffered(ValueError):
    """A path outside what the server offers, or one that is not there; the message is fixed."""


def data_roots() -> list[Path]:
    raw = os.environ.get(DATA_ROOTS_ENV, "").strip()
    roots = [Path(p) for p in raw.split(os.pathsep) if p.strip()] if raw else [
        PROJECT.parent / "shared" / "data", default_cache_dir() / "data"]
    return [r.expanduser().resolve() for r in roots]


def models_dir() -> Path:
    raw = os.environ.get(MODELS_ENV, "").strip()
    return (Path(raw).expanduser() if raw else default_cache_dir() / "models").resolve()


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _resolve(text: str, roots: list[Path]) -> Path | None:
    """The existing path ``text`` names inside a root (absolute, or relative to a root, first root first), else None."""
    text = text.strip()
    if not text or "\x00" in text:
        return None
    given = Path(text)
    candidates = [given] if given.is_absolute() else [root / given for root in roots]
    for candidate in candidates:
        try:
            resolved = candidate.resolve()
        except (OSError, RuntimeError):  # symlink loops, unreadable parents
            continue
        if _inside(resolved, roots) and resolved.exists():
            return resolved
    return None


def offered_folder(text: str) -> Path:
    """The data folder ``text`` names, inside the data roots and present; else ``NotOffered``."""
    path = _resolve(text, data_roots())
    if path is None or not path.is_dir():
        raise NotOffered(NOT_OFFERED)
    return path


def offered_checkpoint(text: str) -> Path:
    """The checkpoint file ``text`` names, inside assets/ or the models folder and present; else ``NotOffered``."""
    path = _resolve(text, [ASSETS.resolve(), models_dir()])
    if path is None or not path.is_file() or path.suffix != ".pt":
        raise NotOffered(NOT_OFFERED_FILE)
    return path


def _looks_like_nmnist(folder: Path) -> bool:
    return (folder / "labels.csv").is_file() or all((folder / p).is_dir() for p in ("Train", "Test")) or all(
        (folder / "NMNIST" / p).is_dir() for p in ("Train", "Test"))


def nmnist_folders(depth: int = 3) -> dict[str, Path]:
    """{name: folder} of the N-MNIST folders under the data roots, the name relative to its root."""
    found: dict[str, Path] = {}
    for root in data_roots():
        if not root.is_dir():
            continue
        level = [root]
        for _ in range(depth + 1):
            nxt = []
            for folder in level:
                if _looks_like_nmnist(folder):
                    rel = folder.relative_to(root).as_posix()
                    found.setdefault(f"{root.name}/{rel}" if rel != "." else root.name, folder)
                    continue
                try:
                    nxt += sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
                except OSError:
                    continue
            level = nxt
    return found


def offered_checkpoints() -> dict[str, Path]:
    """{id: file}: the shipped checkpoints (id = file stem), then those in the models folder."""
    found = {p.stem: p for p in sorted(ASSETS.glob("*.pt"))}
    folder = models_dir()
    if folder.is_dir():
        for p in sorted(folder.glob("*.pt")):
            found.setdefault(p.stem, p)
    return found
