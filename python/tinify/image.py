"""Images in and out of the models: conversion of paths, PIL images, arrays and tensors to a
``(1, 3, H, W)`` float batch and back, and the padding the models need.

Every mode is coded as RGB (docs/format.md §5):

- greyscale (``L``, ``1``, 16-bit ``I;16``) is coded with R = G = B and decoded as the mean of
  the three channels;
- an alpha channel (``LA``, ``RGBA``, palette images with transparency) is set aside, to be
  carried losslessly beside the coded colour;
- 16-bit samples (16-bit greyscale PNGs, ``uint16`` arrays) are reduced to 8 bits,
  ``round(v / 257)``, and :class:`ImageInfo` records ``bit_depth=16``. (Pillow itself reads
  16-bit RGB PNGs at 8 bits.)
- palette, CMYK, YCbCr and other modes are converted to RGB (RGBA with transparency).

Padding is centred, with zeros, and the odd row or column goes to the bottom or right, as in
CompressAI's evaluation (:func:`tinify.ops.compute_padding`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from tinify.limits import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE
from tinify.ops import compute_padding

__all__ = [
    "DEFAULT_MULTIPLE",
    "OUTPUTS",
    "ImageInfo",
    "crop",
    "from_output",
    "load_image",
    "pad",
    "padding_multiple",
    "to_numpy",
    "to_pil",
    "to_tensor",
]

#: The padding multiple of a model that does not say (``downsampling_factor``).
DEFAULT_MULTIPLE = 64
#: What :func:`from_output` can return.
OUTPUTS = ("pil", "numpy", "tensor")

_CHANNELS_TO_MODE = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


@dataclass(frozen=True)
class ImageInfo:
    """What the coded tensor does not say about an image.

    Attributes:
        mode: ``"L"``, ``"LA"``, ``"RGB"`` or ``"RGBA"``: the mode to give back.
        bit_depth: bits per sample of the input (8, or 16 for 16-bit inputs coded at 8).
        size: ``(height, width)`` in pixels.
        alpha: the alpha plane, ``(H, W)`` uint8, for ``LA`` and ``RGBA``; else None.
    """

    mode: str
    bit_depth: int
    size: tuple[int, int]
    alpha: np.ndarray | None = field(default=None, repr=False, compare=False)


def load_image(image: Any) -> tuple[Tensor, ImageInfo]:
    """An image as a ``(1, 3, H, W)`` float32 tensor in [0, 1], and its :class:`ImageInfo`.

    Args:
        image: a path (``str`` or ``os.PathLike``), a ``PIL.Image.Image``, a ``uint8`` or
            ``uint16`` numpy array ``(H, W)`` or ``(H, W, C)`` with ``C`` in 1-4, or a float
            tensor ``(C, H, W)`` or ``(1, C, H, W)`` in [0, 1] with ``C`` in 1-4 (a ``uint8``
            tensor is divided by 255).

    Raises:
        TypeError: an unsupported kind of image or dtype.
        ValueError: an empty or too large image, a bad channel count, or tensor values
            outside [0, 1].
        OSError: a path that cannot be read as an image.
    """
    if isinstance(image, str | os.PathLike):
        with Image.open(image) as img:
            img.load()
            return _from_pil(img)
    if isinstance(image, Image.Image):
        return _from_pil(image)
    if isinstance(image, np.ndarray):
        return _from_numpy(image)
    if isinstance(image, Tensor):
        return _from_tensor(image)
    raise TypeError(
        "an image is a path, a PIL.Image, a uint8 numpy array or a float tensor, got "
        f"{type(image).__name__}"
    )


def _from_pil(img: Image.Image) -> tuple[Tensor, ImageInfo]:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greyscale (Pillow opens 16-bit PNGs as "I;16" or "I").
        return _from_numpy(np.asarray(img).astype(np.uint16, copy=False), source="PIL")
    if mode == "F":
        raise TypeError("floating-point PIL images (mode F) are not supported: pass a tensor")
    if mode == "1":
        img = img.convert("L")
    elif mode == "P" or mode == "PA":
        img = img.convert("RGBA" if "transparency" in img.info or mode == "PA" else "RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in mode else "RGB")
    return _from_numpy(np.asarray(img))


def _from_numpy(array: np.ndarray, source: str = "array") -> tuple[Tensor, ImageInfo]:
    if array.dtype == np.uint8:
        depth = 8
    elif array.dtype == np.uint16:
        depth = 16
        array = np.round(array.astype(np.float32) / 257).astype(np.uint8)
    else:
        raise TypeError(
            f"image arrays must be uint8 or uint16, got {array.dtype} (float images: pass a "
            "tensor in [0, 1])"
        )
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in _CHANNELS_TO_MODE:
        raise ValueError(
            f"image arrays are (H, W) or (H, W, C) with C in 1-4, got shape {array.shape}"
        )
    height, width, channels = array.shape
    _check_size(height, width)
    mode = _CHANNELS_TO_MODE[channels]
    colour, alpha = (array[:, :, :-1], array[:, :, -1]) if "A" in mode else (array, None)
    x = torch.from_numpy(np.array(colour, order="C")).permute(2, 0, 1).float().div_(255)
    return _as_rgb(x), ImageInfo(mode, depth, (height, width), _plane(alpha))


def _from_tensor(x: Tensor) -> tuple[Tensor, ImageInfo]:
    if x.dim() == 4:
        if x.size(0) != 1:
            raise ValueError(f"pass one image at a time, got a batch of {x.size(0)}")
        x = x[0]
    if x.dim() != 3 or x.size(0) not in _CHANNELS_TO_MODE:
        raise ValueError(
            f"image tensors are (C, H, W) or (1, C, H, W) with C in 1-4, got {tuple(x.shape)}"
        )
    if x.dtype == torch.uint8:
        x = x.float() / 255
    elif not x.is_floating_point():
        raise TypeError(f"image tensors are float in [0, 1] or uint8, got {x.dtype}")
    x = x.detach().to("cpu", torch.float32)
    if not bool(torch.isfinite(x).all()) or (x.numel() and (x.min() < 0 or x.max() > 1)):
        raise ValueError("image tensor values must be finite and in [0, 1]")
    channels, height, width = x.shape
    _check_size(height, width)
    mode = _CHANNELS_TO_MODE[channels]
    alpha = None
    if "A" in mode:
        alpha = torch.round(x[-1] * 255).to(torch.uint8).numpy()
        x = x[:-1]
    return _as_rgb(x.contiguous()), ImageInfo(mode, 8, (height, width), alpha)


def _as_rgb(x: Tensor) -> Tensor:
    """(C, H, W) with C in (1, 3) → (1, 3, H, W)."""
    return (x.expand(3, -1, -1) if x.size(0) == 1 else x).unsqueeze(0).contiguous()


def _plane(alpha: np.ndarray | None) -> np.ndarray | None:
    return None if alpha is None else np.ascontiguousarray(alpha, dtype=np.uint8)


def _check_size(height: int, width: int) -> None:
    if height < 1 or width < 1:
        raise ValueError(f"the image is empty ({height}x{width})")
    if height > MAX_IMAGE_SIDE or width > MAX_IMAGE_SIDE or height * width > MAX_IMAGE_PIXELS:
        raise ValueError(
            f"a {height}x{width} image is too large (at most {MAX_IMAGE_SIDE} per side and "
            f"{MAX_IMAGE_PIXELS} pixels)"
        )


# ----------------------------------------------------------------------------- outputs


def _decoded_uint8(x: Tensor, info: ImageInfo) -> np.ndarray:
    """(H, W, C) uint8 in ``info.mode``."""
    x = _decoded_float(x, info)
    return torch.round(x * 255).to(torch.uint8).permute(1, 2, 0).numpy()


def _decoded_float(x: Tensor, info: ImageInfo) -> Tensor:
    """(C, H, W) float in [0, 1] with ``info.mode``'s channels; alpha from the plane."""
    if x.dim() == 4:
        x = x[0]
    if x.dim() != 3 or x.size(0) != 3:
        raise ValueError(f"expected a decoded RGB image (1, 3, H, W), got {tuple(x.shape)}")
    x = x.detach().to("cpu", torch.float32).clamp(0, 1)
    if tuple(x.shape[1:]) != tuple(info.size):
        raise ValueError(f"decoded image is {tuple(x.shape[1:])}, expected {info.size}")
    if info.mode in ("L", "LA"):
        # Rounded to 8 bits first, so that the mean is the mean of the decoded pixels.
        x = (torch.round(x * 255).mean(0, keepdim=True).round() / 255).clamp(0, 1)
    if info.mode in ("LA", "RGBA"):
        if info.alpha is None:
            raise ValueError(f"mode {info.mode} needs the alpha plane")
        alpha = torch.from_numpy(np.array(info.alpha, dtype=np.uint8)).float().div(255)
        x = torch.cat([x, alpha.reshape(1, *info.size)])
    return x


