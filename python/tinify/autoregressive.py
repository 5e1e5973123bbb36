"""Serial raster-scan (autoregressive) latent coding, run by the Rust core.

Autoregressive context models (mbt2018, cheng2020, ``RasterScanLatentCodec``) decode one latent
position after another: each position's Gaussian depends on the positions decoded before it.
:class:`RasterScanCoder` describes the context model and the entropy-parameter network to
:mod:`tinify._core` as data (masked kernel, 1x1 convolutions, activations), which runs the
whole loop without the GIL, images of a batch in parallel. The encoder runs the same routine
as the decoder, so both see bit-identical floats.

The stream is ordered by wavefronts rather than CompressAI's raster scan (see DESIGN.md §4):
streams of tinify's raster-scan models are not CompressAI's, and the other way round.

A network the Rust loop cannot describe (a GDN, a 3x3 convolution, an overridden ``merge``)
runs on :class:`TorchRasterScanCoder` instead: the same wavefront order and stream format,
each wavefront's parameters computed by torch over all its positions at once and coded by
:mod:`tinify.ans`. :func:`cached_coder` picks the coder and keeps it until the weights change.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from tinify import _core, ans
from tinify.entropy_models import GaussianConditional

__all__ = [
    "RasterScanCoder",
    "SlowPathWarning",
    "TorchRasterScanCoder",
    "UnsupportedNetworkError",
    "cached_coder",
    "check_context_prediction",
    "describe_entropy_parameters",
]


class UnsupportedNetworkError(ValueError):
    """The entropy-parameter network has a layer the Rust loop cannot run."""


class SlowPathWarning(UserWarning):
    """An autoregressive codec runs on the torch path, which is slower than the Rust loop."""


def check_context_prediction(conv: nn.Module) -> int:
    """Checks the geometry of a context model, the one place it is checked in Python: a
    convolution with a square, odd kernel, stride 1, dilation 1, one group and "same" padding
    (``kernel_size // 2``). Returns the kernel size. (The Rust loop checks causality of the
    masked weight, which is data.)

    Raises:
        ValueError: naming what does not fit.
    """
    if not isinstance(conv, nn.Conv2d):
        raise ValueError(f"context_prediction must be a Conv2d (MaskedConv2d), got {conv}")
    kh, kw = conv.kernel_size
    if kh != kw or kh % 2 == 0:
        raise ValueError(f"context_prediction needs a square, odd kernel, got {conv.kernel_size}")
    if (
        tuple(conv.stride) != (1, 1)
        or tuple(conv.dilation) != (1, 1)
        or conv.groups != 1
        or tuple(conv.padding) != (kh // 2, kw // 2)
    ):
        raise ValueError(
            "context_prediction must be a stride-1, undilated, ungrouped convolution with "
            f"'same' padding ({kh // 2}), got {conv}"
        )
    return int(kh)


def _masked_weight(conv: nn.Conv2d) -> Tensor:
    if hasattr(conv, "masked_weight"):
        return conv.masked_weight()
    return conv.weight * getattr(conv, "mask", 1)


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
            convolution, ReLU, LeakyReLU, exact GELU or Identity.
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
        weight = _masked_weight(conv)
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


def _wavefronts(height: int, width: int, slope: int) -> list[tuple[Tensor, Tensor]]:
    """Rows and columns of each wavefront ``slope r + c = t``, rows increasing: the order of
    the Rust loop's stream."""
    fronts = []
    for t in range(slope * (height - 1) + width if height * width else 0):
        first = -(-max(0, t - (width - 1)) // slope)
        rows = torch.arange(first, min(height, t // slope + 1))
        fronts.append((rows, t - slope * rows))
    return fronts


class TorchRasterScanCoder:
    """The serial loop with torch computing each wavefront's Gaussians: for any context and
    entropy-parameter network (GDN, 3x3 convolutions, an overridden ``merge``), slower than
    :class:`RasterScanCoder`.

    Same wavefront order and stream format as the Rust loop. Each position's parameters are
    those CompressAI computes for it: ``entropy_parameters(merge(params, context))`` on the
    position alone, a ``1 x 1`` input, batched over the positions of a wavefront and the
    images of the batch; the encoder and the decoder run the same batched calls, so they see
    the same floats. Symbols are coded by :mod:`tinify.ans`, one stream per image.

    Args:
        context_prediction: as for :class:`RasterScanCoder`.
        entropy_parameters: any module mapping ``merge(params, context)`` to
            ``cat(scales, means)``.
        gaussian_conditional: the entropy model, with its CDF tables built.
        merge: combines ``(params, context)`` (default: concatenation along channels).
    """

    def __init__(
        self,
        context_prediction: nn.Conv2d,
        entropy_parameters: nn.Module,
        gaussian_conditional: GaussianConditional,
        merge: Callable[..., Tensor] | None = None,
    ) -> None:
        self.kernel_size = check_context_prediction(context_prediction)
        weight = _masked_weight(context_prediction).detach()
        k, centre = self.kernel_size, self.kernel_size // 2
        causal = torch.zeros(k, k, dtype=torch.bool)
        causal[:centre] = True
        causal[centre, :centre] = True
        if bool((weight[:, :, ~causal] != 0).any()):
            raise ValueError(
                "context_prediction is not causal: its masked weight has non-zero taps at or "
                "after the centre; a type 'A' mask is required"
            )
        if gaussian_conditional.scale_table.numel() == 0:
            raise ValueError("GaussianConditional has no scale table: call update() first")
        self.weight = weight
        self.bias = None if context_prediction.bias is None else context_prediction.bias.detach()
        self.entropy_parameters = entropy_parameters
        self.gaussian_conditional = gaussian_conditional
        self.merge = merge if merge is not None else (lambda *args: torch.cat(args, dim=1))

    def _gaussians(
        self, y_hat: Tensor, params: Tensor, rows: Tensor, cols: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Scales and means ``(N, P, M)`` of the ``P`` positions ``(rows, cols)``, from the
        zero-padded ``y_hat`` decoded so far."""
        n, m = y_hat.size(0), y_hat.size(1)
        k = self.kernel_size
        offsets = torch.arange(k)
        r = (rows[:, None] + offsets)[:, :, None]
        c = (cols[:, None] + offsets)[:, None, :]
        crops = y_hat[:, :, r, c].permute(0, 2, 1, 3, 4).reshape(-1, m, k, k)
        context = F.conv2d(crops, self.weight.to(crops), None if self.bias is None else self.bias)
        side = params[:, :, rows, cols].permute(0, 2, 1).reshape(-1, params.size(1), 1, 1)
        out = self.entropy_parameters(self.merge(side, context))
        if out.shape[1:] != (2 * m, 1, 1):
            raise ValueError(
                f"entropy_parameters gives {tuple(out.shape[1:])} per position, expected "
                f"({2 * m}, 1, 1): scales and means of {m} channels"
            )
        scales, means = out.reshape(n, rows.numel(), 2 * m).chunk(2, dim=2)
        return scales, means

    def _symbols(self, values: Tensor, scales: Tensor, means: Tensor) -> Tensor:
        """The symbols coding ``values`` (``(N, P, M)``, as scales and means): rounded around
        the means. A subclass may quantize otherwise (the variable-rate models)."""
        return torch.round(values - means)

    def _reconstruct(self, symbols: Tensor, scales: Tensor, means: Tensor) -> Tensor:
        """The decoded values of ``symbols`` (float, ``(N, P, M)``): ``symbols + means``. The
        encoder and the decoder both call it, so the context sees the same values."""
        return symbols + means

    def encode(
        self, y: Tensor, params: Tensor, threads: int | None = None
    ) -> tuple[list[bytes], Tensor]:
        """As :meth:`RasterScanCoder.encode`."""
        n, m, height, width = y.shape
        pad = self.kernel_size // 2
        y_hat = y.new_zeros(n, m, height + 2 * pad, width + 2 * pad)
        symbols, indexes = [], []
        for rows, cols in _wavefronts(height, width, pad + 1):
            scales, means = self._gaussians(y_hat, params, rows, cols)
            q = self._symbols(y[:, :, rows, cols].permute(0, 2, 1), scales, means)
            if not bool(torch.isfinite(q).all()) or float(q.abs().max()) >= 2**31 - 128:
                raise ValueError("a latent value is not finite or too far from its mean to code")
            decoded = self._reconstruct(q, scales, means)
            y_hat[:, :, rows + pad, cols + pad] = decoded.permute(0, 2, 1)
            symbols.append(q.reshape(n, -1).to(torch.int32))
            indexes.append(self.gaussian_conditional.build_indexes(scales).reshape(n, -1))
        strings = ans.encode_batch(
            torch.cat(symbols, dim=1),
            torch.cat(indexes, dim=1),
            *self.gaussian_conditional._tables(),
        )
        return strings, y_hat[:, :, pad : pad + height, pad : pad + width].contiguous()

    def decode(
        self,
        strings: Sequence[bytes],
        params: Tensor,
        threads: int | None = None,
        latent_channels: int | None = None,
    ) -> Tensor:
        """As :meth:`RasterScanCoder.decode`."""
        n, _, height, width = params.shape
        m = int(latent_channels if latent_channels is not None else self.weight.size(1))
        pad = self.kernel_size // 2
        tables = self.gaussian_conditional._tables()
        decoders = []
        for s in strings:
            decoder = ans.RansDecoder()
            decoder.set_stream(bytes(s))
            decoders.append(decoder)
        y_hat = params.new_zeros(n, m, height + 2 * pad, width + 2 * pad)
        for rows, cols in _wavefronts(height, width, pad + 1):
            scales, means = self._gaussians(y_hat, params, rows, cols)
            indexes = self.gaussian_conditional.build_indexes(scales).cpu().numpy()
            q = torch.stack(
                [
                    torch.from_numpy(decoder.decode_stream(idx.reshape(-1), *tables))
                    for decoder, idx in zip(decoders, indexes, strict=True)
                ]
            ).reshape(means.shape)
            y_hat[:, :, rows + pad, cols + pad] = self._reconstruct(
                q.to(means), scales, means
            ).permute(0, 2, 1)
        for decoder in decoders:
            decoder.finish()
        return y_hat[:, :, pad : pad + height, pad : pad + width].contiguous()


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
