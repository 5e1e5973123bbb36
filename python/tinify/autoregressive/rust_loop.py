"""The autoregressive loop run by the Rust core: a context model and entropy-parameter network
described to :mod:`tinify._core` as data (masked kernel, 1x1 convolutions, activations), which
runs the whole loop without the GIL, images of a batch in parallel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tinify import _core
from tinify.autoregressive.context import check_context_prediction, masked_weight
from tinify.entropy_models import GaussianConditional

__all__ = ["RasterScanCoder", "UnsupportedNetworkError", "describe_entropy_parameters"]


class UnsupportedNetworkError(ValueError):
    """The entropy-parameter network has a layer the Rust loop cannot run."""


def _numpy(t: Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy(), dtype=np.float32)


def _leaves(module: nn.Module, prefix: str) -> list[tuple[str, nn.Module]]:
    if isinstance(module, nn.Sequential):
        return [
            leaf
            for name, child in module.named_children()
            for leaf in _leaves(child, f"{prefix}.{name}")
        ]
    return [(prefix, module)]


def describe_entropy_parameters(module: nn.Module) -> list[tuple[Any, ...]]:
    """Describes a pointwise network (1x1 convolutions and element-wise activations, nested
    ``nn.Sequential`` allowed) as the layer tuples of ``tinify._core.RasterScan``.

    Raises:
        UnsupportedNetworkError: naming the first layer that is not a 1x1, stride-1, ungrouped
            convolution, ReLU, LeakyReLU, GELU in its erf form (``approximate="none"``; the
            core evaluates erf from basic operations, to about 1.5e-7, so its floats are the
            core's own, the same on every machine, not torch's) or Identity.
    """
    layers: list[tuple[Any, ...]] = []
    for name, layer in _leaves(module, "entropy_parameters"):
        if isinstance(layer, nn.Conv2d):
            pointwise = (
                layer.kernel_size == (1, 1)
                and layer.stride == (1, 1)
                and layer.dilation == (1, 1)
                and layer.groups == 1
                and layer.padding in ((0, 0), "valid", "same")
            )
            if not pointwise:
                raise UnsupportedNetworkError(
                    f"{name} ({layer}) is not a 1x1, stride-1, ungrouped convolution: the "
                    "autoregressive loop evaluates the entropy parameters one position at a time"
                )
            bias = None if layer.bias is None else _numpy(layer.bias)
            layers.append(("conv", _numpy(layer.weight[:, :, 0, 0]), bias))
        elif isinstance(layer, nn.LeakyReLU):
            layers.append(("leaky_relu", float(layer.negative_slope)))
        elif isinstance(layer, nn.ReLU):
            layers.append(("relu",))
        elif isinstance(layer, nn.GELU) and layer.approximate == "none":
            layers.append(("gelu",))
        elif isinstance(layer, nn.Identity):
            layers.append(("identity",))
        else:
            raise UnsupportedNetworkError(
                f"{name} ({type(layer).__name__}) cannot run in the autoregressive loop, which "
                "supports 1x1 convolutions, ReLU, LeakyReLU, GELU and Identity"
            )
    return layers


class RasterScanCoder:
    """The serial loop of an autoregressive latent codec.

    Args:
        context_prediction: the masked convolution over decoded latents (type-"A" mask, odd
            kernel, stride 1, "same" padding). Its masked weight is used, so taps at or after
            the centre must be masked out.
        entropy_parameters: the pointwise network mapping ``cat(params, context)`` to
            ``cat(scales, means)``.
        gaussian_conditional: the entropy model, with its CDF tables built (``update()``).
    """

    def __init__(
        self,
        context_prediction: nn.Conv2d,
        entropy_parameters: nn.Module,
        gaussian_conditional: GaussianConditional,
    ) -> None:
        conv = context_prediction
        check_context_prediction(conv)
        weight = masked_weight(conv)
        bias = conv.bias if conv.bias is not None else torch.zeros(weight.shape[0])
        layers = describe_entropy_parameters(entropy_parameters)
        first = next((layer for layer in layers if layer[0] == "conv"), None)
        if first is None:
            raise UnsupportedNetworkError("entropy_parameters has no 1x1 convolution")
        self.latent_channels = int(weight.shape[1])
        self.param_channels = int(first[1].shape[1]) - int(weight.shape[0])
        self.gaussian_conditional = gaussian_conditional
        if gaussian_conditional.scale_table.numel() == 0:
            raise ValueError("GaussianConditional has no scale table: call update() first")
        self._core = _core.RasterScan(
            self.latent_channels,
            self.param_channels,
            _numpy(weight),
            _numpy(bias),
            layers,
            _numpy(gaussian_conditional.scale_table),
            float(gaussian_conditional.lower_bound_scale.bound),
        )

    def encode(
        self, y: Tensor, params: Tensor, threads: int | None = None
    ) -> tuple[list[bytes], Tensor]:
        """Codes ``y`` ``(N, M, H, W)`` given the hyper params ``(N, P, H, W)``: one stream per
        image, and the ``y_hat`` the decoder will reconstruct.

        ``threads`` caps the threads coding images in parallel (default: one per core); the
        output does not depend on it.
        """
        if y.dim() != 4 or params.dim() != 4:
            raise ValueError(
                f"expected 4-D y and params, got shapes {tuple(y.shape)} and {tuple(params.shape)}"
            )
        strings, y_hat = self._core.encode(
            _numpy(y),
            _numpy(params),
            *self.gaussian_conditional._tables(),
            threads=_threads(threads),
        )
        return strings, torch.from_numpy(y_hat).to(device=y.device, dtype=y.dtype)

    def decode(
        self, strings: Sequence[bytes], params: Tensor, threads: int | None = None
    ) -> Tensor:
        """Decodes one stream per image given the hyper params ``(N, P, H, W)``; returns
        ``y_hat`` ``(N, M, H, W)``. Raises :class:`tinify.ans.DecodeError` for a stream that
        is truncated, corrupt or decoded with other side information."""
        if params.dim() != 4:
            raise ValueError(f"expected 4-D params, got shape {tuple(params.shape)}")
        y_hat = self._core.decode(
            [bytes(s) for s in strings],
            _numpy(params),
            *self.gaussian_conditional._tables(),
            threads=_threads(threads),
        )
        return torch.from_numpy(y_hat).to(device=params.device, dtype=params.dtype)


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0
    if int(threads) < 1:
        raise ValueError(f"`threads` must be at least 1, got {threads}")
    return int(threads)
