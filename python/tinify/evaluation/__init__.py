"""Evaluation: metrics, learned and classical codecs on image folders, results JSON in
CompressAI's layout, rate–distortion plots and Bjøntegaard deltas.

The submodules are imported on first use (``tinify.evaluation.bd_rate`` loads no torch).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinify.evaluation.bdrate import bd_psnr, bd_rate
    from tinify.evaluation.classical import CODECS, bench_codec, encode_image
    from tinify.evaluation.find_close import find_closest_quality
    from tinify.evaluation.images import IMAGE_EXTENSIONS, list_images
    from tinify.evaluation.metrics import ms_ssim, psnr
    from tinify.evaluation.model import evaluate_model, evaluate_rd
    from tinify.evaluation.plot import plot_rd
    from tinify.evaluation.results import average, load_results, results_json

__all__ = [
    "CODECS",
    "IMAGE_EXTENSIONS",
    "average",
    "bd_psnr",
    "bd_rate",
    "bench_codec",
    "encode_image",
    "evaluate_model",
    "evaluate_rd",
    "find_closest_quality",
    "list_images",
    "load_results",
    "ms_ssim",
    "plot_rd",
    "psnr",
    "results_json",
]

_OWNERS = {
    "bd_psnr": "bdrate",
    "bd_rate": "bdrate",
    "CODECS": "classical",
    "bench_codec": "classical",
    "encode_image": "classical",
    "find_closest_quality": "find_close",
    "IMAGE_EXTENSIONS": "images",
    "list_images": "images",
    "ms_ssim": "metrics",
    "psnr": "metrics",
    "evaluate_model": "model",
    "evaluate_rd": "model",
    "plot_rd": "plot",
    "average": "results",
    "load_results": "results",
    "results_json": "results",
}


def __getattr__(name: str) -> Any:
    if name in _OWNERS:
        module = importlib.import_module(f"tinify.evaluation.{_OWNERS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'tinify.evaluation' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
