"""The context model of an autoregressive codec: the geometry both coders require of it and
the masked kernel they convolve with.

The rule, stated once: a context model is a ``Conv2d`` with stride 1, dilation 1, one group,
"same" padding (``kernel_size // 2``) and a square kernel of odd side, at least 3 (a 1x1
kernel sees no decoded neighbour); its masked weight is zero at and after the centre in
raster-scan order (``tinify.layers.masked_conv.raster_scan_mask``, type ``"A"``).

:func:`check_context_prediction` checks the module's side of it, for both coders. The Rust
loop (``rust/src/autoregressive.rs``, ``RasterScan::new``) sees only the weights and checks
their side (odd sides, causal taps, at least one) with the same mask rule; every kernel this
module admits passes its geometry checks, so the two sides never disagree on a shape.
:class:`~tinify.autoregressive.TorchRasterScanCoder` checks the weights' side itself, with
the same mask.
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["MIN_KERNEL_SIZE", "check_context_prediction"]

#: The smallest context kernel side: the Rust loop refuses a kernel without causal taps.
MIN_KERNEL_SIZE = 3


def check_context_prediction(conv: nn.Module) -> int:
    """Checks the module's side of the context rule (this module's docstring), the one place
    it is checked in Python: a convolution with a square, odd kernel of side
    ``MIN_KERNEL_SIZE`` (3) or more, stride 1, dilation 1, one group and "same" padding
    (``kernel_size // 2``). Returns the kernel size.

    Raises:
        ValueError: naming what does not fit.
    """
    if not isinstance(conv, nn.Conv2d):
        raise ValueError(f"context_prediction must be a Conv2d (MaskedConv2d), got {conv}")
    kh, kw = conv.kernel_size
    if kh != kw or kh % 2 == 0 or kh < MIN_KERNEL_SIZE:
        raise ValueError(
            f"context_prediction needs a square, odd kernel of side {MIN_KERNEL_SIZE} or more "
            f"(a 1x1 kernel sees no decoded neighbour), got {conv.kernel_size}"
        )
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
