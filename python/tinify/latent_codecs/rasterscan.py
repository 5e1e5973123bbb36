"""RasterScanLatentCodec: autoregressive coding, one position at a time in raster-scan order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from tinify import registry
from tinify.autoregressive import (
    RasterScanCoder,
    TorchRasterScanCoder,
    check_context_prediction,
    choose_coder,
)
from tinify.entropy_models import GaussianConditional
from tinify.latent_codecs.base import LatentCodec, one_stream
from tinify.limits import check_latent_size
from tinify.typing import LatentCompressOutput, LatentDecompressOutput, LatentForwardOutput

__all__ = ["RasterScanLatentCodec"]


@registry.register("latent_codec", "RasterScanLatentCodec")
class RasterScanLatentCodec(LatentCodec):
    """Autoregression in raster-scan order with local decoded context.

    PixelCNN context model introduced in `"Pixel Recurrent Neural Networks"
    <http://arxiv.org/abs/1601.06759>`_, by Aaron van den Oord, Nal Kalchbrenner, and Koray
    Kavukcuoglu, International Conference on Machine Learning (ICML), 2016.

    First applied to learned image compression in `"Joint Autoregressive and Hierarchical
    Priors for Learned Image Compression" <https://arxiv.org/abs/1809.02736>`_, by D. Minnen,
    J. Balle, and G.D. Toderici, Adv. in Neural Information Processing Systems 31 (NeurIPS
    2018).

    .. code-block:: none

                         ctx_params
                             │
                             ▼
                             │ ┌───◄───┐
                           ┌─┴─┴─┐  ┌──┴──┐
                           │  EP │  │  CP │
                           └──┬──┘  └──┬──┘
                              │        │
                              │        ▲
               ┌───┐  y_hat   ▼        │
        y ──►──┤ Q ├────►────····───►──┴──►── y_hat
               └───┘          GC

    Each position's Gaussian ``(scales, means)`` (the two halves of ``entropy_parameters``'
    output) comes from ``merge(params, context_prediction(y_hat))``, where the masked
    convolution sees only positions decoded before it. ``forward`` evaluates all positions at
    once from ``y`` quantized without means; ``compress`` and ``decompress`` run the serial
    loop in Rust (:mod:`tinify.autoregressive`), one routine for both, so the encoder and the
    decoder compute the same parameters from the same decoded values, and values are
    rounded around their means. Batch elements are coded in parallel.

    ``compress`` returns ``{"strings": [[s_0, s_1, ...]], "shape": (H, W), "y_hat"}``: one
    stream with one string per batch element, the layout ``decompress`` reads (CompressAI's
    returns one list per batch element and so only works at batch size 1). Each string
    codes the positions by wavefronts (all positions ``(r, c)`` with ``a r + c = t`` for
    ``t = 0, 1, ...``, ``a = k // 2 + 1``), the channels of a position together: an order in
    which a wavefront's positions can be computed together. CompressAI's raster order
    differs, so the streams are not interchangeable with CompressAI's.

    When the entropy-parameter network is made of 1x1 convolutions and ReLU, LeakyReLU, GELU
    or Identity layers and ``merge`` is the concatenation, the Rust loop runs it. Any other
    network (a GDN, a 3x3 convolution, an overridden ``merge``) runs on
    :class:`~tinify.autoregressive.TorchRasterScanCoder`, chosen automatically: the same
    wavefront order and stream format, torch computing each wavefront's parameters (on
    ``1 x 1`` inputs, as CompressAI evaluates them), several times slower; a
    :class:`~tinify.autoregressive.SlowPathWarning` says so once per codec. The coder is built
    at the first coding call and kept until the weights or tables change (see ``_coder``).

    Args:
        gaussian_conditional: the entropy model (its scale table sets the CDF rows).
        entropy_parameters: network applied to each position's ``1 x 1``
            ``merge(params, context)`` → ``2 C`` channels: scales then means.
        context_prediction: causal context model, a :class:`~tinify.layers.MaskedConv2d`
            with a square, odd kernel ``k``, stride 1 and padding ``(k - 1) // 2``.
        **kwargs: ignored (CompressAI compatibility).
    """

    gaussian_conditional: GaussianConditional
    entropy_parameters: nn.Module
    context_prediction: nn.Conv2d

    def __init__(
        self,
        gaussian_conditional: GaussianConditional,
        entropy_parameters: nn.Module,
        context_prediction: nn.Conv2d,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        kh = check_context_prediction(context_prediction)
        padding = (kh - 1) // 2
        self.gaussian_conditional = gaussian_conditional
        self.entropy_parameters = entropy_parameters
        self.context_prediction = context_prediction
        self.kernel_size = kh
        self.padding = padding

    def forward(self, y: Tensor, params: Tensor) -> LatentForwardOutput:
        y_hat = self.gaussian_conditional.quantize(y, "noise" if self.training else "dequantize")
        ctx_params = self.merge(params, self.context_prediction(y_hat))
        scales_hat, means_hat = self.entropy_parameters(ctx_params).chunk(2, 1)
        _, y_likelihoods = self.gaussian_conditional(y, scales_hat, means=means_hat)
        return {"likelihoods": {"y": y_likelihoods}, "y_hat": y_hat}

    @torch.no_grad()
    def compress(
        self, y: Tensor, ctx_params: Tensor, *, threads: int | None = None
    ) -> LatentCompressOutput:
        """Codes ``y`` ``(N, C, H, W)`` given ``ctx_params`` ``(N, P, H, W)``: one stream with
        one string per batch element, and the ``y_hat`` the decoder will reconstruct.

        ``threads`` caps the worker threads coding the batch elements in parallel (default:
        one per core); it never changes the output.
        """
        self._check_params(ctx_params, y.size(0), tuple(y.shape[2:]))
        y_strings, y_hat = self._coder().encode(y, ctx_params, threads=threads)
        shape = (int(y.size(2)), int(y.size(3)))
        return {"strings": [y_strings], "shape": shape, "y_hat": y_hat}

    @torch.no_grad()
    def decompress(
        self,
        strings: list[list[bytes]],
        shape: Sequence[int],
        ctx_params: Tensor,
        *,
        threads: int | None = None,
        **kwargs: Any,
    ) -> LatentDecompressOutput:
        (y_strings,) = one_stream(strings, self)
        height, width = check_latent_size(shape, ndim=2, what="shape", strings=y_strings)
        self._check_params(ctx_params, len(y_strings), (height, width))
        return {"y_hat": self._coder().decode(y_strings, ctx_params, threads=threads)}

    @staticmethod
    def merge(*args: Tensor) -> Tensor:
        """The input of ``entropy_parameters``: params and context, concatenated along
        channels."""
        return torch.cat(args, dim=1)

    def _coder(self) -> RasterScanCoder | TorchRasterScanCoder:
        """The serial loop (see :mod:`tinify.autoregressive`): the Rust one when it can describe
        the networks, else the torch one (with a one-time :class:`SlowPathWarning`).

        Built at the first coding call and kept on the codec with the entropy model's CDF
        tables it was built for. It is dropped when those tables are rebuilt (``update()``),
        when a state_dict is loaded, a part is replaced, the module is moved (``.to()``), or
        switches between training and evaluation (training steps change the weights in
        training mode; coding runs in evaluation mode). A write through ``.data`` in
        evaluation mode goes unseen: call ``train()``/``eval()`` after one.
        """
        tables = self.gaussian_conditional.coding_tables()

        def build() -> tuple[Any, RasterScanCoder | TorchRasterScanCoder]:
            return tables, self._build_coder()

        # The base class drops prepared state when weights may change; the tables are rebuilt
        # by the entropy model's own update(), so the coder is also keyed on them.
        built_for, coder = self.prepared("coder", build)
        if built_for is not tables:
            self.drop_prepared()
            _, coder = self.prepared("coder", build)
        return coder

    def _build_coder(self) -> RasterScanCoder | TorchRasterScanCoder:
        merge = None if type(self).merge is RasterScanLatentCodec.merge else self.merge
        parts = (self.context_prediction, self.entropy_parameters, self.gaussian_conditional)
        return choose_coder(self, *parts, merge, stacklevel=7)

    def _check_params(self, params: Tensor, n: int, shape: tuple[int, ...]) -> None:
        if params.dim() != 4 or params.size(0) != n or tuple(params.shape[2:]) != tuple(shape):
            raise ValueError(
                f"params of shape {tuple(params.shape)} do not fit a latent of batch {n} and "
                f"spatial shape {tuple(shape)}"
            )
