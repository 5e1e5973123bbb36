"""Types of the dictionaries models and latent codecs return (CompressAI's layouts), and
CompressAI's aliases of the training objects (``TModel``, ``TOptimizer`` …)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias, TypedDict

from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from torch.utils.data import DataLoader, Dataset

__all__ = [
    "CompressOutput",
    "DecompressOutput",
    "ForwardOutput",
    "LatentCompressOutput",
    "LatentDecompressOutput",
    "LatentForwardOutput",
    "Shape",
    "Strings",
    "TCriterion",
    "TDataLoader",
    "TDataset",
    "TModel",
    "TModule",
    "TOptimizer",
    "TScheduler",
    "TTransform",
]

# CompressAI's names for the objects a training script handles (compressai.typing).
#: A loss module.
TCriterion: TypeAlias = nn.Module
#: A data loader.
TDataLoader: TypeAlias = DataLoader
#: A dataset.
TDataset: TypeAlias = Dataset
#: A model.
TModel: TypeAlias = nn.Module
#: A module (CompressAI's ``MODULES`` registry holds latent codecs).
TModule: TypeAlias = nn.Module
#: One optimiser, or several by name (``net_aux_optimizer`` returns ``{"net", "aux"}``).
TOptimizer: TypeAlias = Optimizer | dict[str, Optimizer]
#: A learning-rate scheduler.
TScheduler: TypeAlias = ReduceLROnPlateau | LRScheduler
#: A transform: any callable.
TTransform: TypeAlias = Callable

#: One list of byte strings per coded stream, each with one ``bytes`` per batch element.
Strings: TypeAlias = list[list[bytes]]

#: What a decoder needs besides the strings: a tuple of ints, or (for composite codecs) lists
#: and dicts of them. Only ints, tuples, lists and dicts, so that a container can store it.
Shape: TypeAlias = Any


class LatentForwardOutput(TypedDict):
    """``LatentCodec.forward``: likelihoods of each coded tensor, and the quantized latent."""

    likelihoods: dict[str, Tensor]
    y_hat: Tensor


class _LatentCompressRequired(TypedDict):
    strings: Strings
    shape: Shape


class LatentCompressOutput(_LatentCompressRequired, total=False):
    """``LatentCodec.compress``: the strings, the shapes, and the latent the decoder will see."""

    y_hat: Tensor
    params: Tensor


class LatentDecompressOutput(TypedDict):
    """``LatentCodec.decompress``: the decoded latent."""

    y_hat: Tensor


class ForwardOutput(TypedDict):
    """``CompressionModel.forward``: the reconstruction and the likelihoods of every latent."""

    x_hat: Tensor
    likelihoods: dict[str, Tensor]


class _CompressRequired(TypedDict):
    strings: Strings
    shape: Shape


class CompressOutput(_CompressRequired, total=False):
    """``CompressionModel.compress``: the strings and shapes (and, for latent-codec models, the
    quantized latent)."""

    y_hat: Tensor


class DecompressOutput(TypedDict):
    """``CompressionModel.decompress``: the reconstruction, clamped to [0, 1]."""

    x_hat: Tensor
