"""Bounds on the shapes a decoder is given: checked before anything is allocated.

A decoder's ``shape`` argument and a file's header come from outside. Every ``decompress``
path checks them here, with one rule, so that a few hostile bytes cannot make tinify allocate
gigabytes: each side is an int in ``[1, MAX_SIDE]``, and a latent holds at most
:func:`max_elements` values for the bytes it is decoded from; likewise an image decoded from a
``.tfy`` file holds at most :func:`max_elements` pixels for the file's bytes
(:func:`check_image_pixels`). Pure Python (no torch), so the file reader shares the constants.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ELEMENTS_PER_BYTE",
    "MAX_ELEMENTS_FLOOR",
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE",
    "MAX_SIDE",
    "check_image_pixels",
    "check_latent_size",
    "max_elements",
]

#: Largest image side a ``.tfy`` file may record, and largest pixel count.
MAX_IMAGE_SIDE = 2**15
MAX_IMAGE_PIXELS = 2**28

#: Largest size of any one dimension (channels or spatial) of a decoded latent.
MAX_SIDE = 2**16

#: Any latent of up to this many values may be decoded, whatever the size of its strings.
MAX_ELEMENTS_FLOOR = 2**22

#: Beyond the floor, values allowed per byte of coded strings: 2^16, or 1.2e-4 bits a value.
#: A 16-bit rANS table row of ``L`` entries gives every symbol but the likeliest at least
#: 1/65536, so even a value that is always that symbol costs about ``(L - 1) / 65536 / ln 2``
#: bits: more than this bound for any row of 7 entries or more (the models' rows have tens).
#: A small file therefore cannot claim a huge latent.
ELEMENTS_PER_BYTE = 2**16


def max_elements(strings: Any) -> int:
    """The most values a latent decoded from ``strings`` may hold.

    Args:
        strings: bytes, or (nested) lists of bytes; their total length counts.
    """
    return _allowed(_total_bytes(strings))


def _allowed(size: int) -> int:
    return max(MAX_ELEMENTS_FLOOR, ELEMENTS_PER_BYTE * size)


def check_image_pixels(
    height: int, width: int, padded_size: tuple[int, int], file_bytes: int
) -> None:
    """Checks that a ``.tfy`` file of ``file_bytes`` bytes may decode to an image of
    ``padded_size`` pixels (the recorded ``height x width`` padded to the model's multiple):
    at most :func:`max_elements` of the file, so a small file cannot make the decoder
    synthesize a huge image.

    Raises:
        ValueError: the header claims more pixels than the file's size allows.
    """
    limit = _allowed(file_bytes)
    if padded_size[0] * padded_size[1] > limit:
        raise ValueError(
            f"a {file_bytes}-byte file cannot hold a {height}x{width} image (at most "
            f"{limit} pixels): the header is corrupt"
        )


def check_latent_size(
    size: Any,
    *,
    ndim: int | None = None,
    what: str = "shape",
    minimum: int = 1,
    leading: Sequence[int] = (),
    strings: Any = b"",
) -> tuple[int, ...]:
    """``size`` as a tuple of ints, after checking that it is a sane latent size.

    Args:
        size: a sequence of ints (Python or numpy ints, not bools).
        ndim: the number of entries required, if any.
        what: the name of the argument, for messages.
        minimum: the smallest size allowed (0 where an empty latent is legitimate, such as
            a checkerboard step of a one-position latent).
        leading: sizes of further dimensions of the output (batch, channels) that count
            toward the number of values.
        strings: the bytes the latent is decoded from (see :func:`max_elements`).

    Returns:
        The sizes as Python ints.

    Raises:
        ValueError: ``size`` is not a sequence of ints, has the wrong length, holds a size
            outside ``[minimum, MAX_SIDE]``, or, with ``leading``, describes more values than
            :func:`max_elements` allows for ``strings``.
    """
    if isinstance(size, str | bytes) or not isinstance(size, Sequence):
        # torch.Size is a tuple; tensors and other iterables are converted by callers.
        try:
            size = tuple(size)
        except TypeError:
            raise ValueError(
                f"`{what}` must be a sequence of ints, got {type(size).__name__}"
            ) from None
    if ndim is not None and len(size) != ndim:
        raise ValueError(f"`{what}` must have {ndim} entries, got {_short(size)}")
    sides = []
    for s in size:
        if isinstance(s, bool):
            raise ValueError(f"`{what}` must hold ints, got {_short(size)}")
        try:
            s = operator.index(s)
        except TypeError:
            raise ValueError(f"`{what}` must hold ints, got {_short(size)}") from None
        if not minimum <= s <= MAX_SIDE:
            raise ValueError(
                f"`{what}` sizes must be in [{minimum}, {MAX_SIDE}], got {_short(size)}"
            )
        sides.append(s)
    count = 1
    for s in (*leading, *sides):
        count *= int(s)
    limit = max_elements(strings)
    if count > limit:
        raise ValueError(
            f"`{what}` {tuple(sides)} describes a latent of {count} values, more than the "
            f"{limit} allowed for {_total_bytes(strings)} bytes of strings"
        )
    return tuple(sides)


def _total_bytes(strings: Any, depth: int = 0) -> int:
    if isinstance(strings, bytes | bytearray | memoryview):
        return len(strings)
    if depth < 4 and isinstance(strings, list | tuple):
        return sum(_total_bytes(s, depth + 1) for s in strings)
    return 0


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
