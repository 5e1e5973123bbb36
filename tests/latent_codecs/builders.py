"""Small latent codecs with realistic tables and latents, CompressAI twins, and shared checks."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from importlib import import_module
from types import ModuleType, SimpleNamespace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import tinify.entropy_models
import tinify.latent_codecs
import tinify.layers
from tinify.entropy_models import EntropyBottleneck, GaussianConditional
from tinify.models import get_scale_table
from tinify.models.utils import resize_buffers_to

__all__ = [
    "TINIFY",
    "PositiveScales",
    "assert_plain_shape",
    "assert_rate_matches_likelihoods",
    "checkerboard_codec",
    "coded_bytes",
    "compressai",
    "compressai_lib",
    "gaussian_latent",
    "hyper_codec",
    "hyperprior_codec",
    "load_twin",
    "ready",
    "side_params_for",
]

#: The libraries a builder can build from: tinify, or CompressAI (``compressai_lib()``).
TINIFY = SimpleNamespace(
    lc=tinify.latent_codecs, layers=tinify.layers, em=tinify.entropy_models, name="tinify"
)

_CDF_BUFFERS = ("_quantized_cdf", "_offset", "_cdf_length")


def compressai(module: str) -> ModuleType:
    """``compressai.<module>``, imported with its import-time deprecation warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return import_module(f"compressai.{module}")


def compressai_lib() -> SimpleNamespace:
    return SimpleNamespace(
        lc=compressai("latent_codecs"),
        layers=compressai("layers"),
        em=compressai("entropy_models"),
        name="compressai",
    )


class PositiveScales(nn.Module):
    """Pointwise: the scale channels become ``floor + softplus(x)``, the means pass through.

    Random networks predict scales near zero, which puts latents of spread 2–10 far outside
    the CDF tables (escape-coded, and bounded in the likelihoods), so that rates say little.
    """

    def __init__(self, channels: int, floor: float = 1.0, scales_first: bool = True) -> None:
        super().__init__()
        self.channels = channels
        self.floor = floor
        self.scales_first = scales_first

    def forward(self, x: Tensor) -> Tensor:
        first, second = x[:, : self.channels], x[:, self.channels :]
        if self.scales_first:
            return torch.cat([F.softplus(first) + self.floor, second], dim=1)
        return torch.cat([first, F.softplus(second) + self.floor], dim=1)


def gaussian_latent(shape: tuple[int, ...], seed: int, spread: float = 5.0) -> Tensor:
    """Synthetic latent: i.i.d. Gaussian of standard deviation ``spread`` (a random model's
    latents are almost all zero after quantization and prove nothing)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen) * spread


def side_params_for(shape: tuple[int, ...], seed: int) -> tuple[Tensor, Tensor]:
    """A latent ``y = means + scales * noise`` with scales in [2, 8] and means in [-5, 5], and
    side params ``cat(scales - 1, means)`` that a ``PositiveScales(floor=1)`` head maps back
    to about those scales and means."""
    gen = torch.Generator().manual_seed(seed)
    scales = 2 + 6 * torch.rand(shape, generator=gen)
    means = 10 * torch.rand(shape, generator=gen) - 5
    y = means + scales * torch.randn(shape, generator=gen)
    return y, torch.cat([scales - 1, means], dim=1)


def ready(codec: nn.Module, seed: int = 0) -> nn.Module:
    """Builds every entropy model's tables, as ``update()`` does before compress.

    Entropy bottlenecks get perturbed densities and bisected quantiles first, so that their
    tables are not the degenerate ones of the initial density. Returns the codec in eval mode.
    """
    gen = torch.Generator().manual_seed(seed)
    for module in codec.modules():
        if isinstance(module, EntropyBottleneck):
            with torch.no_grad():
                for name, p in module.named_parameters():
                    if name != "quantiles":
                        p.add_(torch.randn(p.shape, generator=gen) * 0.3)
            module.update(force=True, update_quantiles=True)
        elif isinstance(module, GaussianConditional):
            module.update_scale_table(get_scale_table(), force=True)
    return codec.eval()


def load_twin(theirs: nn.Module, ours: nn.Module) -> nn.Module:
    """Loads ``ours``' state (weights and CDF tables) into its CompressAI twin, strictly."""
    state = ours.state_dict()
    for name, module in theirs.named_modules():
        if hasattr(module, "_quantized_cdf"):
            extra = ("scale_table",) if hasattr(module, "scale_table") else ()
            resize_buffers_to(module, name, (*_CDF_BUFFERS, *extra), state)
    theirs.load_state_dict(state, strict=True)
    return theirs.eval()


