"""The Vimeo-90K septuplet/triplet dataset, frames as separate items, as CompressAI's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image
from torch.utils.data import Dataset

from tinify.datasets._errors import InvalidChoiceError, MissingFileError
from tinify.registry import register_dataset

__all__ = ["Vimeo90kDataset"]

_LIST_PREFIX = {3: "tri", 7: "sep"}
_LIST_SUFFIX = {"train": "trainlist", "valid": "testlist"}


@register_dataset("Vimeo90kDataset")
class Vimeo90kDataset(Dataset):
    """Every frame of the Vimeo-90K sequences a list file names, as RGB PIL images.

    `Video Enhancement with Task-Oriented Flow <https://arxiv.org/abs/1711.09078>`_, Tianfan
    Xue, Baian Chen, Jiajun Wu, Donglai Wei, William T. Freeman, IJCV 2019.

    .. code-block:: none

        root/
            tri_trainlist.txt  tri_testlist.txt   (sep_* for septuplets)
            sequences/00001/0001/im1.png ... im3.png (im7.png)

    Each line of the list (``00001/0001``) contributes its ``tuplet`` frames, in order.

    Args:
        root: the dataset's folder.
        transform: a callable applied to each PIL image.
        split: ``"train"`` or ``"valid"``.
        tuplet: frames per sequence, 3 (triplets) or 7 (septuplets).

    Raises:
        ValueError: for another split or tuplet (also a KeyError, as CompressAI's), or a
            missing list file (also a FileNotFoundError).
    """

    def __init__(
        self,
        root: str | Path,
        transform: Callable[[Image.Image], Any] | None = None,
        split: str = "train",
        tuplet: int = 3,
    ) -> None:
        if tuplet not in _LIST_PREFIX:
            raise InvalidChoiceError(f"tuplet must be 3 or 7, got {tuplet!r}")
        if split not in _LIST_SUFFIX:
            raise InvalidChoiceError(f'split must be "train" or "valid", got {split!r}')
        list_path = Path(root) / f"{_LIST_PREFIX[tuplet]}_{_LIST_SUFFIX[split]}.txt"
        if not list_path.is_file():
            raise MissingFileError(f"Missing list file {list_path}")
        sequences = [line.strip() for line in list_path.read_text().splitlines() if line.strip()]
        self.samples = [
            f"{root}/sequences/{sequence}/im{frame}.png"
            for sequence in sequences
            for frame in range(1, tuplet + 1)
        ]
        self.transform = transform

    def __getitem__(self, index: int) -> Any:
        """Frame ``index`` in RGB, transformed if a transform was given."""
        with Image.open(self.samples[index]) as image:
            rgb = image.convert("RGB")
        return self.transform(rgb) if self.transform else rgb

    def __len__(self) -> int:
        return len(self.samples)
