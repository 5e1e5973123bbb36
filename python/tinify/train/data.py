"""Training images: a folder of photographs, decoded once, cut into random crops."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset, Sampler

__all__ = ["IMAGE_SUFFIXES", "ImageFolder", "SkipSampler", "image_files", "load_uint8"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".ppm")


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
    """Random ``patch_size`` crops of a folder of images, randomly flipped, as float tensors
    ``(3, P, P)`` in [0, 1].

    Every image is decoded once, when the dataset is made, and kept as uint8 in memory. Item
    ``i`` is a crop of image ``i % len(images)``: ``repeat`` crops per image and epoch. The crop
    and flips come from torch's global generator, so seeding it (and saving its state) makes
    the crops reproducible.

    Args:
        paths: image files (see :func:`image_files`).
        patch_size: side of the square crops; images smaller than it are rejected.
        repeat: crops of each image per epoch (>= 1).
        flip: random horizontal and vertical flips.

    Raises:
        ValueError: if an image is smaller than ``patch_size``.
    """

    def __init__(
        self, paths: Sequence[str | Path], patch_size: int = 128, repeat: int = 1, flip: bool = True
    ) -> None:
        if patch_size < 1 or repeat < 1:
            raise ValueError(f"patch_size and repeat must be >= 1, got {patch_size}, {repeat}")
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

    def __len__(self) -> int:
        return len(self.images) * self.repeat

    def __getitem__(self, index: int) -> Tensor:
        image = self.images[index % len(self.images)]
        p = self.patch_size
        top = int(torch.randint(image.size(1) - p + 1, ()))
        left = int(torch.randint(image.size(2) - p + 1, ()))
        crop = image[:, top : top + p, left : left + p]
        if self.flip:
            flips = torch.rand(2)
            if flips[0] < 0.5:
                crop = crop.flip(2)
            if flips[1] < 0.5:
                crop = crop.flip(1)
        return crop.float().div_(255)


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