def checkerboard_codec(
    lib: SimpleNamespace = TINIFY,
    channels: int = 8,
    anchor_parity: str = "even",
    forward_method: str = "twopass",
    side_channels: int | None = None,
    seed: int = 0,
) -> nn.Module:
    """A CheckerboardLatentCodec over ``channels``, whose side params are ``2 * channels``
    (as :func:`side_params_for` makes them) unless ``side_channels`` says otherwise.

    Its pointwise ``entropy_parameters`` passes the side params through and adds a small
    random mix of the spatial context, so the context matters but the scales stay realistic.
    """
    c = channels
    side = 2 * c if side_channels is None else side_channels
    gen = torch.Generator().manual_seed(seed)
    mix = nn.Conv2d(2 * c + side, 2 * c, 1)
    with torch.no_grad():
        mix.weight.zero_()
        mix.bias.zero_()
        mix.weight[:, : 2 * c, 0, 0] = torch.randn(2 * c, 2 * c, generator=gen) * 0.02
        eye = torch.eye(2 * c, side)
        mix.weight[:, 2 * c :, 0, 0] = eye
    cp = lib.layers.CheckerboardMaskedConv2d(c, 2 * c, kernel_size=5, padding=2)
    with torch.no_grad():
        cp.weight.copy_(torch.randn(cp.weight.shape, generator=gen) * 0.3)
    return lib.lc.CheckerboardLatentCodec(
        latent_codec={"y": lib.lc.GaussianConditionalLatentCodec(quantizer="ste")},
        entropy_parameters=nn.Sequential(mix, PositiveScales(c, floor=1.0)),
        context_prediction=cp,
        anchor_parity=anchor_parity,
        forward_method=forward_method,
    )


def hyper_codec(
    lib: SimpleNamespace = TINIFY,
    channels: int = 8,
    z_channels: int = 6,
    quantizer: str = "noise",
    gain: bool = False,
) -> nn.Module:
    """A (Gain)HyperLatentCodec with size-preserving 3x3 transforms (so latents of any size
    work) whose ``params`` are ``2 * channels`` realistic (scales, means)."""
    h_a = nn.Conv2d(channels, z_channels, 3, padding=1)
    h_s = nn.Sequential(
        nn.Conv2d(z_channels, 2 * channels, 3, padding=1), PositiveScales(channels, floor=3.0)
    )
    eb = lib.em.EntropyBottleneck(z_channels)
    if gain:
        return lib.lc.GainHyperLatentCodec(eb, h_a, h_s)
    return lib.lc.HyperLatentCodec(eb, h_a, h_s, quantizer=quantizer)


def hyperprior_codec(
    y_codec: Callable[[SimpleNamespace], nn.Module],
    lib: SimpleNamespace = TINIFY,
    channels: int = 8,
    quantizer: str = "noise",
) -> nn.Module:
    """A HyperpriorLatentCodec of ``y_codec(lib)`` and :func:`hyper_codec`."""
    return lib.lc.HyperpriorLatentCodec(
        latent_codec={
            "y": y_codec(lib),
            "hyper": hyper_codec(lib, channels, quantizer=quantizer),
        }
    )


def coded_bytes(strings: list[list[bytes]]) -> int:
    return sum(len(s) for stream in strings for s in stream)


def assert_rate_matches_likelihoods(likelihoods: dict[str, Tensor], strings: Any) -> None:
    """The coded size is within 2 % + 64 bytes of the likelihoods' information content."""
    estimate = sum(float(-torch.log2(lik).sum()) for lik in likelihoods.values()) / 8
    actual = coded_bytes(strings)
    assert abs(actual - estimate) <= 0.02 * estimate + 64, (actual, estimate)


def _is_plain(shape: Any) -> bool:
    if isinstance(shape, bool):
        return False
    if isinstance(shape, int):
        return type(shape) is int
    if isinstance(shape, tuple | list):
        return type(shape) in (tuple, list) and all(_is_plain(s) for s in shape)
    if isinstance(shape, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in shape.items())
    return False


def _as_json(shape: Any) -> Any:
    if isinstance(shape, tuple | list):
        return [_as_json(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _as_json(v) for k, v in shape.items()}
    return shape


def assert_plain_shape(shape: Any) -> None:
    """``shape`` holds only ints, tuples, lists and dicts, and survives JSON."""
    assert _is_plain(shape), repr(shape)
    assert json.loads(json.dumps(shape)) == _as_json(shape)
