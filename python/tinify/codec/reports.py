"""What :func:`tinify.codec.compress_file` and :func:`tinify.codec.decompress_file` report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinify import tfy

__all__ = ["CompressReport", "DecompressReport", "FileReport"]


@dataclass(frozen=True)
class FileReport:
    """What a file function did: the fields :class:`CompressReport` and
    :class:`DecompressReport` share.

    Attributes:
        src: the file read. dst: the file written.
        bytes: size of the ``.tfy`` file; payload_bytes: of its coded strings alone.
        bpp: bits per pixel of the whole ``.tfy`` file; payload_bpp: of the strings
            (CompressAI's bpp).
        height, width: the image size. mode: its colour mode.
        seconds: time spent coding (reading the image or file and the model excluded).
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
class CompressReport(FileReport):
    """What :func:`~tinify.codec.compress_file` did: ``src`` the image read, ``dst`` the
    ``.tfy`` file written, ``seconds`` the compression time (fields of :class:`FileReport`)."""


@dataclass(frozen=True)
class DecompressReport(FileReport):
    """What :func:`~tinify.codec.decompress_file` did: ``src`` the ``.tfy`` file read, ``dst``
    the image written, ``seconds`` the decoding time (fields of :class:`FileReport`)."""


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
