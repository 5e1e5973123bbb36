"""Which coder runs an autoregressive model (the Rust loop when it can describe the networks,
else torch), built once per model and kept until its weights change."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from torch import Tensor, nn

from tinify.autoregressive.rust_loop import RasterScanCoder, UnsupportedNetworkError
from tinify.autoregressive.torch_coder import TorchRasterScanCoder
from tinify.entropy_models import GaussianConditional

__all__ = ["SlowPathWarning", "cached_coder"]


class SlowPathWarning(UserWarning):
    """An autoregressive codec runs on the torch path, which is slower than the Rust loop."""


def _weights_key(modules: Sequence[nn.Module]) -> tuple[Any, ...] | None:
    """What the cached coder depends on: the modules, their tensors and each tensor's data
    pointer and in-place version counter (bumped by optimizer steps, ``load_state_dict`` and
    every other in-place write). ``None`` for inference-mode tensors, which have no counter."""
    key: list[Any] = [tuple(id(m) for m in modules)]
    for module in modules:
        for t in (*module.parameters(), *module.buffers()):
            if t.is_inference():
                return None
            key.append((t, t._version, t.data_ptr(), t.dtype, t.device))
    return tuple(key)


def _same_key(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> bool:
    if a is None or b is None or len(a) != len(b) or a[0] != b[0]:
        return False
    return all(x[0] is y[0] and x[1:] == y[1:] for x, y in zip(a[1:], b[1:], strict=True))


def cached_coder(
    owner: nn.Module,
    context_prediction: nn.Conv2d,
    entropy_parameters: nn.Module,
    gaussian_conditional: GaussianConditional,
    merge: Callable[..., Tensor] | None = None,
) -> RasterScanCoder | TorchRasterScanCoder:
    """The coder of ``owner``'s autoregressive model, built once and kept on ``owner`` until
    its weights change (training steps, ``load_state_dict``, ``update()``, ``.to()``).

    The Rust loop (:class:`RasterScanCoder`) when it can describe the networks and ``merge``
    is the concatenation (``None``); otherwise :class:`TorchRasterScanCoder`, with a
    :class:`SlowPathWarning` the first time for ``owner``. A write through ``.data`` bypasses
    the version counters; call ``owner.__dict__.pop("_raster_scan_cache", None)`` after one.
    """
    key = _weights_key((context_prediction, entropy_parameters, gaussian_conditional))
    cached = owner.__dict__.get("_raster_scan_cache")
    if cached is not None and cached[0] == merge and _same_key(cached[1], key):
        return cached[2]
    coder: RasterScanCoder | TorchRasterScanCoder
    try:
        if merge is not None:
            raise UnsupportedNetworkError(
                "merge() is overridden; the Rust loop only concatenates (params, context)"
            )
        coder = RasterScanCoder(context_prediction, entropy_parameters, gaussian_conditional)
    except UnsupportedNetworkError as err:
        if not owner.__dict__.get("_raster_scan_warned"):
            owner.__dict__["_raster_scan_warned"] = True
            warnings.warn(
                f"{type(owner).__name__}: {err}; coding with torch computing each wavefront's "
                "parameters, which is slower (same stream format)",
                SlowPathWarning,
                stacklevel=3,
            )
        coder = TorchRasterScanCoder(
            context_prediction, entropy_parameters, gaussian_conditional, merge
        )
    owner.__dict__["_raster_scan_cache"] = (merge, key, coder)
    return coder
