"""Helpers of the model definitions: CompressAI's conv/deconv shorthands, checkpoint keys and
buffers, and Gaussian filtering."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "KEY_MAP",
    "conv",
    "deconv",
    "find_named_buffer",
    "find_named_module",
    "gaussian_blur",
    "gaussian_kernel1d",
    "gaussian_kernel2d",
    "meshgrid2d",
    "remap_legacy_keys",
    "remap_old_keys",
    "rename_key",
    "resize_buffers_to",
    "update_registered_buffers",
]


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


# --- checkpoint keys -------------------------------------------------------------------------

#: CompressAI's map of the flat entropy-bottleneck parameter names (``_bias0``) to the current
#: ones (``biases.0``).
KEY_MAP = {"_bias": "biases", "_matrix": "matrices", "_factor": "factors"}

# Prefixes wrappers add to every key: DataParallel/DDP ("module.") and torch.compile.
_WRAPPER_PREFIXES = ("module.", "_orig_mod.")

# Entropy-bottleneck parameters in the names of older CompressAI releases: `_matrix0` (models
# before 1.1, and what its zoo's load_state_dict produces) or `_matrices.0` (its zoo files);
# the current name is `matrices.0`.
_LEGACY_EB = re.compile(
    r"^(?P<owner>(?:.*\.)?)_(?P<kind>matrix|bias|factor|matrices|biases|factors)\.?(?P<i>\d+)$"
)
_PLURAL = {"matrix": "matrices", "bias": "biases", "factor": "factors"}
_SINGULAR = {plural: singular for singular, plural in _PLURAL.items()}


def rename_key(key: str, *, flat: bool = False, strip_prefixes: bool = True) -> str:
    """The current name of a state_dict key written by an older CompressAI or a wrapper: the one
    key-renaming rule of tinify.

    * ``module.`` (DataParallel/DDP) and ``_orig_mod.`` (torch.compile) prefixes are removed
      (unless ``strip_prefixes`` is False);
    * ``.downsample.`` becomes ``.skip.`` (``ResidualBlockWithStride``);
    * entropy-bottleneck parameters ``_matrix0`` or ``_matrices.0`` become ``matrices.0``
      (likewise biases and factors), or with ``flat`` ``_matrix0``: the form
      ``compressai.zoo.load_state_dict`` produces and ``CompressionModel.load_state_dict``
      accepts.

    Any other key is returned unchanged.
    """
    if strip_prefixes:
        stripped = True
        while stripped:
            stripped = False
            for prefix in _WRAPPER_PREFIXES:
                if key.startswith(prefix):
                    key, stripped = key[len(prefix) :], True
    key = key.replace(".downsample.", ".skip.")
    match = _LEGACY_EB.match(key)
    if match:
        kind, owner, index = match["kind"], match["owner"], match["i"]
        if flat:
            key = f"{owner}_{_SINGULAR.get(kind, kind)}{index}"
        else:
            key = f"{owner}{_PLURAL.get(kind, kind)}.{index}"
    return key


def remap_legacy_keys(
    state_dict: Mapping[str, Tensor], expected: Iterable[str]
) -> dict[str, Tensor]:
    """Renames (:func:`rename_key`) the keys of older CompressAI checkpoints that ``expected``
    (the model's keys) holds under their current name; other keys are kept as they are."""
    expected = set(expected)

    def rename(key: str) -> str:
        if key in expected:
            return key
        for strip in (True, False):
            renamed = rename_key(key, strip_prefixes=strip)
            if renamed in expected:
                return renamed
        return key

    return {rename(key): value for key, value in state_dict.items()}


def remap_old_keys(module_name: str, state_dict: Mapping[str, Any]) -> OrderedDict[str, Any]:
    """CompressAI's renaming of the entropy bottleneck ``module_name``'s flat parameter names
    (``_bias0`` → ``biases.0``, likewise ``_matrix``/``_factor``) in ``state_dict``.

    Keys outside ``module_name`` are kept. Unlike CompressAI's, the list form ``_biases.0`` is
    renamed too (CompressAI turns it into ``biases.es.0``).
    """
    prefix = f"{module_name}."
    return OrderedDict(
        (rename_key(key, strip_prefixes=False) if key.startswith(prefix) else key, value)
        for key, value in state_dict.items()
    )


# --- buffers ---------------------------------------------------------------------------------


def find_named_module(module: nn.Module, query: str) -> nn.Module | None:
    """The submodule of ``module`` named ``query`` (as ``named_modules`` names it), or None."""
    return next((m for name, m in module.named_modules() if name == query), None)


def find_named_buffer(module: nn.Module, query: str) -> Tensor | None:
    """The buffer of ``module`` named ``query`` (as ``named_buffers`` names it), or None."""
    return next((b for name, b in module.named_buffers() if name == query), None)


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


_POLICIES = ("resize_if_empty", "resize", "register")


def update_registered_buffers(
    module: nn.Module,
    module_name: str,
    buffer_names: Iterable[str],
    state_dict: Mapping[str, Tensor],
    policy: str = "resize_if_empty",
    dtype: torch.dtype = torch.int,
) -> None:
    """Sizes ``module``'s buffers to the tensors ``state_dict`` holds for them, as CompressAI's
    (a buffer of dynamic size cannot load otherwise).

    Args:
        module: the module owning the buffers.
        module_name: its name in ``state_dict`` (the keys are ``{module_name}.{buffer}``).
        buffer_names: the buffers to size; each must be registered in ``module``.
        state_dict: the state_dict to be loaded.
        policy: ``"resize_if_empty"`` (resize empty buffers only), ``"resize"`` (always) or
            ``"register"`` (register a new zero buffer of ``dtype``).
        dtype: the new buffer's dtype (``"register"``).

    Raises:
        ValueError: for a name that is not a buffer of ``module``, or an unknown policy.
        RuntimeError: if ``"register"`` meets a registered buffer.
        KeyError: if ``state_dict`` lacks a buffer's key.
    """
    buffer_names = list(buffer_names)
    registered = {name for name, _ in module.named_buffers()}
    for name in buffer_names:
        if name not in registered:
            raise ValueError(f'Invalid buffer name "{name}"')
    for name in buffer_names:
        _update_registered_buffer(
            module, name, f"{module_name}.{name}", state_dict, policy=policy, dtype=dtype
        )


def _update_registered_buffer(
    module: nn.Module,
    buffer_name: str,
    state_dict_key: str,
    state_dict: Mapping[str, Tensor],
    policy: str = "resize_if_empty",
    dtype: torch.dtype = torch.int,
) -> None:
    """One buffer of :func:`update_registered_buffers` (CompressAI's private helper of the same
    name, which third-party code imports): sizes ``module``'s ``buffer_name`` to
    ``state_dict[state_dict_key]`` per ``policy``."""
    size = state_dict[state_dict_key].size()
    buffer = find_named_buffer(module, buffer_name)
    if policy in ("resize_if_empty", "resize"):
        if buffer is None:
            raise RuntimeError(f'buffer "{buffer_name}" was not registered')
        if policy == "resize" or buffer.numel() == 0:
            buffer.resize_(size)
    elif policy == "register":
        if buffer is not None:
            raise RuntimeError(f'buffer "{buffer_name}" was already registered')
        module.register_buffer(buffer_name, torch.zeros(size, dtype=dtype))
    else:
        raise ValueError(f'Invalid policy "{policy}", choose one of {_POLICIES}')


# --- Gaussian filtering ----------------------------------------------------------------------


def gaussian_kernel1d(
    kernel_size: int, sigma: float, device: torch.device | str | None, dtype: torch.dtype
) -> Tensor:
    """A normalised 1-D Gaussian of ``kernel_size`` taps (centred) and deviation ``sigma``."""
    half = (kernel_size - 1) / 2.0
    x = torch.linspace(-half, half, steps=kernel_size, dtype=dtype, device=device)
    pdf = torch.exp(-0.5 * (x / sigma).pow(2))
    return pdf / pdf.sum()


def gaussian_kernel2d(
    kernel_size: int, sigma: float, device: torch.device | str | None, dtype: torch.dtype
) -> Tensor:
    """The separable 2-D Gaussian: the outer product of :func:`gaussian_kernel1d` with itself."""
    kernel = gaussian_kernel1d(kernel_size, sigma, device, dtype)
    return torch.outer(kernel, kernel)


def gaussian_blur(
    x: Tensor,
    kernel: Tensor | None = None,
    kernel_size: int | None = None,
    sigma: float | None = None,
) -> Tensor:
    """Blurs each channel of ``x`` ``(N, C, H, W)`` with a 2-D kernel (edges replicated).

    Args:
        x: the images.
        kernel: a square 2-D kernel; built from ``kernel_size`` and ``sigma`` when None.
        kernel_size: the Gaussian's taps (odd).
        sigma: the Gaussian's deviation.

    Raises:
        RuntimeError: if neither ``kernel`` nor both ``kernel_size`` and ``sigma`` are given
            (CompressAI's exception).
    """
    if kernel is None:
        if kernel_size is None or sigma is None:
            raise RuntimeError("Missing kernel_size or sigma parameters")
        dtype = x.dtype if torch.is_floating_point(x) else torch.float32
        kernel = gaussian_kernel2d(kernel_size, sigma, x.device, dtype)
    pad = kernel.size(0) // 2
    x = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    channels = x.size(1)
    weight = kernel.expand(channels, 1, kernel.size(0), kernel.size(1))
    return F.conv2d(x, weight, groups=channels)


def meshgrid2d(N: int, C: int, H: int, W: int, device: torch.device | str | None) -> Tensor:
    """The identity sampling grid ``(N, H, W, 2)`` of ``F.grid_sample`` (coordinates in
    [−1, 1], ``align_corners=False``) for images ``(N, C, H, W)``."""
    theta = torch.eye(2, 3, device=device).unsqueeze(0).expand(N, 2, 3)
    return F.affine_grid(theta, [N, C, H, W], align_corners=False)
