"""The simplified attention module of Cheng et al. (2020)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tinify.layers.conv import conv1x1, conv3x3

__all__ = ["AttentionBlock"]


class _AttentionResidualUnit(nn.Module):
    """1x1 (halve channels), 3x3, 1x1 (restore) with ReLUs, plus identity, then ReLU."""

    def __init__(self, N: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            conv1x1(N, N // 2),
            nn.ReLU(inplace=True),
            conv3x3(N // 2, N // 2),
            nn.ReLU(inplace=True),
            conv1x1(N // 2, N),
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.conv(x) + x)


class AttentionBlock(nn.Module):
    r"""Attention by a sigmoid mask computed from the input itself (no non-local part).

    The simplified attention module of `"Learned Image Compression with Discretized Gaussian
    Mixture Likelihoods and Attention Modules" <https://arxiv.org/abs/2001.01568>`_, Cheng,
    Sun, Takeuchi and Katto, CVPR 2020. A trunk of three residual units is gated by a mask
    branch of three residual units and a 1x1 convolution:

    .. code-block:: none

        x ─┬─> conv_a: 3 x ResidualUnit ────────────────────> a ─┐
           ├─> conv_b: 3 x ResidualUnit ─> conv1x1 ─> sigmoid ───(x)──(+)──> y
           └───────────────────────────────────────────────────────────┘

    .. math::

        y = a(x) \odot \sigma(b(x)) + x

    Each residual unit is ``ReLU(x + conv1x1(ReLU(conv3x3(ReLU(conv1x1(x))))))`` with a
    hidden width of ``N // 2``.

    Args:
        N: Number of input and output channels, ``>= 2``.
    """

    def __init__(self, N: int) -> None:
        super().__init__()
        self.conv_a = nn.Sequential(*(_AttentionResidualUnit(N) for _ in range(3)))
        self.conv_b = nn.Sequential(
            *(_AttentionResidualUnit(N) for _ in range(3)),
            conv1x1(N, N),
        )

    def forward(self, x: Tensor) -> Tensor:
        a = self.conv_a(x)
        b = self.conv_b(x)
        return a * torch.sigmoid(b) + x
