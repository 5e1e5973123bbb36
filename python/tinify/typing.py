"""Types of the dictionaries models and latent codecs return (CompressAI's layouts)."""

from __future__ import annotations

from typing import Any, TypeAlias, TypedDict

from torch import Tensor

__all__ = [
    "CompressOutput",
    "DecompressOutput",
    "ForwardOutput",
    "LatentCompressOutput",
    "LatentDecompressOutput",
    "LatentForwardOutput",
    "Shape",
    "Strings",
]

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
