"""Lower bounding with a gradient that can still push values back above the bound."""

from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["LowerBound", "lower_bound"]


class _LowerBoundFunction(torch.autograd.Function):
    """``max(x, bound)`` whose backward lets useful gradients through below the bound."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, bound: Tensor) -> Tensor:
        ctx.save_for_backward(x, bound)
        return torch.max(x, bound)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor, None]:
        x, bound = ctx.saved_tensors
        # A true max() would starve clamped inputs of gradient forever. A negative gradient
        # means descent would raise x (towards and above the bound), so it is let through.
        passes = (x >= bound) | (grad_output < 0)
        return passes * grad_output, None


def lower_bound(x: Tensor, bound: Tensor) -> Tensor:
    r"""Return ``torch.max(x, bound)`` with the straight-through gradient of :class:`LowerBound`.

    Args:
        x: Input of any shape and floating dtype.
        bound: Tensor broadcastable to ``x`` (usually one element) holding the lower bound.
    """
    return _LowerBoundFunction.apply(x, bound)


class LowerBound(nn.Module):
    r"""Clamp from below at a fixed bound, keeping a gradient that can lift clamped inputs.

    The forward pass is :math:`\max(x, b)`. The backward pass passes the incoming gradient
    :math:`g` through wherever the input is already at or above the bound, or wherever
    following the gradient would move it upwards:

    .. math::

        \frac{\partial L}{\partial x} = g \cdot \mathbb{1}\left[x \ge b \;\lor\; g < 0\right]

    It is used to keep GDN's parameters and entropy-model likelihoods away from zero
    without freezing them once they reach the bound.

    ``torch.jit.script`` compiles it (and so GDN and the entropy models' bounds); scripted,
    the forward pass is the same ``max`` and the gradient is max's own.

    Args:
        bound: The lower bound :math:`b`, any finite float. It is stored as the one-element
            buffer ``bound`` (default dtype), so it follows the module across devices and
            dtypes and is saved in the ``state_dict``.
    """

    bound: Tensor

    def __init__(self, bound: float) -> None:
        super().__init__()
        self.register_buffer("bound", torch.tensor([float(bound)]))

    def forward(self, x: Tensor) -> Tensor:
        # TorchScript cannot compile autograd Functions: scripted, it is a plain max (the
        # same values; TorchScript models are usually for inference).
        if torch.jit.is_scripting():
            return torch.max(x, self.bound)
        return self._eager(x)

    @torch.jit.unused
    def _eager(self, x: Tensor) -> Tensor:
        return lower_bound(x, self.bound)
