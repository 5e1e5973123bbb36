"""Saving and resuming training: everything that decides the next step, in one file."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["get_rng_state", "load_training_checkpoint", "save_checkpoint", "set_rng_state"]


def get_rng_state() -> dict[str, Any]:
    """The state of torch's (CPU and CUDA), numpy's and Python's global generators."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),  # noqa: NPY002 (the global one, by design)
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restores what :func:`get_rng_state` returned."""
    # .cpu(): a checkpoint loaded with map_location="cuda" carries the CPU generator's state
    # there too, and torch accepts it only as a CPU tensor.
    torch.set_rng_state(state["torch"].cpu())
    np.random.set_state(state["numpy"])  # noqa: NPY002
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Writes ``state`` with ``torch.save`` atomically (a temporary file, then a rename), so an
    interrupted save never leaves a truncated checkpoint behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def load_training_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Reads a checkpoint written by the training loop.

    Raises:
        ValueError: if the file is not a training checkpoint (no ``step`` or ``optimizer``).
    """
    state = torch.load(path, map_location=map_location, weights_only=False)
    if not isinstance(state, dict) or not {"step", "state_dict", "optimizer"} <= state.keys():
        raise ValueError(
            f"{path} is not a tinify training checkpoint (it needs step, state_dict and "
            "optimizer); to start from weights only, load them into the model instead"
        )
    return state
