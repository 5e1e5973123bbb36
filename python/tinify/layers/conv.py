"""Shorthand constructors for the small convolutions used throughout the models."""

from __future__ import annotations

from torch import nn

__all__ = ["conv1x1", "conv3x3", "subpel_conv3x3"]


def conv3x3(in_ch: int, out_ch: int, stride: int = 1) -> nn.Conv2d:
    """Return a 3x3 convolution with padding 1, so ``stride=1`` keeps the spatial size.

    Args:
        in_ch: Number of input channels, ``>= 1``.
        out_ch: Number of output channels, ``>= 1``.
        stride: Stride in both directions, ``>= 1``; the output is ``ceil(H / stride)`` high.
    """
    return nn.Conv2d(in_ch, out_ch, kernel_size=3, stride=stride, padding=1)


def conv1x1(in_ch: int, out_ch: int, stride: int = 1) -> nn.Conv2d:
    """Return a 1x1 convolution (a per-pixel linear map across channels).

    Args:
        in_ch: Number of input channels, ``>= 1``.
        out_ch: Number of output channels, ``>= 1``.
        stride: Stride in both directions, ``>= 1``.
    """
    return nn.Conv2d(in_ch, out_ch, kernel_size=1, stride=stride)


def subpel_conv3x3(in_ch: int, out_ch: int, r: int = 1) -> nn.Sequential:
    """Return a sub-pixel upsampler: a 3x3 convolution to ``out_ch * r**2`` channels, then
    :class:`torch.nn.PixelShuffle` by ``r``.

    From `"Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
    Convolutional Neural Network" <https://arxiv.org/abs/1609.05158>`_, Shi et al., CVPR 2016.

    Args:
        in_ch: Number of input channels, ``>= 1``.
        out_ch: Number of output channels after the shuffle, ``>= 1``.
        r: Upsampling factor, ``>= 1``; the output is ``r`` times higher and wider.
    """
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch * r**2, kernel_size=3, padding=1),
        nn.PixelShuffle(r),
    )
