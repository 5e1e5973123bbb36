"""The checks a ``.tfy`` file passes before any model is loaded: the container
(:func:`tinify.tfy.decode`: framing, checksum, header, lengths) and the pixel bound of the image
it claims (:func:`tinify.limits.check_image_pixels`). Pure Python: a corrupt file is refused
before torch is imported."""

from __future__ import annotations

from tinify import tfy
from tinify.limits import check_image_pixels

__all__: list[str] = []


def read_container(data: bytes) -> tuple[tfy.TfyHeader, tfy.Strings]:
    """The header and strings of the ``.tfy`` file ``data``, parsed once and checked.

    Raises:
        tinify.tfy.TfyError: the bytes are not a valid ``.tfy`` file.
        ValueError: the header claims more pixels than the file's size allows.
    """
    header, strings = tfy.decode(data)
    check_image_pixels(header.height, header.width, header.padded_size, len(data))
    return header, strings
