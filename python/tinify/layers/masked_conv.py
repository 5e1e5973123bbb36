"""Convolutions whose kernels are masked to see only already-decoded neighbours."""

from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["CheckerboardMaskedConv2d", "MaskedConv2d"]


def raster_scan_mask(kh: int, kw: int, mask_type: str = "A") -> Tensor:
    """The ``(kh, kw)`` boolean raster-scan causality mask: True at the taps above the centre
    ``(kh // 2, kw // 2)`` and left of it on its row, and at the centre for type ``"B"``.

    The one definition of causality in Python (:class:`MaskedConv2d`, and the check of
    ``tinify.autoregressive``'s torch coder); ``rust/src/autoregressive.rs`` applies the same
    rule (``r < cy || (r == cy && c < cx)``) to the weights it is given.
    """
    _check_mask_type(mask_type)
    cy, cx = kh // 2, kw // 2
    mask = torch.zeros(kh, kw, dtype=torch.bool)
    mask[:cy] = True
    mask[cy, : cx + (mask_type == "B")] = True
    return mask


def _check_mask_type(mask_type: str) -> None:
    if mask_type not in ("A", "B"):
        raise ValueError(f'mask_type must be "A" or "B", got {mask_type!r}')


class MaskedConv2d(nn.Conv2d):
    r"""2-D convolution masked to raster-scan causality, for autoregressive context models.

    From `"Conditional Image Generation with PixelCNN Decoders"
    <https://arxiv.org/abs/1606.05328>`_, van den Oord et al., NeurIPS 2016, and used as the
    context model of `"Joint Autoregressive and Hierarchical Priors for Learned Image
    Compression" <https://arxiv.org/abs/1809.02736>`_, Minnen, Ballé and Toderici,
    NeurIPS 2018. For a ``kh x kw`` kernel with centre ``(kh // 2, kw // 2)``, the mask keeps
    the rows above the centre and the taps left of it; type ``"B"`` also keeps the centre.
    For a 5x5 type-``"A"`` kernel:

    .. code-block:: none

        1 1 1 1 1
        1 1 1 1 1
        1 1 0 0 0
        0 0 0 0 0
        0 0 0 0 0

    The mask is the buffer ``mask`` (same shape as ``weight``). Unlike CompressAI, which
    overwrites ``weight`` with ``weight * mask`` on every call, the mask is applied
    functionally: ``weight`` is never modified, and the gradient at masked taps is zero
    because it flows through the product. :meth:`masked_weight` returns the kernel that is
    actually convolved.

    Args:
        *args: Positional arguments of :class:`torch.nn.Conv2d` (``in_channels``,
            ``out_channels``, ``kernel_size``, ...).
        mask_type: ``"A"`` to hide the current position too (first layer of a context
            model), ``"B"`` to let it through (later layers).
        **kwargs: Keyword arguments of :class:`torch.nn.Conv2d`.

    Raises:
        ValueError: If ``mask_type`` is neither ``"A"`` nor ``"B"``.
    """

    mask: Tensor

    def __init__(self, *args: Any, mask_type: str = "A", **kwargs: Any) -> None:
        _check_mask_type(mask_type)
        super().__init__(*args, **kwargs)
        kh, kw = self.weight.shape[-2:]
        pattern = self._mask_pattern(kh, kw, mask_type).to(self.weight)
        self.register_buffer("mask", pattern.expand_as(self.weight).clone())

    @staticmethod
    def _mask_pattern(kh: int, kw: int, mask_type: str) -> Tensor:
        """Return the ``(kh, kw)`` 0/1 pattern shared by every input/output channel pair."""
        return raster_scan_mask(kh, kw, mask_type).float()

    def masked_weight(self) -> Tensor:
        """Return ``weight * mask``, the kernel this layer convolves with (differentiable)."""
        return self.weight * self.mask

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, self.masked_weight(), self.bias)


class CheckerboardMaskedConv2d(MaskedConv2d):
    r"""2-D convolution masked to a checkerboard, for two-pass (anchor / non-anchor) contexts.

    From `"Checkerboard Context Model for Efficient Learned Image Compression"
    <https://arxiv.org/abs/2103.15306>`_, He, Zheng, Sun, Wang and Qin, CVPR 2021. Kernel
    tap ``(i, j)`` is kept when ``i + j`` is odd, i.e. only positions of the other colour
    are seen; the centre is dropped for type ``"A"`` and kept for type ``"B"``. For a 5x5
    type-``"A"`` kernel:

    .. code-block:: none

        0 1 0 1 0
        1 0 1 0 1
        0 1 0 1 0
        1 0 1 0 1
        0 1 0 1 0

    Args:
        *args: Positional arguments of :class:`torch.nn.Conv2d`.
        mask_type: ``"A"`` to hide the centre tap, ``"B"`` to keep it.
        **kwargs: Keyword arguments of :class:`torch.nn.Conv2d`.

    Raises:
        ValueError: If ``mask_type`` is neither ``"A"`` nor ``"B"``.
    """

    @staticmethod
    def _mask_pattern(kh: int, kw: int, mask_type: str) -> Tensor:
        rows = torch.arange(kh)[:, None]
        cols = torch.arange(kw)[None, :]
        pattern = ((rows + cols) % 2 == 1).float()
        pattern[kh // 2, kw // 2] = float(mask_type == "B")
        return pattern
