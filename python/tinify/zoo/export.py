"""Writing checkpoints: a model's weights in torch.hub's layout (``NAME-<sha256[:8]>.pth.tar``),
and a checkpoint's CDF tables rebuilt (the library side of ``tinify update``)."""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path
from typing import Any

from tinify.files import atomic_write
from tinify.zoo.checkpoint import load_checkpoint, model_from_state_dict, read_file

__all__ = ["export_checkpoint", "update_checkpoint"]

_FILE_SUFFIXES = (".pth.tar", ".pth", ".pt", ".tar", ".ckpt")
_HASH_SUFFIX = re.compile(r"-[0-9a-f]{8}$")


def export_checkpoint(model: Any, directory: str | os.PathLike[str], name: str) -> Path:
    """Saves ``model``'s state_dict as ``DIRECTORY/NAME-<sha256[:8]>.pth.tar``, the layout
    torch.hub expects (its hash check reads the 8 hex digits), written atomically.

    Args:
        model: a model (its ``state_dict()`` is saved, on the CPU) or a state_dict.
        directory: where to write (created if missing).
        name: the file name's stem; a trailing ``.pth.tar`` is dropped.

    Returns:
        The path written.

    Raises:
        ValueError: if ``name`` is empty or holds a path separator.
    """
    import torch

    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    for suffix in _FILE_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if not name or "/" in name or os.sep in name or name in (".", ".."):
        raise ValueError(f"invalid checkpoint name {name!r}: a file name stem, without directories")
    state = model.state_dict() if hasattr(model, "state_dict") else dict(model)
    state = {k: v.detach().cpu() for k, v in state.items()}
    # The name holds the digest of the bytes, so they are made before the file is written.
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    return atomic_write(Path(directory) / f"{name}-{digest[:8]}.pth.tar", lambda f: f.write(data))


def _stem(path: Path) -> str:
    name = path.name
    for suffix in _FILE_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return _HASH_SUFFIX.sub("", name) or "model"


def update_checkpoint(
    path: str | os.PathLike[str],
    arch: str | None = None,
    *,
    directory: str | os.PathLike[str] | None = None,
    name: str | None = None,
    update: bool = True,
) -> Path:
    """Rebuilds a checkpoint's CDF tables and saves it in torch.hub's layout: the library side
    of ``tinify update`` (CompressAI's ``update_model``).

    Loads ``path`` (:func:`load_checkpoint`), runs ``update(force=True)`` and writes
    ``DIRECTORY/NAME-<sha256[:8]>.pth.tar`` (:func:`export_checkpoint`).

    Args:
        path: the checkpoint (a training checkpoint is fine).
        arch: its architecture, if the keys do not tell.
        directory: where to write; default: the checkpoint's directory.
        name: the new file's stem; default: the checkpoint's, less any hash suffix.
        update: False saves the tables as they are (CompressAI's ``--no-update``).

    Returns:
        The path written.

    Raises:
        FileNotFoundError, ValueError: as :func:`load_checkpoint`.
    """
    path = Path(path)
    if update:
        model = load_checkpoint(path, arch)
        model.update(force=True)
    else:
        model = model_from_state_dict(
            read_file(path, "cpu"), arch, source=str(path), build_tables=False
        )
    return export_checkpoint(
        model, path.parent if directory is None else directory, name or _stem(path)
    )
