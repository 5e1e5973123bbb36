"""Classical codecs (JPEG, WebP, AVIF, JPEG XL) through Pillow, measured the way
:func:`tinify.evaluation.model.evaluate_model` measures learned ones.

Each codec runs at its strongest ordinary settings, because a weak anchor flatters learned
codecs:

- JPEG (libjpeg-turbo): ``optimize=True`` (optimal Huffman tables, about 12 % BD-rate), 4:2:0
  chroma, and for each image the smaller of the baseline and progressive encodings (they decode
  to the same pixels; progressive is 2–3 % larger at quality 20 and 2–3 % smaller at 80 on
  768×512 photographs). Both encodings count in ``encoding_time``.
- WebP (libwebp): ``method=6``, the slowest and best.
- AVIF (libavif, AOM): ``speed`` 4 by default (0 is the slowest and best; 0–4 are reasonable for
  an evaluation, 6 is Pillow's default), 4:2:0.
- JPEG XL (libjxl through ``pillow-jxl-plugin``): ``effort=7`` (libjxl's default; 9 is the
  slowest), one thread.

The settings and the library versions are recorded in the results document.
"""

from __future__ import annotations

import importlib.metadata
import io
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["CODECS", "DEFAULT_QUALITIES", "bench_codec", "codec_settings", "encode_image"]

CODECS = ("jpeg", "webp", "avif", "jxl")

#: Quality parameters tried when none are given (Pillow's 0–100 scale for every codec).
DEFAULT_QUALITIES: dict[str, tuple[int, ...]] = {
    "jpeg": (10, 20, 30, 40, 50, 60, 70, 80, 90),
    "webp": (10, 20, 30, 40, 50, 60, 70, 80, 90),
    "avif": (10, 20, 30, 40, 50, 60, 70, 80, 90),
    "jxl": (10, 20, 30, 40, 50, 60, 70, 80, 90),
}


def codec_settings(codec: str, *, speed: int = 4, effort: int = 7) -> dict[str, Any]:
    """The Pillow save options used for ``codec`` (without ``quality``).

    Raises:
        ValueError: for an unknown codec or an out-of-range speed or effort.
    """
    if codec == "jpeg":
        return {"optimize": True, "subsampling": "4:2:0", "progressive": "smaller of both"}
    if codec == "webp":
        return {"method": 6}
    if codec == "avif":
        if not 0 <= speed <= 10:
            raise ValueError(f"AVIF speed must be in [0, 10], got {speed}")
        return {"speed": speed, "subsampling": "4:2:0"}
    if codec == "jxl":
        if not 1 <= effort <= 10:
            raise ValueError(f"JPEG XL effort must be in [1, 10], got {effort}")
        return {"effort": effort, "num_threads": 1}
    raise ValueError(f"unknown codec {codec!r}, expected one of {CODECS}")


def _versions(codec: str) -> dict[str, str]:
    import PIL
    from PIL import features

    versions = {"Pillow": PIL.__version__}
    feature = {"jpeg": "jpg", "webp": "webp", "avif": "avif"}.get(codec)
    if feature is not None:
        library = {"jpeg": "libjpeg", "webp": "libwebp", "avif": "libavif"}[codec]
        versions[library] = str(features.version(feature))
        if codec == "jpeg" and features.check_feature("libjpeg_turbo"):
            versions["libjpeg-turbo"] = str(features.version_feature("libjpeg_turbo"))
    if codec == "jxl":
        versions["pillow-jxl-plugin"] = importlib.metadata.version("pillow-jxl-plugin")
    return versions


def _check_available(codec: str) -> None:
    from PIL import features

    if codec == "jxl":
        try:
            import pillow_jxl  # noqa: F401  (registers the JXL format with Pillow)
        except ModuleNotFoundError:
            raise ModuleNotFoundError(
                "JPEG XL needs pillow-jxl-plugin", name="pillow_jxl"
            ) from None
    elif codec in ("webp", "avif") and not features.check(codec):
        raise ValueError(f"this Pillow ({features.version('pil')}) was built without {codec}")


def _encoder(codec: str, quality: int, settings: dict[str, Any]) -> Callable[[Any], bytes]:
    def save(image: Any, fmt: str, **options: Any) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, quality=quality, **options)
        return buffer.getvalue()

    if codec == "jpeg":
        return lambda im: min(
            save(im, "JPEG", optimize=True, subsampling="4:2:0", progressive=False),
            save(im, "JPEG", optimize=True, subsampling="4:2:0", progressive=True),
            key=len,
        )
    fmt = {"webp": "WEBP", "avif": "AVIF", "jxl": "JXL"}[codec]
    return lambda im: save(im, fmt, **settings)


