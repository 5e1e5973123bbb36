"""Convolutions whose kernels are stored in the frequency domain ("spectral Adam")."""

from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["SpectralConv2d", "SpectralConvTranspose2d"]


class _SpectralKernel:
    """Mixin (listed before the convolution) that replaces the convolution's ``weight``
    parameter by ``weight_transformed``, its orthonormal real 2-D DFT over the kernel's
    spatial axes; ``weight`` becomes a property computed from it."""

    kernel_size: tuple[int, ...]
    _parameters: dict[str, nn.Parameter | None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dim = (-2, -1)
        spatial = self._parameters.pop("weight")
        assert spatial is not None
        self.weight_transformed = nn.Parameter(
            torch.fft.rfftn(spatial.detach(), s=self.kernel_size, dim=self.dim, norm="ortho")
        )

    @property
    def weight(self) -> Tensor:
        if not torch.jit.is_scripting():
            spatial = self._eager_spatial()
            if spatial is not None:  # inside the convolution's own __init__
                return spatial
        return torch.fft.irfftn(
            self.weight_transformed,
            s=self.kernel_size,
            dim=self.dim,
            norm="ortho",
        )

    @torch.jit.unused
    def _eager_spatial(self) -> Tensor | None:
        # TorchScript cannot read _parameters; a scripted module is past its __init__.
        return self._parameters.get("weight")


# The kernel is computed from weight_transformed, so a read-only property stands in for the
# convolution's weight parameter, which mypy sees as a writeable attribute of _ConvNd.
class SpectralConv2d(_SpectralKernel, nn.Conv2d):  # type: ignore[override]
    """A 2-D convolution whose kernel is a parameter in the frequency domain.

    From `Efficient Nonlinear Transforms for Lossy Image Compression
    <https://arxiv.org/abs/1802.00847>`_, Johannes Ballé, PCS 2018 (there called "spectral
    Adam"): an optimiser step then moves all of a kernel's frequencies alike, which conditions
    the gradients better. The state_dict holds ``weight_transformed`` (complex, the
    ``rfftn(norm="ortho")`` of the kernel) and ``bias``, as CompressAI's.

    Args:
        *args: ``nn.Conv2d``'s.
        **kwargs: ``nn.Conv2d``'s.
    """


class SpectralConvTranspose2d(_SpectralKernel, nn.ConvTranspose2d):  # type: ignore[override]  # as above
    """The transposed convolution of :class:`SpectralConv2d`: its kernel is stored in the
    frequency domain.

    Args:
        *args: ``nn.ConvTranspose2d``'s.
        **kwargs: ``nn.ConvTranspose2d``'s.
    """
