"""A dataset over numpy arrays indexed along their first axis, as CompressAI's."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch.utils.data import Dataset

__all__ = ["NdArrayDataset"]


class NdArrayDataset(Dataset):
    """Item ``i`` is ``(a[i] for a in arrays)`` as a tuple, or ``arrays[0][i]`` when ``single``.

    Args:
        *arrays: arrays with the same first dimension (the number of items).
        single: return the one array's item itself instead of a 1-tuple.

    Raises:
        ValueError: if the arrays' first dimensions differ, none is given, or ``single`` is
            set with several arrays. (CompressAI asserts the first and fails on first access
            for the last.)
    """

    arrays: tuple[np.ndarray, ...]

    def __init__(self, *arrays: np.ndarray, single: bool = False) -> None:
        if not arrays:
            raise ValueError("NdArrayDataset needs at least one array")
        if any(array.shape[0] != arrays[0].shape[0] for array in arrays):
            raise ValueError("Size mismatch between arrays")
        if single and len(arrays) != 1:
            raise ValueError(f"single=True needs exactly one array, got {len(arrays)}")
        self.arrays = arrays
        self.single = single

    def __getitem__(self, index: Any) -> Any:
        if self.single:
            return self.arrays[0][index]
        return tuple(array[index] for array in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]
