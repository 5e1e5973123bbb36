"""Rounding with a straight-through gradient."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["quantize_ste"]


def quantize_ste(x: Tensor) -> Tensor:
    r"""Round to the nearest integer in the forward pass, act as the identity in the backward.

    .. math::

        \hat{x} = \operatorname{round}(x), \qquad
        \frac{\partial \hat{x}}{\partial x} := 1

    The straight-through estimator of `"Lossy Image Compression with Compressive
    Autoencoders" <https://arxiv.org/abs/1703.00395>`_, Theis, Shi, Cunningham and Huszár,
    ICLR 2017. Ties round to even, as :func:`torch.round` does.

    Args:
        x: Floating-point tensor of any shape.
    """
    # Only the rounding residual is detached, so the graph sees x + constant.
    return (torch.round(x) - x).detach() + x