def encode_image(codec: str, image: Any, quality: int, *, speed: int = 4, effort: int = 7) -> bytes:
    """The file :func:`bench_codec` measures for a Pillow ``image`` at ``quality`` (same
    settings).

    Raises:
        ValueError: for an unknown or unavailable codec, or a quality outside 1–100.
        ModuleNotFoundError: for ``"jxl"`` without pillow-jxl-plugin.
    """
    settings = codec_settings(codec, speed=speed, effort=effort)
    _check_available(codec)
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"{codec} quality must be in [1, 100], got {quality}")
    return _encoder(codec, int(quality), settings)(image)


def bench_codec(
    codec: str,
    images: Sequence[str | Path],
    qualities: Sequence[int] | None = None,
    *,
    speed: int = 4,
    effort: int = 7,
    per_image: bool = False,
    progress: bool = False,
    metrics: Sequence[str] = ("psnr-rgb", "ms-ssim-rgb"),
) -> dict[str, Any]:
    """Rate–distortion points of a classical codec on ``images``, in CompressAI's layout.

    Each image is converted to 8-bit RGB, encoded in memory at each quality, decoded, and
    measured: ``psnr-rgb``, ``ms-ssim-rgb`` (:mod:`tinify.evaluation.metrics`), ``bpp`` (the
    whole file's bits per pixel, as CompressAI's bench counts them), ``encoding_time``,
    ``decoding_time``, each averaged over the images.

    Args:
        codec: one of :data:`CODECS`.
        images: image files (:func:`tinify.evaluation.images.list_images`).
        qualities: Pillow quality parameters (1–100); default :data:`DEFAULT_QUALITIES`.
        speed: AVIF encoder speed, 0 (best) to 10.
        effort: JPEG XL encoder effort, 1 to 10 (best).
        per_image: also return each image's points under ``"per-image"`` (CompressAI's
            per-image layout: ``{"source", "name", "description", "results"}``).
        progress: show a progress bar on stderr.
        metrics: the distortion metrics measured, among ``"psnr-rgb"`` and
            ``"ms-ssim-rgb"`` (leave MS-SSIM out for images of 160 pixels or fewer on a side).

    Returns:
        ``{"name": codec, "description", "results", "qualities", "settings", "versions"}``.

    Raises:
        ValueError: for an unknown codec, a quality outside 1–100, no images, or an image
            MS-SSIM cannot measure (160 pixels or fewer on a side).
        ModuleNotFoundError: for ``"jxl"`` without pillow-jxl-plugin.
    """
    from PIL import Image
    from tqdm import tqdm

    from tinify.evaluation.metrics import ms_ssim, psnr
    from tinify.evaluation.results import average, results_json

    measures = {"psnr-rgb": psnr, "ms-ssim-rgb": ms_ssim}
    unknown = sorted(set(metrics) - set(measures))
    if unknown:
        raise ValueError(f"unknown metrics {unknown}, expected some of {sorted(measures)}")
    settings = codec_settings(codec, speed=speed, effort=effort)
    _check_available(codec)
    qualities = list(DEFAULT_QUALITIES[codec] if qualities is None else qualities)
    if not qualities or any(not 1 <= int(q) <= 100 for q in qualities):
        raise ValueError(f"{codec} qualities must be in [1, 100], got {qualities}")
    if not images:
        raise ValueError("no images to evaluate")
    import numpy as np
    import torch

    rows: list[list[dict[str, float]]] = [[] for _ in qualities]
    bar = tqdm(total=len(images) * len(qualities), disable=not progress, unit="image")
    for path in images:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        x = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].double() / 255
        for row, quality in zip(rows, qualities, strict=True):
            encode = _encoder(codec, int(quality), settings)
            start = time.perf_counter()
            data = encode(image)
            encoding_time = time.perf_counter() - start
            start = time.perf_counter()
            with Image.open(io.BytesIO(data)) as decoded_file:
                decoded = decoded_file.convert("RGB")
            decoding_time = time.perf_counter() - start
            y = torch.from_numpy(np.array(decoded)).permute(2, 0, 1)[None].double() / 255
            row.append(
                {name: measures[name](x, y) for name in measures if name in metrics}
                | {
                    "bpp": 8 * len(data) / (image.width * image.height),
                    "encoding_time": encoding_time,
                    "decoding_time": decoding_time,
                }
            )
            bar.update()
    bar.close()
    description = f"Pillow {codec}, " + ", ".join(f"{k}={v}" for k, v in settings.items())
    extra: dict[str, Any] = {
        "qualities": [int(q) for q in qualities],
        "settings": settings,
        "versions": _versions(codec),
        "images": len(images),
    }
    if per_image:
        extra["per-image"] = [
            results_json(codec, description, [row[i] for row in rows], source=Path(p).stem)
            for i, p in enumerate(images)
        ]
    return results_json(codec, description, [average(row) for row in rows], **extra)
