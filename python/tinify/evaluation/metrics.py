"""Rate and distortion as CompressAI reports them: PSNR and MS-SSIM on 8-bit-rounded RGB, and
the bits a model's likelihoods estimate."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

__all__ = ["likelihood_bits", "ms_ssim", "psnr", "psnr_from_mse", "to_8bit"]


def to_8bit(x: Tensor) -> Tensor:
    """Float images in [0, 1] → values in {0, …, 255} (float), as CompressAI's eval rounds them."""
    if not torch.is_tensor(x) or not x.is_floating_point():
        raise TypeError(f"expected a float tensor with values in [0, 1], got {type(x).__name__}")
    return (x.detach().double() * 255).clamp(0, 255).round()


def _pair(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {tuple(a.shape)} and {tuple(b.shape)}")
    if a.dim() == 3:
        a, b = a[None], b[None]
    if a.dim() != 4 or a.size(1) != 3:
        raise ValueError(f"expected RGB images of shape (N, 3, H, W), got {tuple(a.shape)}")
    return to_8bit(a), to_8bit(b)


def psnr(a: Tensor, b: Tensor) -> float:
    """PSNR in dB of two float RGB images in [0, 1] after rounding both to 8 bits.

    Args:
        a: reference, shape (3, H, W) or (N, 3, H, W).
        b: reconstruction, same shape.

    Returns:
        ``20·log10(255) − 10·log10(MSE)``; ``inf`` for identical images.

    Raises:
        ValueError: if the shapes differ or are not RGB images.
    """
    a8, b8 = _pair(a, b)
    return psnr_from_mse((a8 - b8).pow(2).mean().item(), peak=255)


def psnr_from_mse(mse: float, peak: float = 1.0) -> float:
    """PSNR in dB of a mean squared error on values whose range is ``[0, peak]``:
    ``20·log10(peak) − 10·log10(mse)``, ``inf`` for a zero error."""
    return math.inf if mse <= 0 else 20 * math.log10(peak) - 10 * math.log10(mse)


def likelihood_bits(likelihoods: Any) -> float:
    """The information content in bits, ``−Σ log2 p``, of the likelihoods a model's
    ``forward()`` returns: a tensor, or the dicts and lists of them models and latent codecs
    nest."""
    return sum(float(torch.log(t).sum()) / -math.log(2) for t in _flat(likelihoods))


def _flat(value: Any) -> list[Tensor]:
    if torch.is_tensor(value):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [t for item in value for t in _flat(item)]


def ms_ssim(a: Tensor, b: Tensor) -> float:
    """MS-SSIM of two float RGB images in [0, 1] after rounding both to 8 bits, computed by
    ``pytorch_msssim`` with ``data_range=255`` (the numbers CompressAI publishes).

    Images must be larger than 160 pixels on each side (five scales of an 11-pixel window).

    Raises:
        ValueError: if the shapes differ, are not RGB images, or are too small.
        ModuleNotFoundError: if pytorch_msssim is missing (``pip install "tinify[eval]"``).
    """
    from pytorch_msssim import ms_ssim as _ms_ssim

    a8, b8 = _pair(a, b)
    if min(a8.shape[-2:]) <= 160:
        raise ValueError(
            f"MS-SSIM needs images larger than 160 pixels on each side, got {tuple(a8.shape[-2:])}"
        )
    return float(_ms_ssim(a8.float(), b8.float(), data_range=255).item())
