"""What names a model in a ``.tfy`` header: its registered architecture and weights digest,
and the check that a model given to the decoder is the one a header names."""

from __future__ import annotations

import hashlib
import struct
import weakref
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from tinify import tfy
from tinify.image import padding_multiple

__all__ = ["architecture_of", "weights_digest"]


@dataclass(frozen=True)
class Identity:
    """What a header records of the model that coded an image."""

    architecture: str
    model_name: str | None
    quality: int | None
    metric: str | None


_DIGESTS: weakref.WeakKeyDictionary[nn.Module, tuple[tuple[Any, ...], str]] = (
    weakref.WeakKeyDictionary()
)


def weights_digest(model: nn.Module) -> str:
    """SHA-256 (hex) of a model's ``state_dict()`` as ``docs/format.md`` §3 defines it.

    Cached per model; the cache is dropped when any tensor is replaced or modified in place
    (by an optimizer step, ``update()``, ``load_state_dict``).
    """
    state = model.state_dict(keep_vars=True)
    fingerprint = tuple(
        (key, t.data_ptr(), t._version, tuple(t.shape), t.dtype) for key, t in state.items()
    )
    cached = _DIGESTS.get(model)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key].detach()
        dtype = str(tensor.dtype).removeprefix("torch.").encode()
        name = key.encode()
        digest.update(struct.pack("<I", len(name)) + name)
        digest.update(struct.pack("<I", len(dtype)) + dtype)
        digest.update(struct.pack(f"<B{tensor.dim()}Q", tensor.dim(), *tensor.shape))
        flat = tensor.to("cpu").contiguous().reshape(-1)
        if flat.numel():
            digest.update(flat.view(torch.uint8).numpy().tobytes())
    value = digest.hexdigest()
    _DIGESTS[model] = (fingerprint, value)
    return value


def architecture_of(model: nn.Module) -> str:
    """The registered architecture name of a model, which a ``.tfy`` header records
    (:func:`tinify.zoo.architecture_of`, the one owner of the rule).

    Raises:
        TypeError: ``model`` is not an instance of a registered model class.
    """
    from tinify.zoo import architecture_of as registered_name

    return registered_name(model)


def check_identity(header: tfy.TfyHeader, net: nn.Module) -> None:
    """Raises ValueError unless ``net`` is the model ``header`` names (architecture, weights
    digest when recorded, padding multiple)."""
    architecture = architecture_of(net)
    digest = weights_digest(net)
    if architecture != header.architecture or (
        header.weights_sha256 is not None and digest != header.weights_sha256
    ):
        raise ValueError(
            f"the file was coded with {describe(header)}, not with the model given "
            f"({architecture}, weights sha256 {digest[:16]}...)"
        )
    multiple = padding_multiple(net)
    if multiple != header.pad_multiple:
        raise ValueError(
            f"the file was padded to a multiple of {header.pad_multiple}, but {architecture} "
            f"pads to {multiple}"
        )


def describe(header: tfy.TfyHeader) -> str:
    """The model a header names, for messages."""
    parts = [header.model_name or header.architecture]
    if header.model_name:
        parts.append(header.architecture)
    if header.quality is not None:
        parts.append(f"quality {header.quality}")
    if header.weights_sha256:
        parts.append(f"weights sha256 {header.weights_sha256[:16]}...")
    return ", ".join(parts)
