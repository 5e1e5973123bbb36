"""Training images: a folder of photographs, decoded once, cut into random crops."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from tinify.files import IMAGE_SUFFIXES

__all__ = ["IMAGE_SUFFIXES", "ImageFolder", "SkipSampler", "image_files", "load_uint8"]


def image_files(
    root: str | Path, files: Iterable[str] | None = None, exclude: Iterable[str] = ()
) -> list[Path]:
    """The images of folder ``root``, sorted by name.

    Args:
        root: a folder.
        files: names (relative to ``root``) to take instead of every image there.
        exclude: names to leave out (held-out images).

    Raises:
        ValueError: if ``root`` is not a folder, a listed file is missing, or none remain.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder of images")
    if files is None:
        paths = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    else:
        paths = [root / f for f in files]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise ValueError(f"listed images not found: {', '.join(missing)}")
    excluded = set(exclude)
    paths = [p for p in paths if p.name not in excluded]
    if not paths:
        raise ValueError(f"no images in {root}")
    return paths


def load_uint8(path: str | Path) -> Tensor:
    """An image file as a ``(3, H, W)`` uint8 tensor (RGB)."""
    with Image.open(path) as im:
        return torch.from_numpy(np.array(im.convert("RGB"))).permute(2, 0, 1).contiguous()


class ImageFolder(Dataset):
    """Random ``patch_size`` crops of a set of images, as float tensors ``(3, P, P)`` in [0, 1].

    Every image is decoded once, when the dataset is made, and kept as uint8 in memory. An
    epoch holds ``repeat × len(images)`` crops; with ``by_pixels`` each image gets a share of
    them proportional to its pixel count (a 2-Mpx photograph is cropped four times as often as
    a 0.5-Mpx one, so every pixel is equally likely to be seen), otherwise ``repeat`` each.
    A crop covers a random square of side ``P / s`` with ``s`` drawn uniformly from
    ``scale`` and resized to ``P`` (antialiased; ``s < 1`` shows the network coarser detail,
    as if the photograph had been taken at a lower resolution), then is flipped and turned by a
    random multiple of 90°. Every draw comes from torch's global generator, so seeding it (and
    saving its state) makes the crops reproducible.

    Args:
        paths: image files (see :func:`image_files`).
        patch_size: side of the square crops; images smaller than it are rejected.
        repeat: crops per image per epoch, on average (>= 1).
        flip: random horizontal and vertical flips.
        scale: ``(low, high)`` range of the downscaling factor, ``0 < low <= high <= 1``;
            ``(1, 1)`` crops at full resolution.
        rot90: random quarter turns (the crop is square, so shapes do not change).
        by_pixels: share the crops among images by pixel count.

    Raises:
        ValueError: if an image is smaller than ``patch_size`` or an argument is out of range.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        patch_size: int = 128,
        repeat: int = 1,
        flip: bool = True,
        *,
        scale: tuple[float, float] = (1.0, 1.0),
        rot90: bool = False,
        by_pixels: bool = False,
    ) -> None:
        if patch_size < 1 or repeat < 1:
            raise ValueError(f"patch_size and repeat must be >= 1, got {patch_size}, {repeat}")
        low, high = (float(v) for v in scale)
        if not 0 < low <= high <= 1:
            raise ValueError(f"scale must satisfy 0 < low <= high <= 1, got {scale}")
        self.paths = [Path(p) for p in paths]
        self.images = [load_uint8(p) for p in self.paths]
        for p, im in zip(self.paths, self.images, strict=True):
            if min(im.shape[1:]) < patch_size:
                raise ValueError(
                    f"{p} ({im.shape[2]}x{im.shape[1]}) is smaller than the crop size {patch_size}"
                )
        self.patch_size = int(patch_size)
        self.repeat = int(repeat)
        self.flip = flip
        self.scale = (low, high)
        self.rot90 = rot90
        self.by_pixels = by_pixels
        # Item i of an epoch crops image owner[i]: the epoch's items split among the images by
        # the midpoint rule on the cumulative pixel counts (deterministic; the sampler shuffles).
        n = len(self.images) * self.repeat
        if by_pixels:
            pixels = torch.tensor(
                [im.shape[1] * im.shape[2] for im in self.images], dtype=torch.float64
            )
            edges = pixels.cumsum(0) / pixels.sum()
            mid = (torch.arange(n, dtype=torch.float64) + 0.5) / n
            self._owner = torch.searchsorted(edges, mid, right=True).clamp_(
                max=len(self.images) - 1
            )
        else:
            self._owner = torch.arange(n) % len(self.images)

    def __len__(self) -> int:
        return len(self.images) * self.repeat

    def __getitem__(self, index: int) -> Tensor:
        image = self.images[int(self._owner[index])]
        p = self.patch_size
        low, high = self.scale
        s = low + (high - low) * float(torch.rand(())) if high > low else low
        side = min(max(p, round(p / s)), image.size(1), image.size(2))
        top = int(torch.randint(image.size(1) - side + 1, ()))
        left = int(torch.randint(image.size(2) - side + 1, ()))
        crop = image[:, top : top + side, left : left + side].float().div_(255)
        if side != p:
            crop = torch.nn.functional.interpolate(
                crop[None], size=(p, p), mode="bilinear", antialias=True, align_corners=False
            )[0].clamp_(0, 1)
        if self.flip:
            flips = torch.rand(2)
            if flips[0] < 0.5:
                crop = crop.flip(2)
            if flips[1] < 0.5:
                crop = crop.flip(1)
        if self.rot90:
            crop = torch.rot90(crop, int(torch.randint(4, ())), dims=(1, 2))
        return crop.contiguous()


class SkipSampler(Sampler[int]):
    """The indices of ``sampler`` after the first ``skip``: resuming in the middle of an epoch."""

    def __init__(self, sampler: Sampler[int], skip: int = 0) -> None:
        self.sampler = sampler
        self.skip = int(skip)

    def __iter__(self) -> Iterator[int]:
        for i, index in enumerate(self.sampler):
            if i >= self.skip:
                yield index

    def __len__(self) -> int:
        return max(0, len(self.sampler) - self.skip)  # type: ignore[arg-type]
