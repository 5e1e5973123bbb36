"""EntropyBottleneckLatentCodec: a latent coded with a factorized (side-information-free) prior."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from tinify import registry
from tinify.entropy_models import EntropyBottleneck
from tinify.latent_codecs.base import LatentCodec, one_stream
from tinify.typing import LatentCompressOutput, LatentDecompressOutput, LatentForwardOutput

__all__ = ["EntropyBottleneckLatentCodec"]


@registry.register("latent_codec", "EntropyBottleneckLatentCodec")
class EntropyBottleneckLatentCodec(LatentCodec):
    """Entropy bottleneck codec.

    Factorized prior "entropy bottleneck" introduced in `"Variational Image Compression with a
    Scale Hyperprior" <https://arxiv.org/abs/1802.01436>`_, by J. Balle, D. Minnen, S. Singh,
    S.J. Hwang, and N. Johnston, International Conference on Learning Representations (ICLR),
    2018.

    .. code-block:: none

               ┌───┐ y_hat
        y ──►──┤ Q ├───►───····───►─── y_hat
               └───┘        EB

    ``compress`` returns ``{"strings": [y_strings], "shape": (H, W), "y_hat"}``.

    Args:
        entropy_bottleneck: the entropy model; by default ``EntropyBottleneck(**kwargs)``.
        **kwargs: arguments of :class:`~tinify.entropy_models.EntropyBottleneck` (at least
            ``channels``) when ``entropy_bottleneck`` is not given.
    """

    entropy_bottleneck: EntropyBottleneck

    def __init__(self, entropy_bottleneck: EntropyBottleneck | None = None, **kwargs: Any) -> None:
        super().__init__()
        if entropy_bottleneck is None:
            entropy_bottleneck = EntropyBottleneck(**kwargs)
        self.entropy_bottleneck = entropy_bottleneck

    def forward(self, y: Tensor) -> LatentForwardOutput:
        y_hat, y_likelihoods = self.entropy_bottleneck(y)
        return {"likelihoods": {"y": y_likelihoods}, "y_hat": y_hat}

    def compress(self, y: Tensor) -> LatentCompressOutput:
        shape = tuple(int(s) for s in y.shape[2:])
        y_strings = self.entropy_bottleneck.compress(y)
        # Coding is lossless: y_hat is what decompress computes from the symbols, directly.
        eb = self.entropy_bottleneck
        medians = eb._medians_for(y.size(0), y.dim() - 2).to(y.device)
        y_hat = eb.dequantize(eb.quantize(y, "symbols", medians), medians)
        return {"strings": [y_strings], "shape": shape, "y_hat": y_hat}

    def decompress(
        self, strings: list[list[bytes]], shape: tuple[int, ...], **kwargs: Any
    ) -> LatentDecompressOutput:
        (y_strings,) = one_stream(strings, self)
        return {"y_hat": self.entropy_bottleneck.decompress(y_strings, tuple(shape))}
