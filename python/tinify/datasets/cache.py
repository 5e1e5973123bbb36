"""A base for datasets that preprocess every item once into memory-mapped arrays, as
CompressAI's ``CacheDataset``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from torch.utils.data import Dataset
from tqdm import tqdm

__all__ = ["CacheDataset"]


class CacheDataset(Dataset):
    """Items are dicts of arrays, stored once in ``cache_root`` (one ``KEY.npy`` raw array per
    key, plus ``info.json`` with each key's dtype and shape) and memory-mapped afterwards.

    A subclass lists its items (``_get_items``), loads one as a dict of arrays or tensors
    (``_load_item``) and calls ``_ensure_cache()`` in its constructor: the first run loads
    every item, applies ``pre_transform`` and writes the cache; later runs only map it.
    ``transform`` applies to each item on access (a copy, so it may modify it).

    Args:
        cache_root: the cache folder (created when missing).
        pre_transform: applied to each item before it is cached.
        transform: applied to each item when read.
    """

    def __init__(
        self,
        cache_root: str | Path | None = None,
        pre_transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        transform: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        if cache_root is None:
            raise ValueError("CacheDataset needs a cache_root folder")
        self._cache_root = Path(cache_root)
        self.pre_transform = pre_transform
        self.transform = transform
        self._store: dict[str, np.memmap] = {}

    def __len__(self) -> int:
        return len(next(iter(self._store.values()))) if self._store else 0

    def __getitem__(self, index: int) -> Any:
        data = {key: values[index].copy() for key, values in self._store.items()}
        return self.transform(data) if self.transform is not None else data

    def _ensure_cache(self) -> None:
        """Maps the cache, generating it first if it does not exist."""
        try:
            self._load_cache(mode="r")
        except FileNotFoundError:
            self._generate_cache()
            self._load_cache(mode="r")

    def _load_cache(self, mode: Literal["r", "w+"]) -> None:
        info = json.loads((self._cache_root / "info.json").read_text())
        self._store = {
            key: np.memmap(
                self._cache_root / f"{key}.npy",
                mode=mode,
                dtype=entry["dtype"],
                shape=tuple(entry["shape"]),
            )
            for key, entry in info.items()
        }

    def _generate_cache(self, verbose: bool = True) -> None:
        items = self._get_items()
        if verbose:
            print(f"Generating cache at {self._cache_root}...")
        for i, item in enumerate(tqdm(items, disable=not verbose)):
            data = self._load_item(item)
            if self.pre_transform is not None:
                data = self.pre_transform(data)
            if not self._store:
                self._write_cache_info(len(items), data)
                self._load_cache(mode="w+")
            for key, value in data.items():
                self._store[key][i] = value
        for values in self._store.values():
            values.flush()

    def _write_cache_info(self, num_samples: int, data: dict[str, Any]) -> None:
        info = {
            key: {
                "dtype": str(value.dtype).removeprefix("torch."),
                "shape": (num_samples, *value.shape),
            }
            for key, value in data.items()
        }
        self._cache_root.mkdir(parents=True, exist_ok=True)
        (self._cache_root / "info.json").write_text(json.dumps(info, indent=2))

    def _get_items(self) -> Sequence[Any]:
        """The items to cache (anything ``_load_item`` accepts)."""
        raise NotImplementedError

    def _load_item(self, item: Any) -> dict[str, Any]:
        """One item as a dict of arrays (or tensors) of fixed shapes."""
        raise NotImplementedError
