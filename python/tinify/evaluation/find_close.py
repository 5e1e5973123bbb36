"""The quality parameter of a classical codec that comes closest to a target bit rate, PSNR or
MS-SSIM on one image (CompressAI's ``find_close``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["TARGET_METRICS", "find_closest_quality"]

#: What a target can be given in.
TARGET_METRICS = ("bpp", "psnr-rgb", "ms-ssim-rgb")


def find_closest_quality(
    codec: str,
    image: str | Path,
    target: float,
    metric: str = "bpp",
    *,
    speed: int = 4,
    effort: int = 7,
    on_probe: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[int, dict[str, float]]:
    """Bisects over the codec's qualities 1–100 for the one whose ``metric`` is closest to
    ``target`` on ``image``, each probe measured by :func:`tinify.evaluation.bench_codec`.

    Every metric grows with the quality for JPEG, WebP, AVIF and JPEG XL, so at most seven
    qualities are tried; the closest of them is returned (ties go to the lower quality).

    Args:
        codec: one of :data:`tinify.evaluation.CODECS`.
        image: the image file.
        target: the value to approach, in ``metric``'s unit (bits per pixel, dB, or
            MS-SSIM in [0, 1]).
        metric: one of :data:`TARGET_METRICS`.
        speed: AVIF encoder speed.
        effort: JPEG XL encoder effort.
        on_probe: called with each quality tried and its measures (progress reports).

    Returns:
        ``(quality, measures)``: ``bpp``, ``encoding_time``, ``decoding_time``, ``psnr-rgb``
        and, when it is the target, ``ms-ssim-rgb``.

    Raises:
        ValueError: for an unknown codec or metric, or an image MS-SSIM cannot measure.
        OSError: for an unreadable image.
    """
    from tinify.evaluation.classical import bench_codec

    if metric not in TARGET_METRICS:
        raise ValueError(f"unknown metric {metric!r}, expected one of {TARGET_METRICS}")
    measured = ["psnr-rgb"] + (["ms-ssim-rgb"] if metric == "ms-ssim-rgb" else [])
    tried: dict[int, dict[str, float]] = {}

    def probe(quality: int) -> dict[str, float]:
        doc: dict[str, Any] = bench_codec(
            codec, [image], [quality], speed=speed, effort=effort, metrics=measured
        )
        order = ("bpp", "encoding_time", "decoding_time", *measured)
        values = {key: doc["results"][key][0] for key in order}
        if on_probe is not None:
            on_probe(quality, values)
        return values

    low, high = 1, 100
    while low <= high:
        mid = (low + high) // 2
        tried[mid] = probe(mid)
        value = tried[mid][metric]
        if value == target:
            break
        if value > target:
            high = mid - 1
        else:
            low = mid + 1
    best = min(tried, key=lambda q: (abs(tried[q][metric] - target), q))
    return best, tried[best]
