"""HyperLatentCodec: the side-information branch of a hyperprior (h_a, entropy bottleneck, h_s)."""

from __future__ import annotations

from typing import Any, TypedDict

from torch import Tensor, nn

from tinify import registry
from tinify.entropy_models import EntropyBottleneck
from tinify.latent_codecs.base import (
    QUANTIZERS,
    LatentCodec,
    check_choice,
    one_stream,
    prior_params,
)
from tinify.ops import quantize_ste
from tinify.typing import LatentCompressOutput

__all__ = ["HyperDecompressOutput", "HyperForwardOutput", "HyperLatentCodec"]


class HyperForwardOutput(TypedDict):
    """``forward`` of the hyper codecs: the likelihoods of ``z`` and the params of ``h_s``."""

    likelihoods: dict[str, Tensor]
    params: Tensor


class HyperDecompressOutput(TypedDict):
    """``decompress`` of the hyper codecs: the params of ``h_s``."""

    params: Tensor


@registry.register("latent_codec", "HyperLatentCodec")
class HyperLatentCodec(LatentCodec):
    """Entropy bottleneck codec with surrounding ``h_a`` and ``h_s`` transforms.

    "Hyper" side-information branch introduced in `"Variational Image Compression with a
    Scale Hyperprior" <https://arxiv.org/abs/1802.01436>`_, by J. Balle, D. Minnen, S. Singh,
    S.J. Hwang, and N. Johnston, International Conference on Learning Representations (ICLR),
    2018.

    .. note:: ``HyperLatentCodec`` should be used inside ``HyperpriorLatentCodec`` to
       construct a full hyperprior.

    .. code-block:: none

               ┌───┐  z  ┌───┐ z_hat      z_hat ┌───┐
        y ──►──┤h_a├──►──┤ Q ├───►───····───►───┤h_s├──►── params
               └───┘     └───┘        EB        └───┘

    Unlike the other codecs it returns ``params`` (the output of ``h_s``) instead of
    ``y_hat``: ``forward`` gives ``{"likelihoods": {"z"}, "params"}``, ``compress``
    ``{"strings": [z_strings], "shape": (h, w), "params"}`` and ``decompress``
    ``{"params"}``. ``params`` always comes from the ``z_hat`` the decoder sees.

    Args:
        entropy_bottleneck: the entropy model of ``z``.
        h_a: hyper analysis transform, ``y`` → ``z``.
        h_s: hyper synthesis transform, ``z_hat`` → ``params``.
        quantizer: ``"noise"`` passes the entropy bottleneck's ``z_hat`` (noisy when
            training) to ``h_s``; ``"ste"`` rounds ``z`` around the medians with a
            straight-through gradient.
        **kwargs: ignored (CompressAI compatibility).

    Attributes:
        prior: where ``compress`` and ``decompress`` compute ``params``: ``"torch"``
            (CompressAI's floats and bytes, the default) or ``"engine"`` (the deterministic
            engine: encoder and decoder compute the same scales on every machine; ``h_s`` is
            compiled once and kept until the weights are loaded, replaced or trained). An
            attribute rather than a constructor argument, so the constructor stays CompressAI's.
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
        quantizer: str = "noise",
        **kwargs: Any,
    ) -> None:
        super().__init__()
        check_choice("quantizer", quantizer, QUANTIZERS)
        self.entropy_bottleneck = entropy_bottleneck
        self.h_a = h_a
        self.h_s = h_s
        self.quantizer = quantizer

    # The hyper codecs return params rather than y_hat (CompressAI's layout).
    def forward(self, y: Tensor) -> HyperForwardOutput:  # type: ignore[override]
        z = self.h_a(y)
        z_hat, z_likelihoods = self.entropy_bottleneck(z)
        if self.quantizer == "ste":
            z_medians = self.entropy_bottleneck._get_medians()
            z_hat = quantize_ste(z - z_medians) + z_medians
        return {"likelihoods": {"z": z_likelihoods}, "params": self.h_s(z_hat)}

    def compress(self, y: Tensor) -> LatentCompressOutput:
        z = self.h_a(y)
        shape = tuple(int(s) for s in z.shape[2:])
        z_strings = self.entropy_bottleneck.compress(z)
        z_hat = self.entropy_bottleneck.decompress(z_strings, shape)
        return {
            "strings": [z_strings],
            "shape": shape,
            "params": prior_params(self, self.h_s, z_hat),
        }

    def decompress(  # type: ignore[override]
        self, strings: list[list[bytes]], shape: tuple[int, ...], **kwargs: Any
    ) -> HyperDecompressOutput:
        (z_strings,) = one_stream(strings, self)
        z_hat = self.entropy_bottleneck.decompress(z_strings, tuple(shape))
        return {"params": prior_params(self, self.h_s, z_hat)}
