"""What :func:`tinify.codec.compress_file` and :func:`tinify.codec.decompress_file` report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinify import tfy

__all__ = ["CompressReport", "DecompressReport"]


@dataclass(frozen=True)
class CompressReport:
    """What :func:`~tinify.codec.compress_file` did.

    Attributes:
        src: the image read. dst: the ``.tfy`` file written.
        bytes: size of the file; payload_bytes: of the coded strings alone.
        bpp: bits per pixel of the whole file; payload_bpp: of the strings (CompressAI's bpp).
        height, width: the image size. mode: its colour mode.
        seconds: time spent compressing (reading the image and the model excluded).
    """

    src: Path
    dst: Path
    bytes: int
    payload_bytes: int
    bpp: float
    payload_bpp: float
    height: int
    width: int
    mode: str
    seconds: float


@dataclass(frozen=True)
class DecompressReport:
    """What :func:`~tinify.codec.decompress_file` did (fields as in :class:`CompressReport`;
    ``bytes`` and the bpp are those of the ``.tfy`` file read, ``seconds`` the decoding time)."""

    src: Path
    dst: Path
    bytes: int
    payload_bytes: int
    bpp: float
    payload_bpp: float
    height: int
    width: int
    mode: str
    seconds: float


def sizes(header: tfy.TfyHeader, strings: tfy.Strings, size: int) -> dict[str, Any]:
    """The report fields a ``.tfy`` file of ``size`` bytes tells: sizes, bpp, image."""
    pixels = header.height * header.width
    payload = sum(len(s[0]) for s in strings)
    return {
        "bytes": size,
        "payload_bytes": payload,
        "bpp": size * 8 / pixels,
        "payload_bpp": payload * 8 / pixels,
        "height": header.height,
        "width": header.width,
        "mode": header.mode,
    }
