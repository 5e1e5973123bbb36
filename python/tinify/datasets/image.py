"""A folder of images split into ``train/`` and ``test/`` subfolders, as CompressAI's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image
from torch.utils.data import Dataset

from tinify.datasets._errors import DatasetNotFoundError
from tinify.registry import register_dataset

__all__ = ["ImageFolder"]


@register_dataset("ImageFolder")
class ImageFolder(Dataset):
    """The files of ``root/split/``, sorted by name, as RGB PIL images passed through
    ``transform``.

    .. code-block:: none

        root/
            train/  img000.png  img001.png  ...
            test/   img000.png  ...

    (This is CompressAI's dataset; :class:`tinify.train.data.ImageFolder` is the training
    loop's, which decodes once and crops.)

    Args:
        root: the dataset's folder.
        transform: a callable applied to each PIL image (e.g. a torchvision transform).
        split: the subfolder, e.g. ``"train"`` or ``"test"``.

    Raises:
        ValueError: if ``root/split`` is not a folder (a :class:`DatasetNotFoundError`, also a
            RuntimeError as CompressAI's).
    """

    def __init__(
        self,
        root: str | Path,
        transform: Callable[[Image.Image], Any] | None = None,
        split: str = "train",
    ) -> None:
        folder = Path(root) / split
        if not folder.is_dir():
            raise DatasetNotFoundError(f'Missing directory "{folder}"')
        self.samples = sorted(path for path in folder.iterdir() if path.is_file())
        self.transform = transform

    def __getitem__(self, index: int) -> Any:
        """Image ``index`` in RGB, transformed if a transform was given."""
        with Image.open(self.samples[index]) as image:
            rgb = image.convert("RGB")
        return self.transform(rgb) if self.transform else rgb

    def __len__(self) -> int:
        return len(self.samples)
