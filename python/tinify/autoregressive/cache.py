"""Which coder runs an autoregressive model: the Rust loop when it can describe the networks,
else torch (with a warning, once per owner). The codec that owns the networks keeps the coder
as prepared state (:class:`~tinify.latent_codecs.RasterScanLatentCodec`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

from torch import Tensor, nn

from tinify.autoregressive.rust_loop import RasterScanCoder, UnsupportedNetworkError
from tinify.autoregressive.torch_coder import TorchRasterScanCoder
from tinify.entropy_models import GaussianConditional

__all__ = ["SlowPathWarning", "choose_coder"]


class SlowPathWarning(UserWarning):
    """An autoregressive codec runs on the torch path, which is slower than the Rust loop."""


def choose_coder(
    owner: nn.Module,
    context_prediction: nn.Conv2d,
    entropy_parameters: nn.Module,
    gaussian_conditional: GaussianConditional,
    merge: Callable[..., Tensor] | None = None,
    stacklevel: int = 3,
) -> RasterScanCoder | TorchRasterScanCoder:
    """The coder of ``owner``'s autoregressive model: :class:`RasterScanCoder` (the Rust loop)
    when it can describe the networks and ``merge`` is the concatenation (``None``); otherwise
    :class:`TorchRasterScanCoder`, with a :class:`SlowPathWarning` the first time for
    ``owner``."""
    try:
        if merge is not None:
            raise UnsupportedNetworkError(
                "merge() is overridden; the Rust loop only concatenates (params, context)"
            )
        return RasterScanCoder(context_prediction, entropy_parameters, gaussian_conditional)
    except UnsupportedNetworkError as err:
        if not owner.__dict__.get("_slow_path_warned"):
            owner.__dict__["_slow_path_warned"] = True
            warnings.warn(
                f"{type(owner).__name__}: {err}; coding with torch computing each wavefront's "
                "parameters, which is slower (same stream format)",
                SlowPathWarning,
                stacklevel=stacklevel,
            )
        return TorchRasterScanCoder(
            context_prediction, entropy_parameters, gaussian_conditional, merge
        )
