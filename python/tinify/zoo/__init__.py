"""The model zoo: CompressAI's architectures by name and quality, their published weights,
and loading or saving any compatible checkpoint.

.. code-block:: python

    import tinify.zoo

    net = tinify.zoo.mbt2018_mean(quality=3, pretrained=True)   # CompressAI's weights
    net = tinify.zoo.model("cheng2020_anchor", 1)               # random init, any spelling
    net = tinify.zoo.load_checkpoint("checkpoint_best_loss.pth.tar")  # architecture inferred

Importing this package does not import torch (the tables are plain data); building or
loading a model does. ``load_default`` and ``DEFAULT_NAME`` (tinify's shipped model) come
from :mod:`tinify.zoo.default`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from tinify.zoo._tables import (
    ARCHITECTURES,
    CONFIGS,
    LAMBDAS,
    METRICS,
    QUALITIES,
    ROOT_URL,
    URLS,
    VBR_ARCHITECTURES,
    VBR_CONFIGS,
    VBR_URLS,
)
from tinify.zoo.checkpoint import (
    architecture_of,
    canonical_architecture,
    infer_architecture,
    load_checkpoint,
    load_state_dict,
    model_from_state_dict,
    normalize_state_dict,
)
from tinify.zoo.export import export_checkpoint, update_checkpoint
from tinify.zoo.image import (
    bmshj2018_factorized,
    bmshj2018_factorized_relu,
    bmshj2018_hyperprior,
    cheng2020_anchor,
    cheng2020_anchor_checkerboard,
    cheng2020_attn,
    elic2022_chandelier,
    elic2022_official,
    mbt2018,
    mbt2018_mean,
    model,
)
from tinify.zoo.image_vbr import bmshj2018_hyperprior_vbr, mbt2018_mean_vbr, mbt2018_vbr

__all__ = [
    "ARCHITECTURES",
    "CONFIGS",
    "DEFAULT_NAME",
    "LAMBDAS",
    "METRICS",
    "QUALITIES",
    "ROOT_URL",
    "URLS",
    "VBR_ARCHITECTURES",
    "VBR_CONFIGS",
    "VBR_URLS",
    "architecture_of",
    "bmshj2018_factorized",
    "bmshj2018_factorized_relu",
    "bmshj2018_hyperprior",
    "bmshj2018_hyperprior_vbr",
    "canonical_architecture",
    "cheng2020_anchor",
    "cheng2020_anchor_checkerboard",
    "cheng2020_attn",
    "elic2022_chandelier",
    "elic2022_official",
    "export_checkpoint",
    "image_models",
    "infer_architecture",
    "load_checkpoint",
    "load_default",
    "load_state_dict",
    "mbt2018",
    "mbt2018_mean",
    "mbt2018_mean_vbr",
    "mbt2018_vbr",
    "model",
    "model_from_state_dict",
    "models",
    "normalize_state_dict",
    "update_checkpoint",
]

#: Architecture name → entry point ``f(quality, metric="mse", pretrained=False, progress=True,
#: **kwargs)``, as ``compressai.zoo.image_models``: CompressAI's entries in its order (the
#: variable-rate ones take no meaningful quality), then tinify's.
image_models: dict[str, Callable[..., Any]] = {
    "bmshj2018-factorized": bmshj2018_factorized,
    "bmshj2018-factorized-relu": bmshj2018_factorized_relu,
    "bmshj2018-hyperprior": bmshj2018_hyperprior,
    "mbt2018-mean": mbt2018_mean,
    "mbt2018": mbt2018,
    "cheng2020-anchor": cheng2020_anchor,
    "cheng2020-attn": cheng2020_attn,
    # the variable-rate models (tinify.zoo.image_vbr)
    "bmshj2018-hyperprior-vbr": bmshj2018_hyperprior_vbr,
    "mbt2018-mean-vbr": mbt2018_mean_vbr,
    "mbt2018-vbr": mbt2018_vbr,
    # tinify's additions (CompressAI has the classes, not zoo entries)
    "cheng2020-anchor-checkerboard": cheng2020_anchor_checkerboard,
    "elic2022-official": elic2022_official,
    "elic2022-chandelier": elic2022_chandelier,
}

#: Every zoo entry point, as ``compressai.zoo.models``; tinify has no point-cloud or video
#: models, so this is :data:`image_models`.
models: dict[str, Callable[..., Any]] = dict(image_models)

# Re-exported from tinify.zoo.default on first use, so that this package imports (without
# torch) whether or not that module exists yet.
_FROM_DEFAULT = ("load_default", "DEFAULT_NAME")


def __getattr__(name: str) -> Any:
    if name in _FROM_DEFAULT:
        try:
            default = importlib.import_module("tinify.zoo.default")
        except ModuleNotFoundError as err:
            if err.name != "tinify.zoo.default":
                raise
            raise AttributeError(
                f"tinify.zoo.{name} is unavailable: this install has no shipped default model "
                "(tinify.zoo.default)"
            ) from None
        return getattr(default, name)
    raise AttributeError(f"module 'tinify.zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
