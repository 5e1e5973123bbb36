"""Helpers of the model definitions: CompressAI's conv/deconv shorthands and checkpoint keys."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import torch
from torch import Tensor, nn

__all__ = ["conv", "deconv", "remap_legacy_keys", "resize_buffers_to"]


def conv(in_channels: int, out_channels: int, kernel_size: int = 5, stride: int = 2) -> nn.Conv2d:
    """A convolution that divides the spatial size by ``stride`` ("same" padding)."""
    return nn.Conv2d(
        in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2
    )


def deconv(
    in_channels: int, out_channels: int, kernel_size: int = 5, stride: int = 2
) -> nn.ConvTranspose2d:
    """A transposed convolution that multiplies the spatial size by ``stride``."""
    return nn.ConvTranspose2d(
        in_channels,
        out_channels,
        kernel_size,
        stride=stride,
        output_padding=stride - 1,
        padding=kernel_size // 2,
    )


# Older CompressAI checkpoints name entropy-bottleneck parameters `_matrix0` (its models before
# 1.1) or `_matrices.0` (its zoo files); both are now `matrices.0`.
_LEGACY_EB = re.compile(
    r"^(?P<owner>.*\.)?_(?P<kind>matrix|bias|factor|matrices|biases|factors)\.?(?P<i>\d+)$"
)
_PLURAL = {"matrix": "matrices", "bias": "biases", "factor": "factors"}


def remap_legacy_keys(
    state_dict: Mapping[str, Tensor], expected: Iterable[str]
) -> dict[str, Tensor]:
    """Renames the keys of older CompressAI checkpoints to the current names.

    Handles the ``module.`` prefix of DataParallel checkpoints, entropy-bottleneck parameters
    stored as ``_matrix0`` or ``_matrices.0`` (now ``matrices.0``) and ``.downsample.`` (now
    ``.skip.``). A key is only renamed when the model expects the new name.
    """
    expected = set(expected)

    def rename(key: str) -> str:
        candidates = [key]
        if key.startswith("module."):
            candidates.append(key[len("module.") :])
        for candidate in list(candidates):
            match = _LEGACY_EB.match(candidate)
            if match:
                kind = _PLURAL.get(match["kind"], match["kind"])
                candidates.append(f"{match['owner'] or ''}{kind}.{match['i']}")
            if ".downsample." in candidate:
                candidates.append(candidate.replace(".downsample.", ".skip."))
        return next((c for c in candidates if c in expected), key)

    return {rename(key): value for key, value in state_dict.items()}


def resize_buffers_to(
    module: nn.Module, prefix: str, names: Iterable[str], state_dict: Mapping[str, Tensor]
) -> None:
    """Resizes ``module``'s buffers ``names`` to the shapes ``state_dict`` stores for them
    (under ``prefix``), so that tables of any size load."""
    for name in names:
        key = f"{prefix}.{name}" if prefix else name
        if key not in state_dict:
            continue
        buffer = getattr(module, name)
        stored = state_dict[key]
        if buffer.shape != stored.shape:
            setattr(
                module, name, torch.empty(stored.shape, dtype=buffer.dtype, device=buffer.device)
            )
