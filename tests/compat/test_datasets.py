"""tinify.datasets against compressai.datasets, on small files written into tmp_path."""

import json

import numpy as np
import pytest
import torch
from compressai import datasets as cai_datasets
from compressai.datasets.cache import CacheDataset as CaiCacheDataset
from compressai.datasets.ndarray import NdArrayDataset as CaiNdArrayDataset
from compressai.datasets.stack import StackDataset as CaiStackDataset
from PIL import Image

from tinify import datasets
from tinify.registry import DATASETS


def _write_images(folder, count, size=(7, 5), mode="RGB"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(count)
    for i in range(count):
        channels = 3 if mode == "RGB" else 1
        pixels = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
        Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels, mode).save(
            folder / f"img{i:03d}.png"
        )


def _same_images(a, b):
    assert type(a) is type(b)
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    else:
        assert a.mode == b.mode == "RGB" and np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("transform", [None, lambda im: torch.from_numpy(np.asarray(im).copy())])
def test_image_folder_items_equal_compressai(tmp_path, transform):
    _write_images(tmp_path / "train", 3)
    _write_images(tmp_path / "test" / "gray", 0)  # a subfolder is not a sample
    _write_images(tmp_path / "test", 2, mode="L")
    for split, count in (("train", 3), ("test", 2)):
        ours = datasets.ImageFolder(tmp_path, transform=transform, split=split)
        theirs = cai_datasets.ImageFolder(tmp_path, transform=transform, split=split)
        assert len(ours) == len(theirs) == count
        assert ours.samples == theirs.samples
        for i in range(count):
            _same_images(ours[i], theirs[i])


def test_image_folder_missing_split_raises_value_error_and_compressais_runtime_error(tmp_path):
    with pytest.raises(RuntimeError):
        cai_datasets.ImageFolder(tmp_path, split="valid")
    with pytest.raises(ValueError, match="Missing directory") as info:
        datasets.ImageFolder(tmp_path, split="valid")
    assert isinstance(info.value, RuntimeError)
    with pytest.raises(RuntimeError):
        datasets.ImageFolder(tmp_path / "nowhere")


def test_pregenerated_memmap_items_equal_compressai(tmp_path):
    rng = np.random.default_rng(0)
    rng.integers(0, 256, (4, 6, 5, 3), dtype=np.uint8).tofile(tmp_path / "training.npy")
    rng.integers(0, 256, (2, 6, 6, 3), dtype=np.uint8).tofile(tmp_path / "validation.npy")
    for split, size in (("train", (6, 5)), ("valid", 6)):
        ours = datasets.PreGeneratedMemmapDataset(tmp_path, split=split, image_size=size)
        theirs = cai_datasets.PreGeneratedMemmapDataset(tmp_path, split=split, image_size=size)
        assert len(ours) == len(theirs)
        for i in range(len(ours)):
            _same_images(ours[i], theirs[i])


def test_pregenerated_memmap_errors(tmp_path):
    with pytest.raises(RuntimeError, match="Invalid path"):
        datasets.PreGeneratedMemmapDataset(tmp_path / "nowhere")
    with pytest.raises(ValueError):
        datasets.PreGeneratedMemmapDataset(tmp_path, split="test")
    with pytest.raises(ValueError):
        cai_datasets.PreGeneratedMemmapDataset(tmp_path, split="test")
    with pytest.raises(FileNotFoundError):
        datasets.PreGeneratedMemmapDataset(tmp_path)
    np.zeros(100, dtype=np.uint8).tofile(tmp_path / "training.npy")
    with pytest.raises(ValueError, match="whole number"):
        datasets.PreGeneratedMemmapDataset(tmp_path, image_size=(4, 4))


