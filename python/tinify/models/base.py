"""CompressionModel and SimpleVAECompressionModel: what every model shares."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from tinify.entropy_models import EntropyBottleneck, GaussianConditional
from tinify.latent_codecs.base import plain_shape
from tinify.models.utils import remap_legacy_keys, resize_buffers_to
from tinify.typing import CompressOutput, DecompressOutput, ForwardOutput

if TYPE_CHECKING:
    from tinify.latent_codecs import LatentCodec

__all__ = [
    "SCALES_LEVELS",
    "SCALES_MAX",
    "SCALES_MIN",
    "CompressionModel",
    "SimpleVAECompressionModel",
    "get_scale_table",
]

SCALES_MIN = 0.11
SCALES_MAX = 256
SCALES_LEVELS = 64

_CDF_BUFFERS = ("_quantized_cdf", "_offset", "_cdf_length")


def get_scale_table(
    min: float = SCALES_MIN, max: float = SCALES_MAX, levels: int = SCALES_LEVELS
) -> Tensor:
    """``levels`` scales log-spaced from ``min`` to ``max`` (float32): the default table of
    every GaussianConditional."""
    return torch.exp(torch.linspace(math.log(min), math.log(max), levels))


def check_float_images(x: Tensor, owner: str) -> None:
    """Raises TypeError unless ``x`` is a float tensor (images in [0, 1])."""
    if not isinstance(x, Tensor) or not x.is_floating_point():
        got = f"dtype {x.dtype}" if isinstance(x, Tensor) else type(x).__name__
        raise TypeError(
            f"{owner} expects float images in [0, 1], got {got}"
            + (" (divide uint8 images by 255: x.float() / 255)" if "uint8" in got else "")
        )


class CompressionModel(nn.Module):
    """Base class of models holding any number of EntropyBottleneck and GaussianConditional
    modules: builds their CDF tables, sums their auxiliary losses, and loads checkpoints whose
    tables have other sizes.

    Args:
        entropy_bottleneck_channels: deprecated (CompressAI compatibility); create the
            ``entropy_bottleneck`` in the subclass.
        init_weights: deprecated, ignored.
    """

    def __init__(
        self, entropy_bottleneck_channels: int | None = None, init_weights: Any = None
    ) -> None:
        super().__init__()
        if entropy_bottleneck_channels is not None:
            warnings.warn(
                "`entropy_bottleneck_channels` is deprecated: create `self.entropy_bottleneck` "
                "in the model",
                DeprecationWarning,
                stacklevel=2,
            )
            self.entropy_bottleneck = EntropyBottleneck(entropy_bottleneck_channels)
        if init_weights is not None:
            warnings.warn(
                "`init_weights` is deprecated and ignored", DeprecationWarning, stacklevel=2
            )

    #: The rate :meth:`compress`, :meth:`decompress` and ``forward`` use when given none. A
    #: model codes at rates ``0 .. num_rates - 1``; most have one.
    rate: int = 0

    @property
    def num_rates(self) -> int:
        """How many rates the model codes at with one set of weights (1 unless variable-rate)."""
        return 1

    @property
    def downsampling_factor(self) -> int:
        """How many pixels one latent position covers, along each axis: images are padded to
        a multiple of it (:func:`tinify.ops.compute_padding`). Raises NotImplementedError for
        a model that does not declare it; a model may also assign it."""
        factor = self.__dict__.get("_downsampling_factor")
        if factor is None:
            raise NotImplementedError(f"{type(self).__name__} declares no downsampling_factor")
        return int(factor)

    @downsampling_factor.setter
    def downsampling_factor(self, value: int) -> None:
        self.__dict__["_downsampling_factor"] = int(value)

    def compress(self, x: Tensor, *, rate: int | None = None) -> CompressOutput:
        """Codes images ``(N, 3, H, W)`` at ``rate`` (default :attr:`rate`) into
        ``{"strings": [[bytes per image] per stream], "shape"}``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement compress()")

    def decompress(self, strings: Any, shape: Any, *, rate: int | None = None) -> DecompressOutput:
        """Decodes the output of :meth:`compress` made at the same ``rate`` into
        ``{"x_hat"}``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement decompress()")

    def _rate(self, rate: int | Tensor | None) -> int | Tensor:
        """``rate`` (default :attr:`rate`) checked against :attr:`num_rates`: an int, or for
        ``forward`` a 1-D integer tensor of one rate per image."""
        rate = self.rate if rate is None else rate
        if isinstance(rate, Tensor):
            if rate.dtype not in (torch.int32, torch.int64) or rate.dim() > 1:
                raise TypeError("rate must be an int or a 1-D integer tensor (one rate per image)")
            if rate.numel() and (int(rate.min()) < 0 or int(rate.max()) >= self.num_rates):
                raise ValueError(f"rate must be in [0, {self.num_rates}), got {rate.tolist()}")
            return rate
        if isinstance(rate, bool) or not isinstance(rate, int):
            raise TypeError(f"rate must be an int, got {type(rate).__name__}")
        if not 0 <= rate < self.num_rates:
            raise ValueError(f"rate must be in [0, {self.num_rates}), got {rate}")
        return rate

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        """Loads a tinify or CompressAI state_dict.

        The CDF-table buffers (and GaussianConditional scale tables) are resized to the
        checkpoint's, whatever their current size, and the parameter names of older CompressAI
        checkpoints are mapped to the current ones.
        """
        state_dict = remap_legacy_keys(state_dict, self.state_dict().keys())
        for name, module in self.named_modules():
            if isinstance(module, EntropyBottleneck):
                resize_buffers_to(module, name, _CDF_BUFFERS, state_dict)
            elif isinstance(module, GaussianConditional):
                resize_buffers_to(module, name, (*_CDF_BUFFERS, "scale_table"), state_dict)
        return nn.Module.load_state_dict(self, state_dict, strict=strict, assign=assign)

    def update(
        self, scale_table: Tensor | None = None, force: bool = False, update_quantiles: bool = False
    ) -> bool:
        """Builds the CDF tables of every entropy model; needed once after training.

        Args:
            scale_table: scales of the GaussianConditionals (default: :func:`get_scale_table`).
            force: rebuild tables that exist.
            update_quantiles: solve the EntropyBottleneck quantiles by bisection first.

        Returns:
            True if any table was (re)built.
        """
        if scale_table is None:
            scale_table = get_scale_table()
        updated = False
        for module in self.modules():
            if isinstance(module, EntropyBottleneck):
                updated |= module.update(force=force, update_quantiles=update_quantiles)
            elif isinstance(module, GaussianConditional):
                updated |= module.update_scale_table(scale_table, force=force)
        return updated

    def aux_loss(self) -> Tensor:
        """Sum of the EntropyBottleneck auxiliary losses, which train only their ``quantiles``:
        the range that the CDF tables cover. Optimise it with its own optimizer."""
        losses = [m.loss() for m in self.modules() if isinstance(m, EntropyBottleneck)]
        return torch.stack(losses).sum() if losses else torch.zeros(())

    def _synthesize(self, y_hat: Tensor) -> Tensor:
        """``g_s(y_hat)`` clamped to [0, 1]: the last step of every ``decompress``.

        On the CPU the latents enter ``g_s`` channels-last, which spares oneDNN a reorder
        between NCHW and its own layout around each (transposed) convolution: the default
        model's synthesis of a 768x512 image takes about a quarter less time
        (``benches/bench_default.py``). The image comes back in the usual contiguous layout.
        """
        if y_hat.device.type == "cpu" and y_hat.dim() == 4:
            y_hat = y_hat.contiguous(memory_format=torch.channels_last)
        return self.g_s(y_hat).clamp_(0, 1).contiguous()

    def _check_image(self, x: Tensor) -> None:
        check_float_images(x, type(self).__name__)
        if x.dim() != 4:
            raise ValueError(f"expected images of shape (N, C, H, W), got shape {tuple(x.shape)}")


class SimpleVAECompressionModel(CompressionModel):
    """A model made of an analysis transform, a latent codec and a synthesis transform.

    .. code-block:: none

               ┌───┐  y  ┌────┐ y_hat ┌───┐
        x ──►──┤g_a├──►──┤ lc ├───►───┤g_s├──►── x_hat
               └───┘     └────┘       └───┘

    Subclasses set ``g_a``, ``g_s`` and ``latent_codec``.
    """

    g_a: nn.Module
    g_s: nn.Module
    latent_codec: LatentCodec

    def __getitem__(self, key: str) -> LatentCodec:
        return self.latent_codec[key]

    def forward(self, x: Tensor) -> ForwardOutput:
        self._check_image(x)
        y_out = self.latent_codec(self.g_a(x))
        return {"x_hat": self.g_s(y_out["y_hat"]), "likelihoods": y_out["likelihoods"]}

    def compress(self, x: Tensor, *, rate: int | None = None) -> CompressOutput:
        self._check_image(x)
        self._rate(rate)
        out = self.latent_codec.compress(self.g_a(x))
        return {**out, "shape": plain_shape(out["shape"])}

    def decompress(  # type: ignore[override]
        self, strings: Any, shape: Any, *args: Any, rate: int | None = None, **kwargs: Any
    ) -> DecompressOutput:
        self._rate(rate)
        y_hat = self.latent_codec.decompress(strings, shape, *args, **kwargs)["y_hat"]
        return {"x_hat": self._synthesize(y_hat)}


def num_rates(model: Any) -> int:
    """:attr:`CompressionModel.num_rates` of ``model``; 1 for any other module."""
    return model.num_rates if isinstance(model, CompressionModel) else 1
