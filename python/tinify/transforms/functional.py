"""Colour-space and chroma-subsampling conversions on tensors, as
``compressai.transforms.functional``: RGB ↔ YCbCr (ITU-R BT.709) and YUV 4:4:4 ↔ 4:2:0."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "YCBCR_WEIGHTS",
    "rgb2ycbcr",
    "ycbcr2rgb",
    "yuv_420_to_444",
    "yuv_444_to_420",
]

#: Luma weights ``(K_r, K_g, K_b)`` of each standard, ``K_g = 1 − K_r − K_b``.
YCBCR_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "ITU-R_BT.709": (0.2126, 0.7152, 0.0722),
}

_DOWNSAMPLING = ("avg_pool",)
_UPSAMPLING = ("bilinear", "bicubic", "nearest")


def _check_image(tensor: Tensor) -> None:
    if (
        not isinstance(tensor, Tensor)
        or not tensor.is_floating_point()
        or tensor.dim() not in (3, 4)
        or tensor.size(-3) != 3
    ):
        raise ValueError("Expected a 3D or 4D tensor with shape (Nx3xHxW) or (3xHxW) as input")


def rgb2ycbcr(rgb: Tensor) -> Tensor:
    """RGB to YCbCr (BT.709, full range, chroma centred on 0.5).

    Args:
        rgb: a float tensor ``(3, H, W)`` or ``(N, 3, H, W)``, values in [0, 1].

    Raises:
        ValueError: if ``rgb`` is not a 3-channel 3-D or 4-D float tensor.
    """
    _check_image(rgb)
    kr, kg, kb = YCBCR_WEIGHTS["ITU-R_BT.709"]
    r, g, b = rgb.chunk(3, dim=-3)
    y = kr * r + kg * g + kb * b
    cb = 0.5 * (b - y) / (1 - kb) + 0.5
    cr = 0.5 * (r - y) / (1 - kr) + 0.5
    return torch.cat((y, cb, cr), dim=-3)


def ycbcr2rgb(ycbcr: Tensor) -> Tensor:
    """YCbCr to RGB, the inverse of :func:`rgb2ycbcr`.

    Args:
        ycbcr: a float tensor ``(3, H, W)`` or ``(N, 3, H, W)``.

    Raises:
        ValueError: if ``ycbcr`` is not a 3-channel 3-D or 4-D float tensor.
    """
    _check_image(ycbcr)
    kr, kg, kb = YCBCR_WEIGHTS["ITU-R_BT.709"]
    y, cb, cr = ycbcr.chunk(3, dim=-3)
    r = y + (2 - 2 * kr) * (cr - 0.5)
    b = y + (2 - 2 * kb) * (cb - 0.5)
    g = (y - kr * r - kb * b) / kg
    return torch.cat((r, g, b), dim=-3)


def yuv_444_to_420(
    yuv: Tensor | tuple[Tensor, Tensor, Tensor], mode: str = "avg_pool"
) -> tuple[Tensor, Tensor, Tensor]:
    """Halves the chroma planes' width and height (4:4:4 to 4:2:0).

    Args:
        yuv: a ``(N, 3, H, W)`` tensor, or three ``(N, 1, H, W)`` planes.
        mode: the downsampling, ``"avg_pool"`` (mean of each 2×2 block).

    Returns:
        ``(y, u, v)``: ``y`` unchanged, ``u`` and ``v`` of size ``(H // 2, W // 2)``.

    Raises:
        ValueError: for another ``mode``.
    """
    if mode not in _DOWNSAMPLING:
        raise ValueError(f'Invalid downsampling mode "{mode}".')
    y, u, v = yuv.chunk(3, dim=1) if isinstance(yuv, Tensor) else yuv
    return y, F.avg_pool2d(u, kernel_size=2, stride=2), F.avg_pool2d(v, kernel_size=2, stride=2)


def yuv_420_to_444(
    yuv: tuple[Tensor, Tensor, Tensor], mode: str = "bilinear", return_tuple: bool = False
) -> Tensor | tuple[Tensor, Tensor, Tensor]:
    """Doubles the chroma planes' width and height (4:2:0 to 4:4:4).

    Args:
        yuv: three ``(N, 1, H, W)`` planes, the chroma ones at half size.
        mode: the interpolation, ``"bilinear"``, ``"bicubic"`` or ``"nearest"``.
        return_tuple: return the three planes instead of one ``(N, 3, H, W)`` tensor.

    Raises:
        ValueError: if ``yuv`` is not three tensors, or for another ``mode``.
    """
    if len(yuv) != 3 or not all(isinstance(plane, Tensor) for plane in yuv):
        raise ValueError("Expected a tuple of 3 torch tensors")
    if mode not in _UPSAMPLING:
        raise ValueError(f'Invalid upsampling mode "{mode}".')
    options = {} if mode == "nearest" else {"align_corners": False}
    y, u, v = yuv
    u, v = (F.interpolate(c, scale_factor=2, mode=mode, **options) for c in (u, v))
    return (y, u, v) if return_tuple else torch.cat((y, u, v), dim=1)
