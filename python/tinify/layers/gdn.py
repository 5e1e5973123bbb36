"""Generalized divisive normalization (GDN) and its simplified L1 form."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tinify.ops.parametrizers import NonNegativeParametrizer

__all__ = ["GDN", "GDN1"]


class GDN(nn.Module):
    r"""Generalized divisive normalization across channels, or its inverse (IGDN).

    From `"Density Modeling of Images using a Generalized Normalization Transformation"
    <https://arxiv.org/abs/1511.06281>`_, Ballé, Laparra and Simoncelli, ICLR 2016.
    Each channel is divided by a learned norm of all channels at the same pixel:

    .. math::

        y_i = \frac{x_i}{\sqrt{\beta_i + \sum_j \gamma_{ij}\, x_j^2}}

    With ``inverse=True`` the division becomes a multiplication, which approximately
    undoes GDN in a synthesis transform. :math:`\beta` and :math:`\gamma` are stored through
    :class:`~tinify.ops.NonNegativeParametrizer` (submodules ``beta_reparam`` and
    ``gamma_reparam``), so the raw parameters ``beta`` and ``gamma`` hold the square roots of
    the effective values. They start at :math:`\beta = 1` and
    :math:`\gamma = \text{gamma\_init} \cdot I`.

    Args:
        in_channels: Number of channels :math:`C \ge 1`; inputs have shape ``(N, C, H, W)``.
        inverse: Compute IGDN, :math:`y_i = x_i \sqrt{\beta_i + \sum_j \gamma_{ij} x_j^2}`.
        beta_min: Lower bound on every :math:`\beta_i`, ``>= 0``; keeps the norm away from zero.
        gamma_init: Initial value of the diagonal of :math:`\gamma`.
    """

    def __init__(
        self,
        in_channels: int,
        inverse: bool = False,
        beta_min: float = 1e-6,
        gamma_init: float = 0.1,
    ) -> None:
        super().__init__()
        if in_channels < 1:
            raise ValueError(f"in_channels must be >= 1, got {in_channels!r}")
        self.inverse = bool(inverse)
        self.beta_reparam = NonNegativeParametrizer(minimum=float(beta_min))
        self.beta = nn.Parameter(self.beta_reparam.init(torch.ones(in_channels)))
        self.gamma_reparam = NonNegativeParametrizer()
        gamma = float(gamma_init) * torch.eye(in_channels)
        self.gamma = nn.Parameter(self.gamma_reparam.init(gamma))

    def _norm_inputs(self) -> tuple[Tensor, Tensor]:
        r"""Return the effective :math:`\gamma` as a 1x1 conv weight and :math:`\beta` as bias."""
        beta = self.beta_reparam(self.beta)
        # Shaped from the parameter, not the input, so a channel mismatch is reported by conv2d.
        gamma = self.gamma_reparam(self.gamma)[:, :, None, None]
        return gamma, beta

    def forward(self, x: Tensor) -> Tensor:
        gamma, beta = self._norm_inputs()
        norm = F.conv2d(x**2, gamma, beta)
        # Multiplying by (r)sqrt rather than dividing keeps results bit-identical to
        # CompressAI, so latents round, and hence code, the same way.
        norm = torch.sqrt(norm) if self.inverse else torch.rsqrt(norm)
        return x * norm

    def extra_repr(self) -> str:
        return f"in_channels={self.beta.numel()}, inverse={self.inverse}"


class GDN1(GDN):
    r"""Simplified GDN, normalizing by an L1 norm without the square root.

    From `"Computationally Efficient Neural Image Compression"
    <https://arxiv.org/abs/1912.08771>`_, Johnston, Eban, Gordon and Ballé, arXiv 2019:

    .. math::

        y_i = \frac{x_i}{\beta_i + \sum_j \gamma_{ij}\, |x_j|}

    With ``inverse=True`` the output is :math:`x_i (\beta_i + \sum_j \gamma_{ij} |x_j|)`.
    Parameters, buffers and arguments are those of :class:`GDN`.

    Args:
        in_channels: Number of channels :math:`C \ge 1`; inputs have shape ``(N, C, H, W)``.
        inverse: Multiply by the norm instead of dividing.
        beta_min: Lower bound on every :math:`\beta_i`, ``>= 0``.
        gamma_init: Initial value of the diagonal of :math:`\gamma`.
    """

    def forward(self, x: Tensor) -> Tensor:
        gamma, beta = self._norm_inputs()
        norm = F.conv2d(torch.abs(x), gamma, beta)
        if not self.inverse:
            # Reciprocal then multiply, as CompressAI does, for bit-identical outputs.
            norm = 1.0 / norm
        return x * norm
