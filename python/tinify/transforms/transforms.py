"""The conversions of :mod:`tinify.transforms.functional` as transform objects (for
``torchvision.transforms.Compose``), as CompressAI's."""

from __future__ import annotations

from torch import Tensor

from tinify.registry import register_transform
from tinify.transforms import functional

__all__ = ["RGB2YCbCr", "YCbCr2RGB", "YUV420To444", "YUV444To420"]


@register_transform("RGB2YCbCr")
class RGB2YCbCr:
    """RGB to YCbCr (BT.709) of a float ``(3, H, W)`` or ``(N, 3, H, W)`` tensor in [0, 1]."""

    def __call__(self, rgb: Tensor) -> Tensor:
        return functional.rgb2ycbcr(rgb)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@register_transform("YCbCr2RGB")
class YCbCr2RGB:
    """YCbCr (BT.709) to RGB of a float ``(3, H, W)`` or ``(N, 3, H, W)`` tensor."""

    def __call__(self, ycbcr: Tensor) -> Tensor:
        return functional.ycbcr2rgb(ycbcr)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@register_transform("YUV444To420")
class YUV444To420:
    """4:4:4 to 4:2:0: returns ``(y, u, v)`` with the chroma planes at half size.

    Args:
        mode: the downsampling, ``"avg_pool"``.
    """

    def __init__(self, mode: str = "avg_pool") -> None:
        self.mode = str(mode)

    def __call__(
        self, yuv: Tensor | tuple[Tensor, Tensor, Tensor]
    ) -> tuple[Tensor, Tensor, Tensor]:
        return functional.yuv_444_to_420(yuv, mode=self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@register_transform("YUV420To444")
class YUV420To444:
    """4:2:0 planes ``(y, u, v)`` to 4:4:4.

    Args:
        mode: the interpolation, ``"bilinear"``, ``"bicubic"`` or ``"nearest"`` (used; 1.2.8's
            CompressAI stores it but always upsamples bilinearly).
        return_tuple: return three planes instead of one ``(N, 3, H, W)`` tensor.
    """

    def __init__(self, mode: str = "bilinear", return_tuple: bool = False) -> None:
        self.mode = str(mode)
        self.return_tuple = bool(return_tuple)

    def __call__(
        self, yuv: tuple[Tensor, Tensor, Tensor]
    ) -> Tensor | tuple[Tensor, Tensor, Tensor]:
        return functional.yuv_420_to_444(yuv, mode=self.mode, return_tuple=self.return_tuple)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(return_tuple={self.return_tuple})"
