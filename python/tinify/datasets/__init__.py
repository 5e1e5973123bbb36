"""Datasets, as ``compressai.datasets``: image folders, pre-generated patches, Vimeo-90K, and
CompressAI's generic helpers (cached, array and stacked datasets).

Point-cloud and video datasets are not part of tinify.
"""

from tinify.datasets._errors import DatasetNotFoundError, InvalidChoiceError, MissingFileError
from tinify.datasets.cache import CacheDataset
from tinify.datasets.image import ImageFolder
from tinify.datasets.ndarray import NdArrayDataset
from tinify.datasets.pregenerated import PreGeneratedMemmapDataset
from tinify.datasets.stack import StackDataset
from tinify.datasets.vimeo90k import Vimeo90kDataset

__all__ = [
    "CacheDataset",
    "DatasetNotFoundError",
    "ImageFolder",
    "InvalidChoiceError",
    "MissingFileError",
    "NdArrayDataset",
    "PreGeneratedMemmapDataset",
    "StackDataset",
    "Vimeo90kDataset",
]
