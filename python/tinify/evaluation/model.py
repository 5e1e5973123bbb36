"""Rate–distortion evaluation of learned models on a set of images, as CompressAI's
``eval_model`` measures it, through tinify's real file path.

For each image (8-bit RGB, :func:`tinify.evaluation.metrics`):

- by default the image is coded into a ``.tfy`` file's bytes with :func:`tinify.codec.compress`
  (CompressAI's centred zero padding to the model's multiple, :func:`tinify.image.pad`) and
  decoded with :func:`tinify.codec.decompress`. ``bpp`` counts the coded strings alone, as
  CompressAI does (Σ over streams of ``8·len / (H·W)``); ``bpp-file`` counts the whole file
  (header, shapes and CRC included). ``encoding_time`` and ``decoding_time`` are the wall-clock
  times of the two calls.
- with ``entropy_estimation=True`` the model's ``forward()`` runs on the padded image instead;
  ``bpp`` is the likelihoods' information content, ``−Σ log2 p / (H·W)``, and each time is half
  the forward pass (CompressAI's convention). There is no ``bpp-file``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tinify.evaluation.metrics import likelihood_bits

__all__ = ["evaluate_model", "evaluate_rd"]


def _load_rgb(path: str | Path) -> torch.Tensor:
    from PIL import Image

    from tinify.image import load_image

    with Image.open(path) as image:
        rgb = image.convert("RGB")
    x, _ = load_image(rgb)
    return x


@torch.no_grad()
def _coded(model: nn.Module, x: torch.Tensor, quality: int | None) -> dict[str, float]:
    from tinify import codec, tfy

    start = time.perf_counter()
    data = codec.compress(x, model=model, quality=quality)
    encoding_time = time.perf_counter() - start
    start = time.perf_counter()
    x_hat = codec.decompress(data, model=model, output="tensor")
    decoding_time = time.perf_counter() - start
    _, strings = tfy.decode(data)
    pixels = x.shape[-2] * x.shape[-1]
    return _metrics(x, x_hat.to(x.device, x.dtype)) | {
        "bpp": sum(len(stream[0]) for stream in strings) * 8 / pixels,
        "bpp-file": len(data) * 8 / pixels,
        "encoding_time": encoding_time,
        "decoding_time": decoding_time,
    }


@torch.no_grad()
def _estimated(model: nn.Module, x: torch.Tensor) -> dict[str, float]:
    from tinify.image import crop, pad, padding_multiple

    device = next(model.parameters()).device
    start = time.perf_counter()
    out = model(pad(x, padding_multiple(model)).to(device))
    elapsed = time.perf_counter() - start
    pixels = x.shape[-2] * x.shape[-1]
    bits = likelihood_bits(out["likelihoods"])
    x_hat = crop(out["x_hat"], (x.shape[-2], x.shape[-1])).clamp(0, 1).cpu()
    return _metrics(x, x_hat) | {
        "bpp": bits / pixels,
        "encoding_time": elapsed / 2,
        "decoding_time": elapsed / 2,
    }


def _metrics(x: torch.Tensor, x_hat: torch.Tensor) -> dict[str, float]:
    from tinify.evaluation.metrics import ms_ssim, psnr

    return {"psnr-rgb": psnr(x, x_hat), "ms-ssim-rgb": ms_ssim(x, x_hat)}


def evaluate_model(
    model: nn.Module,
    images: Sequence[str | Path],
    *,
    quality: int | None = None,
    entropy_estimation: bool = False,
    progress: bool = False,
) -> list[dict[str, float]]:
    """Measures ``model`` on each image; the per-image results, in the order of ``images``.

    Args:
        model: a model with CDF tables (``update()`` done), in eval mode; on the CPU or a GPU.
        images: image files, converted to 8-bit RGB.
        quality: the quality recorded in the files (and the rate of a variable-rate model).
        entropy_estimation: measure ``forward()``'s likelihoods instead of coding (see the
            module's documentation).
        progress: a progress bar on stderr.

    Returns:
        One dict per image: ``psnr-rgb``, ``ms-ssim-rgb``, ``bpp``, ``encoding_time``,
        ``decoding_time``, and ``bpp-file`` unless ``entropy_estimation``.

    Raises:
        ValueError: for an image MS-SSIM cannot measure (160 pixels or fewer on a side) or
            one the model cannot code.
        OSError: for an unreadable image.
    """
    from tqdm import tqdm

    model.eval()
    rows = []
    for path in tqdm(images, disable=not progress, unit="image", leave=False):
        x = _load_rgb(path)
        rows.append(_estimated(model, x) if entropy_estimation else _coded(model, x, quality))
    return rows


def evaluate_rd(
    models: Sequence[tuple[int | None, Callable[[], nn.Module]]],
    images: Sequence[str | Path],
    *,
    name: str,
    entropy_estimation: bool = False,
    per_image: bool = False,
    progress: bool = False,
) -> dict[str, Any] | None:
    """A results document (CompressAI's layout): one rate point per model, averaged over the
    images.

    Under ``torchrun`` (a process group initialised, :func:`tinify.distributed.init_from_env`)
    each rank measures its shard of the images (:func:`tinify.distributed.shard`); rank 0
    gathers the rows, puts them back in the images' order and returns the document, which then
    equals a single process's (times aside); the other ranks return None.

    Args:
        models: ``(quality, build)`` per rate point; ``build()`` returns the model (called
            once per point, on every rank).
        images: image files.
        name: the document's ``name`` (CompressAI: ``"<arch>-<metric>"``).
        entropy_estimation: see :func:`evaluate_model`.
        per_image: add ``"per-image"``: one document per image in CompressAI's per-image
            layout (``{"source", "name", "description", "results"}``, one value per point).
        progress: progress bars on stderr (rank 0 only).

    Raises:
        ValueError: for no images or no models, and as :func:`evaluate_model`.
    """
    from tinify import distributed
    from tinify.evaluation.results import average, results_json

    if not images:
        raise ValueError("no images to evaluate")
    if not models:
        raise ValueError("no models to evaluate")
    rank, world = distributed.rank(), distributed.world()
    indices = distributed.shard(list(range(len(images))), rank, world)
    mine: list[list[tuple[int, dict[str, float]]]] = []
    for quality, build in models:
        rows = evaluate_model(
            build(),
            [images[i] for i in indices],
            quality=quality,
            entropy_estimation=entropy_estimation,
            progress=progress and rank == 0,
        )
        mine.append(list(zip(indices, rows, strict=True)))
    gathered = distributed.gather(mine)
    if gathered is None:
        return None
    points: list[list[dict[str, float]]] = []
    for k in range(len(models)):
        pairs = sorted((pair for part in gathered for pair in part[k]), key=lambda p: p[0])
        points.append([row for _, row in pairs])
    description = "Inference (entropy estimation)" if entropy_estimation else "Inference (ans)"
    qualities = [q for q, _ in models]
    extra: dict[str, Any] = {"qualities": qualities, "images": len(images)}
    if per_image:
        extra["per-image"] = [
            results_json(name, description, [point[i] for point in points], source=Path(p).stem)
            for i, p in enumerate(images)
        ]
    return results_json(name, description, [average(point) for point in points], **extra)