@pytest.mark.parametrize(("tuplet", "prefix"), [(3, "tri"), (7, "sep")])
def test_vimeo90k_items_equal_compressai(tmp_path, tuplet, prefix):
    sequences = ["00001/0001", "00002/0003"]
    for sequence in sequences:
        folder = tmp_path / "sequences" / sequence
        folder.mkdir(parents=True)
        for frame in range(1, tuplet + 1):
            rgb = np.full((4, 6, 3), frame * 20, dtype=np.uint8)
            Image.fromarray(rgb).save(folder / f"im{frame}.png")
    (tmp_path / f"{prefix}_trainlist.txt").write_text("\n".join(sequences) + "\n\n")
    (tmp_path / f"{prefix}_testlist.txt").write_text(sequences[0] + "\n")
    for split in ("train", "valid"):
        ours = datasets.Vimeo90kDataset(tmp_path, split=split, tuplet=tuplet)
        theirs = cai_datasets.Vimeo90kDataset(tmp_path, split=split, tuplet=tuplet)
        assert ours.samples == theirs.samples
        assert len(ours) == len(theirs) == tuplet * (2 if split == "train" else 1)
        for i in range(len(ours)):
            _same_images(ours[i], theirs[i])


def test_vimeo90k_errors_are_value_errors_and_compressais_types(tmp_path):
    with pytest.raises(KeyError):
        cai_datasets.Vimeo90kDataset(tmp_path, tuplet=5)
    with pytest.raises(ValueError, match="tuplet") as info:
        datasets.Vimeo90kDataset(tmp_path, tuplet=5)
    assert isinstance(info.value, KeyError)
    with pytest.raises(ValueError, match="split"):
        datasets.Vimeo90kDataset(tmp_path, split="test")
    with pytest.raises(FileNotFoundError):
        datasets.Vimeo90kDataset(tmp_path)


def test_ndarray_dataset_items_equal_compressai():
    a, b = np.arange(12).reshape(4, 3), np.arange(8).reshape(4, 2)
    ours, theirs = datasets.NdArrayDataset(a, b), CaiNdArrayDataset(a, b)
    assert len(ours) == len(theirs) == 4
    for i in range(4):
        for x, y in zip(ours[i], theirs[i], strict=True):
            assert np.array_equal(x, y)
    assert np.array_equal(datasets.NdArrayDataset(a, single=True)[2], a[2])
    with pytest.raises(ValueError, match="Size mismatch"):
        datasets.NdArrayDataset(a, b[:3])
    with pytest.raises(ValueError, match="single"):
        datasets.NdArrayDataset(a, b, single=True)


def test_stack_dataset_items_equal_compressai():
    a, b = datasets.NdArrayDataset(np.arange(3), single=True), [10, 11, 12]
    assert list(datasets.StackDataset(a, b)) == list(CaiStackDataset(a, b))
    assert datasets.StackDataset(x=a, y=b)[1] == CaiStackDataset(x=a, y=b)[1] == {"x": 1, "y": 11}
    for args, kwargs in (((a, b[:2]), {}), ((), {}), ((a,), {"y": b})):
        with pytest.raises(ValueError):
            datasets.StackDataset(*args, **kwargs)


def _cached(base):
    class Squares(base):
        def __init__(self, root, **kwargs):
            super().__init__(root, **kwargs)
            self._ensure_cache()

        def _get_items(self):
            return list(range(5))

        def _load_item(self, item):
            return {"x": np.full((2, 3), item, dtype=np.float32), "n": np.array([item * item])}

    return Squares


def test_cache_dataset_items_equal_compressai_and_cache_is_reused(tmp_path):
    double = lambda d: {**d, "x": d["x"] * 2}  # noqa: E731
    ours = _cached(datasets.CacheDataset)(tmp_path / "ours", pre_transform=double)
    theirs = _cached(CaiCacheDataset)(tmp_path / "theirs", pre_transform=double)
    assert len(ours) == len(theirs) == 5
    for i in range(5):
        assert ours[i].keys() == theirs[i].keys()
        for key in ours[i]:
            assert np.array_equal(ours[i][key], theirs[i][key])
    info = json.loads((tmp_path / "ours" / "info.json").read_text())
    assert info == json.loads((tmp_path / "theirs" / "info.json").read_text())
    again = _cached(datasets.CacheDataset)(tmp_path / "ours", transform=lambda d: d["n"])
    assert int(again[3][0]) == 9


def test_datasets_are_registered_under_compressais_names():
    for name in ("ImageFolder", "PreGeneratedMemmapDataset", "Vimeo90kDataset"):
        assert DATASETS[name] is getattr(datasets, name)
        assert name in cai_datasets.__all__
