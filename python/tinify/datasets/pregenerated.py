"""Pre-cut, pre-shuffled patches in one memory-mapped uint8 array, as CompressAI's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from tinify.datasets._errors import DatasetNotFoundError, MissingFileError
from tinify.registry import register_dataset

__all__ = ["PreGeneratedMemmapDataset"]

_FILES = {"train": "training.npy", "valid": "validation.npy"}


@register_dataset("PreGeneratedMemmapDataset")
class PreGeneratedMemmapDataset(Dataset):
    """Patches stored as raw uint8 bytes, ``N × H × W × 3``, in ``root/training.npy`` (split
    ``"train"``) or ``root/validation.npy`` (``"valid"``), memory-mapped, each item an RGB PIL
    image passed through ``transform``.

    The files hold the pixels alone (no ``.npy`` header), as CompressAI writes and reads them.

    Args:
        root: the folder of the two files.
        transform: a callable applied to each PIL image.
        split: ``"train"`` or ``"valid"``.
        image_size: the patches' ``(H, W)``, or one int for square patches.

    Raises:
        ValueError: if ``root`` is not a folder (also a RuntimeError, as CompressAI's) or the
            file is missing (also a FileNotFoundError), for another split, or if the file is
            empty or not a whole number of patches.
    """

    def __init__(
        self,
        root: str | Path,
        transform: Callable[[Image.Image], Any] | None = None,
        split: str = "train",
        image_size: int | tuple[int, int] = (256, 256),
    ) -> None:
        if not Path(root).is_dir():
            raise DatasetNotFoundError(f"Invalid path {root}")
        if split not in _FILES:
            raise ValueError(f'split must be "train" or "valid", got {split!r}')
        path = Path(root) / _FILES[split]
        if not path.is_file():
            raise MissingFileError(f"Missing file {path}")
        height, width = (image_size, image_size) if isinstance(image_size, int) else image_size
        data = np.memmap(path, mode="r", dtype=np.uint8)
        patch = height * width * 3
        if data.size == 0 or data.size % patch:
            raise ValueError(
                f"{path} holds {data.size} bytes, not a whole number of {height}x{width}x3 patches"
            )
        self.split = split
        self.transform = transform
        self.shuffle = False
        self.data = data.reshape((-1, height, width, 3))

    def __getitem__(self, index: int) -> Any:
        """Patch ``index`` as an RGB PIL image, transformed if a transform was given."""
        image = Image.fromarray(self.data[index])
        return self.transform(image) if self.transform else image

    def __len__(self) -> int:
        return self.data.shape[0]
