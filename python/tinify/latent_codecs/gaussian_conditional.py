"""GaussianConditionalLatentCodec: a latent coded with Gaussians whose parameters are given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from tinify import registry
from tinify.entropy_models import GaussianConditional
from tinify.latent_codecs.base import QUANTIZERS, LatentCodec, check_choice, one_stream
from tinify.limits import check_latent_size
from tinify.ops import quantize_ste
from tinify.typing import LatentCompressOutput, LatentDecompressOutput, LatentForwardOutput

__all__ = ["CHUNKS", "GaussianConditionalLatentCodec"]

#: How the output of ``entropy_parameters`` splits (along channels) into scales and means.
#: (Means alone are refused: a Gaussian conditional needs scales, and CompressAI's
#: ``("means",)`` passes ``None`` scales to the entropy model, which fails.)
CHUNKS = (("scales",), ("scales", "means"), ("means", "scales"))


@registry.register("latent_codec", "GaussianConditionalLatentCodec")
class GaussianConditionalLatentCodec(LatentCodec):
    """Gaussian conditional for compressing latent ``y`` using ``ctx_params``.

    Probability model for Gaussian of ``(scales, means)``.

    Gaussian conditional entropy model introduced in `"Variational Image Compression with a
    Scale Hyperprior" <https://arxiv.org/abs/1802.01436>`_, by J. Balle, D. Minnen, S. Singh,
    S.J. Hwang, and N. Johnston, International Conference on Learning Representations (ICLR),
    2018.

    .. note:: Unlike the original paper, which models only the scale (i.e. "width") of the
       Gaussian, this implementation models both the scale and the mean (i.e. "center") of
       the Gaussian.

    .. code-block:: none

                          ctx_params
                              │
                              ▼
                              │
                           ┌──┴──┐
                           │  EP │
                           └──┬──┘
                              │
               ┌───┐  y_hat   ▼
        y ──►──┤ Q ├────►────····──►── y_hat
               └───┘          GC

    ``compress`` returns ``{"strings": [y_strings], "shape": (H, W), "y_hat"}``; the spatial
    dimensions may have any size.

    Args:
        scale_table: scales of the default ``GaussianConditional`` (``None``: set them later
            with ``update_scale_table``, as the models do).
        gaussian_conditional: the entropy model; by default
            ``GaussianConditional(scale_table, **kwargs)``.
        entropy_parameters: network turning ``ctx_params`` into the Gaussian parameters
            (default: identity). Its output holds the chunks below along dimension 1.
        quantizer: ``"noise"`` returns the entropy model's ``y_hat`` (uniform noise when
            training, rounding otherwise); ``"ste"`` returns ``y`` rounded around the means
            with a straight-through gradient. The likelihoods are the entropy model's either
            way.
        chunks: order of the parameters in the output of ``entropy_parameters``:
            ``("scales", "means")`` (halves along channels), ``("means", "scales")`` or
            ``("scales",)``. ``("means",)`` raises ValueError: the entropy model needs
            scales.
        **kwargs: arguments of :class:`~tinify.entropy_models.GaussianConditional`.
    """

    gaussian_conditional: GaussianConditional
    entropy_parameters: nn.Module

    def __init__(
        self,
        scale_table: Sequence[float] | None = None,
        gaussian_conditional: GaussianConditional | None = None,
        entropy_parameters: nn.Module | None = None,
        quantizer: str = "noise",
        chunks: Sequence[str] = ("scales", "means"),
        **kwargs: Any,
    ) -> None:
        super().__init__()
        check_choice("quantizer", quantizer, QUANTIZERS)
        if isinstance(chunks, str):
            chunks = (chunks,)
        if tuple(chunks) == ("means",):
            raise ValueError(
                "chunks=('means',) gives no scales, which GaussianConditional needs; use "
                "('scales', 'means') or ('means', 'scales') with a network that outputs both"
            )
        check_choice("chunks", tuple(chunks), CHUNKS)
        self.quantizer = quantizer
        if gaussian_conditional is None:
            gaussian_conditional = GaussianConditional(scale_table, **kwargs)
        self.gaussian_conditional = gaussian_conditional
        self.entropy_parameters = (
            entropy_parameters if entropy_parameters is not None else nn.Identity()
        )
        self.chunks = tuple(chunks)

    def forward(self, y: Tensor, ctx_params: Tensor) -> LatentForwardOutput:
        scales_hat, means_hat = self._chunk(self.entropy_parameters(ctx_params))
        y_hat, y_likelihoods = self.gaussian_conditional(y, scales_hat, means=means_hat)
        if self.quantizer == "ste":
            y_hat = (
                quantize_ste(y) if means_hat is None else quantize_ste(y - means_hat) + means_hat
            )
        return {"likelihoods": {"y": y_likelihoods}, "y_hat": y_hat}

    def compress(self, y: Tensor, ctx_params: Tensor) -> LatentCompressOutput:
        scales_hat, means_hat = self._chunk(self.entropy_parameters(ctx_params))
        y_strings = self.gaussian_conditional.compress_with_scales(y, scales_hat, means_hat)
        # Coding is lossless: the decoder gets exactly the symbols, so y_hat is computed
        # directly, as decompress will (symbols cast, plus the means).
        symbols = self.gaussian_conditional.quantize(y, "symbols", means_hat)
        y_hat = self.gaussian_conditional.dequantize(symbols, means_hat, y.dtype)
        shape = tuple(int(s) for s in y.shape[2:])
        return {"strings": [y_strings], "shape": shape, "y_hat": y_hat}

    def decompress(
        self,
        strings: list[list[bytes]],
        shape: tuple[int, ...],
        ctx_params: Tensor,
        **kwargs: Any,
    ) -> LatentDecompressOutput:
        (y_strings,) = one_stream(strings, self)
        # A checkerboard step of a one-position latent is empty: sizes of 0 are legitimate.
        shape = check_latent_size(shape, what="shape", minimum=0, strings=y_strings)
        scales_hat, means_hat = self._chunk(self.entropy_parameters(ctx_params))
        if tuple(scales_hat.shape[2:]) != tuple(shape):
            raise ValueError(
                f"the parameters give a latent of spatial shape {tuple(scales_hat.shape[2:])}, "
                f"but the stream's shape is {tuple(shape)}"
            )
        y_hat = self.gaussian_conditional.decompress_with_scales(
            y_strings, scales_hat, ctx_params.dtype, means_hat
        )
        return {"y_hat": y_hat}

    def _chunk(self, params: Tensor) -> tuple[Tensor, Tensor | None]:
        """Splits the output of ``entropy_parameters`` into ``(scales, means)``; ``means`` is
        ``None`` when ``chunks`` has none."""
        if self.chunks == ("scales",):
            return params, None
        first, second = params.chunk(2, 1)
        return (first, second) if self.chunks == ("scales", "means") else (second, first)
