"""The context model of an autoregressive codec: the geometry both coders require of it and
the masked kernel they convolve with."""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["check_context_prediction"]


def check_context_prediction(conv: nn.Module) -> int:
    """Checks the geometry of a context model, the one place it is checked in Python: a
    convolution with a square, odd kernel, stride 1, dilation 1, one group and "same" padding
    (``kernel_size // 2``). Returns the kernel size. (The Rust loop checks causality of the
    masked weight, which is data.)

    Raises:
        ValueError: naming what does not fit.
    """
    if not isinstance(conv, nn.Conv2d):
        raise ValueError(f"context_prediction must be a Conv2d (MaskedConv2d), got {conv}")
    kh, kw = conv.kernel_size
    if kh != kw or kh % 2 == 0:
        raise ValueError(f"context_prediction needs a square, odd kernel, got {conv.kernel_size}")
    if (
        tuple(conv.stride) != (1, 1)
        or tuple(conv.dilation) != (1, 1)
        or conv.groups != 1
        or tuple(conv.padding) != (kh // 2, kw // 2)
    ):
        raise ValueError(
            "context_prediction must be a stride-1, undilated, ungrouped convolution with "
            f"'same' padding ({kh // 2}), got {conv}"
        )
    return int(kh)


def masked_weight(conv: nn.Conv2d) -> Tensor:
    """The kernel a context model convolves with: ``masked_weight()`` of a
    :class:`~tinify.layers.MaskedConv2d`, else ``weight * mask`` (``mask`` if it has one)."""
    method = getattr(conv, "masked_weight", None)  # any module that masks its own kernel
    if callable(method):
        return method()
    return conv.weight * getattr(conv, "mask", 1)