def to_numpy(x: Tensor, info: ImageInfo) -> np.ndarray:
    """A decoded ``(1, 3, H, W)`` tensor as uint8: ``(H, W)`` for ``L``, else ``(H, W, C)``."""
    array = _decoded_uint8(x, info)
    return array[:, :, 0].copy() if info.mode == "L" else array


def to_pil(x: Tensor, info: ImageInfo) -> Image.Image:
    """A decoded ``(1, 3, H, W)`` tensor as a PIL image of ``info.mode`` (8 bits)."""
    return Image.fromarray(to_numpy(x, info), mode=None)


def to_tensor(x: Tensor, info: ImageInfo) -> Tensor:
    """A decoded ``(1, 3, H, W)`` tensor as ``(1, C, H, W)`` float in [0, 1], ``C`` the
    channels of ``info.mode`` (colour as decoded, unrounded except for ``L``)."""
    return _decoded_float(x, info).unsqueeze(0)


def from_output(x: Tensor, info: ImageInfo, output: str) -> Any:
    """:func:`to_pil`, :func:`to_numpy` or :func:`to_tensor`, by name (``OUTPUTS``)."""
    if output == "pil":
        return to_pil(x, info)
    if output == "numpy":
        return to_numpy(x, info)
    if output == "tensor":
        return to_tensor(x, info)
    raise ValueError(f"unknown output {output!r}, expected one of {OUTPUTS}")


