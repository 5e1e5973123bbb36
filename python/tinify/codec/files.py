""":func:`compress_file` and :func:`decompress_file`: an image file to a ``.tfy`` file and
back, written atomically, with a report of what was done (what ``tinify compress`` and
``tinify decompress`` call).

A ``.tfy`` file is read and checked once, before the model code (and torch) is imported, so a
corrupt file is refused at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tinify import tfy
from tinify.codec.container import read_container
from tinify.codec.reports import CompressReport, DecompressReport, sizes
from tinify.files import atomic_write, refuse_existing

if TYPE_CHECKING:
    from torch import nn

__all__ = ["compress_file", "decompress_file"]


def compress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    model: str | nn.Module | None = None,
    quality: int | None = None,
    *,
    metric: str = "mse",
    checkpoint: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> CompressReport:
    """Compresses the image file ``src`` into the ``.tfy`` file ``dst``.

    ``dst`` is written atomically (a temporary file in its folder, then renamed): a failure
    leaves no file. Arguments are those of :func:`~tinify.codec.compress`.

    Raises:
        FileExistsError: ``dst`` exists and ``overwrite`` is False.
    """
    from tinify.codec.coding import compress_loaded
    from tinify.codec.resolve import encoder_model
    from tinify.image import load_image

    src, dst = Path(src), Path(dst)
    refuse_existing(dst, overwrite)
    net, identity = encoder_model(model, quality, metric, checkpoint)
    x, info = load_image(src)
    start = time.perf_counter()
    data, header, strings = compress_loaded(net, identity, x, info)
    seconds = time.perf_counter() - start
    atomic_write(dst, lambda f: f.write(data), overwrite=overwrite)
    return CompressReport(src, dst, seconds=seconds, **sizes(header, strings, len(data)))


def decompress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    model: str | nn.Module | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> DecompressReport:
    """Decompresses the ``.tfy`` file ``src`` into the image file ``dst``, in the format its
    suffix names (``.png`` keeps every bit of the decoded 8-bit image).

    ``dst`` is written atomically, as in :func:`compress_file`.

    Raises:
        FileExistsError: ``dst`` exists and ``overwrite`` is False.
        tinify.tfy.TfyError: ``src`` is not a valid ``.tfy`` file.
        ValueError: ``dst`` has a suffix no image format is registered for, or as
            :func:`~tinify.codec.decompress`.
    """
    from PIL import Image

    src, dst = Path(src), Path(dst)
    refuse_existing(dst, overwrite)
    image_format = Image.registered_extensions().get(dst.suffix.lower())
    if image_format is None:
        raise ValueError(f"cannot tell an image format from the name {dst.name!r}")
    if src.stat().st_size > tfy.MAX_FILE:
        raise tfy.TfyError(f"{src} is larger than any .tfy file ({tfy.MAX_FILE} bytes)")
    data = src.read_bytes()
    header, strings = read_container(data)
    from tinify.codec.coding import decompress_parsed  # torch, once the file checked out

    start = time.perf_counter()
    image = decompress_parsed(header, strings, model=model, checkpoint=checkpoint, output="pil")
    seconds = time.perf_counter() - start
    atomic_write(dst, lambda f: image.save(f, format=image_format), overwrite=overwrite)
    return DecompressReport(src, dst, seconds=seconds, **sizes(header, strings, len(data)))
