"""The few ``torch.distributed`` calls tinify needs, usable with or without ``torchrun``.

Outside ``torchrun`` every function behaves as a group of one: rank 0 of 1, ``gather`` returns
``[obj]``, ``barrier`` does nothing. Under ``torchrun`` (the environment holds ``WORLD_SIZE``,
``RANK``, ``MASTER_ADDR``...) :func:`init_from_env` joins the process group, with the gloo
backend on CPUs and NCCL when CUDA is available.

Example::

    rank, world = init_from_env()
    mine = shard(images, rank, world)
    results = gather([evaluate(x) for x in mine])  # list of lists on rank 0, None elsewhere
    cleanup()
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import torch
import torch.distributed as dist

__all__ = [
    "barrier",
    "cleanup",
    "gather",
    "init_from_env",
    "is_main",
    "leaving",
    "rank",
    "shard",
    "world",
]

T = TypeVar("T")


def init_from_env(backend: str | None = None) -> tuple[int, int]:
    """Joins the process group described by torchrun's environment variables.

    Args:
        backend: ``"gloo"`` or ``"nccl"``; by default NCCL when CUDA is available (and each
            process then uses the GPU ``LOCAL_RANK``), gloo otherwise.

    Returns:
        ``(rank, world_size)``; ``(0, 1)`` when not started by torchrun.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1 or not dist.is_available():
        return 0, 1
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend=backend)
    return dist.get_rank(), dist.get_world_size()


def _active() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0 outside a process group)."""
    return dist.get_rank() if _active() else 0


def world() -> int:
    """The number of processes (1 outside a process group)."""
    return dist.get_world_size() if _active() else 1


def is_main() -> bool:
    """True on rank 0, the process that alone writes logs, checkpoints and results."""
    return rank() == 0


def shard(seq: Sequence[T], rank: int, world: int) -> list[T]:
    """Items ``rank, rank + world, rank + 2·world, ...`` of ``seq``: every item on exactly one
    rank, the shards' sizes differing by at most one.

    Raises:
        ValueError: if ``world < 1`` or ``rank`` is not in ``[0, world)``.
    """
    if world < 1 or not 0 <= rank < world:
        raise ValueError(
            f"rank must be in [0, world) with world >= 1, got rank={rank}, world={world}"
        )
    return list(seq[rank::world])


def gather(obj: Any) -> list[Any] | None:
    """Every rank's ``obj`` (any picklable object), in rank order, on rank 0; None on the
    other ranks. Every rank must call it. Outside a process group: ``[obj]``."""
    if not _active():
        return [obj]
    if dist.get_backend() == "nccl":
        # NCCL has no gather_object: gather everywhere, keep it on rank 0.
        objects: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(objects, obj)
        return objects if dist.get_rank() == 0 else None
    out: list[Any] | None = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(obj, out, dst=0)
    return out


def barrier() -> None:
    """Waits until every rank reaches this call (nothing outside a process group)."""
    if _active():
        dist.barrier()


def cleanup(*, wait: bool = True) -> None:
    """Leaves the process group, if one was joined.

    Args:
        wait: first wait until every rank reaches this call (the normal end of a job); False
            leaves at once, for a rank that failed while the others may never get here.
    """
    if _active():
        if wait:
            # A rank that shuts its connections down while a peer still reads its last message
            # can abort that peer in gloo's teardown (rank 0 of a torchrun test once died with
            # SIGABRT after gather): the barrier lets every rank's last exchange complete first.
            dist.barrier()
        dist.destroy_process_group()


@contextlib.contextmanager
def leaving() -> Iterator[None]:
    """Leaves the process group (if one is joined by then) when the block ends: with
    :func:`cleanup` when it ends normally, without waiting when it raises.

    Example::

        with leaving():
            Trainer(config).fit()
    """
    try:
        yield
    except BaseException:
        cleanup(wait=False)
        raise
    cleanup()
