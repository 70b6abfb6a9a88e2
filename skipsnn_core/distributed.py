"""Runs over several processes, GPUs and machines, as torchrun starts them; thin over ``torch.distributed``.

    torchrun --nproc_per_node=2 -m skipsnn_core.train ...       # every core (gloo) or every GPU (nccl)
    torchrun --nnodes=2 --node_rank=0 --nproc_per_node=1 --rdzv-backend=c10d --rdzv-endpoint=HOST:PORT -m ...

Rank, world size and the process group come from torch and the environment torchrun sets (RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, ...). A run that torchrun did not start goes through the same code
with world size 1 and no process group. Nothing here launches processes or reduces by hand: the
collectives are torch's.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import torch
import torch.distributed as dist

from .device import default_device

Backend = Literal["auto", "gloo", "nccl"]
BACKEND_ENV = "SKIPSNN_DIST_BACKEND"  # overrides "auto" as --backend does


def pick_backend(backend: Backend = "auto") -> str:
    """nccl when this process computes on a GPU, gloo on CPUs; ``$SKIPSNN_DIST_BACKEND`` or an explicit name wins."""
    if backend == "auto":
        backend = os.environ.get(BACKEND_ENV, "").strip() or ("nccl" if default_device().type == "cuda" else "gloo")
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"unknown process-group backend {backend!r}; choose gloo or nccl")
    return backend


def init(backend: Backend = "auto") -> None:
    """Join torchrun's process group when torchrun started this process; else nothing (world size 1).

    On nccl each process takes the GPU of its LOCAL_RANK, so ``default_device()`` ("cuda") is that GPU.
    """
    if dist.is_initialized() or "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return
    backend = pick_backend(backend)
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend)


def close() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def world() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def is_main() -> bool:
    """Rank 0: the one process that prints, shows progress and writes files."""
    return rank() == 0


def barrier() -> None:
    if world() > 1:
        dist.barrier()


def gather(obj: Any) -> list[Any]:
    """Every rank's ``obj`` (picklable), in rank order, on every rank."""
    if world() == 1:
        return [obj]
    out: list[Any] = [None] * world()
    dist.all_gather_object(out, obj)
    return out


def broadcast(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (a decision all ranks must share, e.g. to stop)."""
    if world() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def total(values: list[float]) -> list[float]:
    """Each value summed over ranks (float64)."""
    if world() == 1:
        return list(values)
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()
