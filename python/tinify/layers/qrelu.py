"""The clamping ReLU of integer networks, with a smooth surrogate gradient."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.autograd import Function

__all__ = ["QReLU"]

# The surrogate gradient's scale, a constant from the gamma function (CompressAI's value).
_ALPHA = 0.9943258522851727


class QReLU(Function):
    """``clamp(x, 0, 2**bit_depth − 1)`` with a gradient outside the range too.

    From `Integer Networks for Data Compression with Latent-Variable Models
    <https://openreview.net/pdf?id=S1zz2i0cY7>`_, Johannes Ballé, Nick Johnston, David Minnen,
    ICLR 2019. Inside the range the gradient passes unchanged; outside it is scaled by
    ``exp(−α^β · |2x / max − 1|^β)``, so clamped values still learn.

    Use ``QReLU.apply(x, bit_depth, beta)``: the range is ``[0, 2**bit_depth − 1]`` and
    ``beta`` is the surrogate gradient's exponent β.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor, bit_depth: int, beta: float) -> Tensor:
        ctx.alpha = _ALPHA
        ctx.beta = beta
        ctx.max_value = 2**bit_depth - 1
        ctx.save_for_backward(input)
        return input.clamp(min=0, max=ctx.max_value)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor, None, None]:
        (x,) = ctx.saved_tensors
        outside = (x < 0) | (x > ctx.max_value)
        decay = torch.exp(
            -(ctx.alpha**ctx.beta) * torch.abs(2.0 * x / ctx.max_value - 1) ** ctx.beta
        )
        return torch.where(outside, decay * grad_output, grad_output), None, None
