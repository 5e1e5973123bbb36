"""Padding that makes an image's size divisible by a model's total stride."""

from __future__ import annotations

__all__ = ["compute_padding"]

Pad4 = tuple[int, int, int, int]


def compute_padding(
    in_h: int,
    in_w: int,
    *,
    out_h: int | None = None,
    out_w: int | None = None,
    min_div: int = 1,
) -> tuple[Pad4, Pad4]:
    """Return the ``(pad, unpad)`` pair that centres an ``in_h x in_w`` image in a larger one.

    Both tuples are in :func:`torch.nn.functional.pad` order, ``(left, right, top, bottom)``;
    ``unpad`` is ``pad`` negated, so ``F.pad(F.pad(x, pad), unpad)`` gives back ``x``. When
    the extra rows or columns are odd in number, the extra one goes to the bottom or right.

    Example:
        >>> compute_padding(30, 45, min_div=16)
        ((1, 2, 1, 1), (-1, -2, -1, -1))

    Args:
        in_h: Input height in pixels.
        in_w: Input width in pixels.
        out_h: Padded height; by default the smallest multiple of ``min_div`` that is
            ``>= in_h``. If given, it must be divisible by ``min_div``.
        out_w: Padded width, as ``out_h``.
        min_div: Positive integer the padded height and width must be divisible by,
            typically the model's total downsampling factor (e.g. 64).

    Raises:
        ValueError: If ``min_div < 1``, or ``out_h`` or ``out_w`` is not divisible by it.
    """
    if min_div < 1:
        raise ValueError(f"min_div must be a positive integer, got {min_div!r}")
    if out_h is None:
        out_h = -(-in_h // min_div) * min_div
    if out_w is None:
        out_w = -(-in_w // min_div) * min_div
    if out_h % min_div != 0 or out_w % min_div != 0:
        raise ValueError(
            f"padded size {out_h}x{out_w} (out_h x out_w) is not divisible by min_div={min_div}"
        )
    left = (out_w - in_w) // 2
    top = (out_h - in_h) // 2
    right = out_w - in_w - left
    bottom = out_h - in_h - top
    return (left, right, top, bottom), (-left, -right, -top, -bottom)