# ----------------------------------------------------------------------------- padding


def padding_multiple(model: Any) -> int:
    """The multiple a model needs image sides padded to: its ``downsampling_factor``, or
    :data:`DEFAULT_MULTIPLE` (64) for a model that does not say."""
    try:
        factor = getattr(model, "downsampling_factor", None)
    except NotImplementedError:
        factor = None
    if isinstance(factor, int) and not isinstance(factor, bool) and factor >= 1:
        return factor
    return DEFAULT_MULTIPLE


def pad(x: Tensor, multiple: int) -> Tensor:
    """``x`` ``(N, C, H, W)`` zero-padded, centred, to sides that are multiples of
    ``multiple`` (the odd row or column at the bottom or right)."""
    height, width = x.shape[-2:]
    padding, _ = compute_padding(height, width, min_div=multiple)
    return F.pad(x, padding, mode="constant", value=0) if any(padding) else x


def crop(x: Tensor, size: tuple[int, int]) -> Tensor:
    """The centred ``(height, width)`` crop of ``x`` that undoes :func:`pad`."""
    height, width = size
    out_h, out_w = x.shape[-2:]
    if height > out_h or width > out_w:
        raise ValueError(f"cannot crop a {out_h}x{out_w} image to {height}x{width}")
    top = (out_h - height) // 2
    left = (out_w - width) // 2
    return x[..., top : top + height, left : left + width]
