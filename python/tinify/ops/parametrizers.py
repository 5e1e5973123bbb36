"""Reparametrization that keeps a trainable tensor non-negative."""

import math

import torch
from torch import Tensor, nn

from tinify.ops.bound_ops import LowerBound

__all__ = ["NonNegativeParametrizer"]


class NonNegativeParametrizer(nn.Module):
    r"""Map an unconstrained tensor to values no smaller than ``minimum``.

    A parameter :math:`p` is stored in a square-root domain and read back as

    .. math::

        f(p) = \max\!\left(p, \sqrt{m + \epsilon^2}\right)^2 - \epsilon^2

    where :math:`m` is ``minimum`` and :math:`\epsilon` is ``reparam_offset``. The pedestal
    :math:`\epsilon^2` keeps the gradient of the square away from zero near :math:`f = 0`,
    which keeps training stable; the bound uses :class:`~tinify.ops.LowerBound`, so clamped
    entries can still recover. :meth:`init` is the inverse used to set the stored value.

    This is the reparametrization of GDN's :math:`\beta` and :math:`\gamma` described in
    `"End-to-end Optimized Image Compression" <https://arxiv.org/abs/1611.01704>`_,
    Ballé, Laparra and Simoncelli, ICLR 2017.

    Args:
        minimum: Smallest value :math:`f` may return; must be ``>= 0``.
        reparam_offset: The offset :math:`\epsilon`; small and positive (default
            :math:`2^{-18}`).
    """

    pedestal: Tensor

    def __init__(self, minimum: float = 0, reparam_offset: float = 2**-18) -> None:
        super().__init__()
        if not minimum >= 0:
            raise ValueError(f"minimum must be >= 0, got {minimum!r}")
        self.minimum = float(minimum)
        self.reparam_offset = float(reparam_offset)
        pedestal = self.reparam_offset**2
        self.register_buffer("pedestal", torch.tensor([pedestal]))
        self.lower_bound = LowerBound(math.sqrt(self.minimum + pedestal))

    def init(self, x: Tensor) -> Tensor:
        """Return the stored value whose :meth:`forward` gives back ``x`` (for ``x >= minimum``).

        Args:
            x: Desired non-negative values.
        """
        return torch.sqrt(torch.max(x + self.pedestal, self.pedestal))

    def forward(self, x: Tensor) -> Tensor:
        return self.lower_bound(x) ** 2 - self.pedestal

    def extra_repr(self) -> str:
        return f"minimum={self.minimum:g}, reparam_offset={self.reparam_offset:g}"
