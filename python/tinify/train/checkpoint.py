"""Saving and resuming training: everything that decides the next step, in one file."""

from __future__ import annotations

import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tinify.files import atomic_write

__all__ = ["get_rng_state", "load_training_checkpoint", "save_checkpoint", "set_rng_state"]


def get_rng_state() -> dict[str, Any]:
    """The state of torch's (CPU and CUDA), numpy's and Python's global generators, as tensors,
    numbers and strings only, so that a checkpoint holding it loads with ``weights_only=True``."""
    name, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 (the global one)
    version, words, gauss_next = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "name": str(name),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {
            "version": int(version),
            "state": torch.tensor(words, dtype=torch.int64),
            "gauss_next": gauss_next,
        },
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restores what :func:`get_rng_state` returned."""
    # .cpu(): a checkpoint loaded with map_location="cuda" carries the CPU generator's state
    # there too, and torch accepts it only as a CPU tensor.
    torch.set_rng_state(state["torch"].cpu())
    n = state["numpy"]
    keys = n["keys"].cpu().numpy().astype(np.uint32)
    np.random.set_state((n["name"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))  # noqa: NPY002
    p = state["python"]
    random.setstate((p["version"], tuple(int(w) for w in p["state"].tolist()), p["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Writes ``state`` with ``torch.save`` atomically (a temporary file, then a rename), so an
    interrupted save never leaves a truncated checkpoint behind."""
    return atomic_write(path, lambda f: torch.save(state, f))


def load_training_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Reads a checkpoint written by the training loop, with ``torch.load(weights_only=True)``:
    no code runs from the file.

    Raises:
        ValueError: if the file is not a training checkpoint (no ``step`` or ``optimizer``).
    """
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(
            f"{path} holds objects beyond tensors and plain data (a checkpoint of another "
            "program, or of tinify before 0.2, whose generator states were numpy arrays): "
            "tinify resumes only from checkpoints that load with weights_only=True"
        ) from err
    if not isinstance(state, dict) or not {"step", "state_dict", "optimizer"} <= state.keys():
        raise ValueError(
            f"{path} is not a tinify training checkpoint (it needs step, state_dict and "
            "optimizer); to start from weights only, load them into the model instead"
        )
    return state
