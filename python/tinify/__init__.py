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
        datasets,
        entropy_models,
        latent_codecs,
        layers,
        losses,
        models,
        ops,
        optimizers,
        registry,
        tfy,
        train,
        transforms,
        typing,
        zoo,
    )
    from tinify.codec import compress, decompress

__all__ = [
    "__version__",
    "ans",
    "available_entropy_coders",
    "compress",
    "datasets",
    "decompress",
    "entropy_models",
    "get_entropy_coder",
    "latent_codecs",
    "layers",
    "losses",
    "models",
    "ops",
    "optimizers",
    "registry",
    "set_entropy_coder",
    "tfy",
    "train",
    "transforms",
    "typing",
    "zoo",
]

_SUBPACKAGES = {
    "ans",
    "datasets",
    "entropy_models",
    "latent_codecs",
    "layers",
    "losses",
    "models",
    "ops",
    "optimizers",
    "registry",
    "tfy",
    "train",
    "transforms",
    "typing",
    "version",
    "zoo",
}
# Top-level functions and the module that owns each.
_FUNCTIONS = {"compress": "tinify.codec", "decompress": "tinify.codec"}


# CompressAI's entropy-coder switch. tinify has one coder, rANS ("ans", byte-compatible with
# CompressAI's default), so the switch only accepts that name.
_ENTROPY_CODERS = ("ans",)


def available_entropy_coders() -> list[str]:
    """The entropy coders one can choose: ``["ans"]``."""
    return list(_ENTROPY_CODERS)


def get_entropy_coder() -> str:
    """The entropy coder models use: ``"ans"``."""
    return _ENTROPY_CODERS[0]


def set_entropy_coder(entropy_coder: str) -> None:
    """Selects the entropy coder, as CompressAI's; tinify has one, ``"ans"``.

    Raises:
        ValueError: for any other name.
    """
    if entropy_coder not in _ENTROPY_CODERS:
        raise ValueError(
            f"Invalid entropy coder {entropy_coder!r}, choose from ({', '.join(_ENTROPY_CODERS)})"
        )


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"tinify.{name}")
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'tinify' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
