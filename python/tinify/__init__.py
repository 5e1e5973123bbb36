"""tinify: learned image compression for PyTorch, with a Rust entropy-coding core.

Subpackages mirror the concepts of the documentation: :mod:`tinify.ans` (the rANS coder),
:mod:`tinify.entropy_models`, :mod:`tinify.latent_codecs`, :mod:`tinify.layers`,
:mod:`tinify.ops`, :mod:`tinify.models`, :mod:`tinify.zoo` (architectures, weights and
checkpoints), :mod:`tinify.tfy` (the ``.tfy`` file format), :mod:`tinify.train`, and the
``tinify`` command line (:mod:`tinify.cli`).

``tinify.compress(image)`` and ``tinify.decompress(data)`` turn an image into a ``.tfy`` file's
bytes and back. Subpackages are imported on first use, so that ``import tinify`` (and
``tinify --help``) does not load torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tinify._core import __version__

if TYPE_CHECKING:
    from tinify import (
        ans,
        entropy_models,
        latent_codecs,
        layers,
        models,
        ops,
        tfy,
        train,
        zoo,
    )
    from tinify.codec import compress, decompress

__all__ = [
    "__version__",
    "ans",
    "compress",
    "decompress",
    "entropy_models",
    "latent_codecs",
    "layers",
    "models",
    "ops",
    "tfy",
    "train",
    "zoo",
]

_SUBPACKAGES = {
    "ans",
    "entropy_models",
    "latent_codecs",
    "layers",
    "models",
    "ops",
    "tfy",
    "train",
    "zoo",
}
# Top-level functions and the module that owns each.
_FUNCTIONS = {"compress": "tinify.codec", "decompress": "tinify.codec"}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"tinify.{name}")
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'tinify' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
