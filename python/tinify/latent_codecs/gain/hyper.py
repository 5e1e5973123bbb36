"""GainHyperLatentCodec: a hyper branch whose z is scaled by a gain before coding."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from tinify import registry
from tinify.entropy_models import EntropyBottleneck
from tinify.latent_codecs.base import LatentCodec, one_stream, prior_params
from tinify.latent_codecs.hyper import HyperDecompressOutput, HyperForwardOutput
from tinify.typing import LatentCompressOutput

__all__ = ["GainHyperLatentCodec"]


@registry.register("latent_codec", "GainHyperLatentCodec")
class GainHyperLatentCodec(LatentCodec):
    """Entropy bottleneck codec with surrounding ``h_a`` and ``h_s`` transforms.

    Gain-controlled side branch for hyperprior introduced in `"Asymmetric Gained Deep Image
    Compression With Continuous Rate Adaptation" <https://arxiv.org/abs/2003.02012>`_, by
    Ze Cui, Jing Wang, Shangyin Gao, Bo Bai, Tiansheng Guo, and Yihui Feng, CVPR, 2021.

    .. note:: ``GainHyperLatentCodec`` should be used inside ``GainHyperpriorLatentCodec`` to
       construct a full hyperprior.

    .. code-block:: none

                       gain                        gain_inv
                         │                             │
                         ▼                             ▼
               ┌───┐  z  │     ┌───┐ z_hat      z_hat  │       ┌───┐
        y ──►──┤h_a├──►──×──►──┤ Q ├───►───····───►────×────►──┤h_s├──►── params
               └───┘           └───┘        EB                 └───┘

    ``z = h_a(y) · gain`` is coded; ``h_s`` sees ``z_hat · gain_inv``. A larger gain spreads
    ``z`` over more quantization bins (more bits, less distortion). The gains are tensors
    broadcastable to ``z``, typically ``(N or 1, C, 1, 1)`` rows of a learned gain matrix. As in
    :class:`~tinify.latent_codecs.HyperLatentCodec`, the methods return ``params``.

    Args:
        entropy_bottleneck: the entropy model of the scaled ``z``.
        h_a: hyper analysis transform, ``y`` → ``z``.
        h_s: hyper synthesis transform, ``z_hat · gain_inv`` → ``params``.
        **kwargs: ignored (CompressAI compatibility).

    Attributes:
        prior: ``"torch"`` or ``"engine"``, as in
            :class:`~tinify.latent_codecs.HyperLatentCodec`; the gain is one correctly
            rounded multiply either way, the same bits on every machine.
    """

    #: ``"torch"`` or ``"engine"`` (see above).
    prior: str = "torch"
    entropy_bottleneck: EntropyBottleneck
    h_a: nn.Module
    h_s: nn.Module

    def __init__(
        self,
        entropy_bottleneck: EntropyBottleneck,
        h_a: nn.Module,
        h_s: nn.Module,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.entropy_bottleneck = entropy_bottleneck
        self.h_a = h_a
        self.h_s = h_s

    def forward(  # type: ignore[override]
        self, y: Tensor, gain: Tensor, gain_inv: Tensor
    ) -> HyperForwardOutput:
        z = self.h_a(y) * gain
        z_hat, z_likelihoods = self.entropy_bottleneck(z)
        return {"likelihoods": {"z": z_likelihoods}, "params": self.h_s(z_hat * gain_inv)}

    def compress(self, y: Tensor, gain: Tensor, gain_inv: Tensor) -> LatentCompressOutput:
        z = self.h_a(y) * gain
        shape = tuple(int(s) for s in z.shape[2:])
        z_strings = self.entropy_bottleneck.compress(z)
        z_hat = self.entropy_bottleneck.decompress(z_strings, shape)
        return {
            "strings": [z_strings],
            "shape": shape,
            "params": prior_params(self, self.h_s, z_hat * gain_inv),
        }

    def decompress(  # type: ignore[override]
        self,
        strings: list[list[bytes]],
        shape: tuple[int, ...],
        gain_inv: Tensor,
        **kwargs: Any,
    ) -> HyperDecompressOutput:
        (z_strings,) = one_stream(strings, self)
        z_hat = self.entropy_bottleneck.decompress(z_strings, tuple(shape))
        return {"params": prior_params(self, self.h_s, z_hat * gain_inv)}
