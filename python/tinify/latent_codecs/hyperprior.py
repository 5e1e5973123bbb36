"""HyperpriorLatentCodec: a codec for y driven by the params of a hyper (side-information) codec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from tinify import registry
from tinify.latent_codecs.base import LatentCodec, check_children, plain_shape
from tinify.latent_codecs.hyper import HyperLatentCodec
from tinify.typing import LatentCompressOutput, LatentDecompressOutput, LatentForwardOutput

__all__ = ["HyperpriorLatentCodec", "split_hyper_strings"]


@registry.register("latent_codec", "HyperpriorLatentCodec")
class HyperpriorLatentCodec(LatentCodec):
    """Hyperprior codec constructed from latent codec for ``y`` that compresses ``y`` using
    ``params`` from ``hyper`` branch.

    Hyperprior entropy modeling introduced in `"Variational Image Compression with a Scale
    Hyperprior" <https://arxiv.org/abs/1802.01436>`_, by J. Balle, D. Minnen, S. Singh,
    S.J. Hwang, and N. Johnston, International Conference on Learning Representations (ICLR),
    2018.

    .. code-block:: none

                 ┌──────────┐
            ┌─►──┤ lc_hyper ├──►─┐
            │    └──────────┘    │
            │                    ▼ params
            │                    │
            │                 ┌──┴───┐
        y ──┴───────►─────────┤ lc_y ├───►── y_hat
                              └──────┘

    By default, the following codec is constructed:

    .. code-block:: none

                 ┌───┐  z  ┌───┐ z_hat      z_hat ┌───┐
            ┌─►──┤h_a├──►──┤ Q ├───►───····───►───┤h_s├──►─┐
            │    └───┘     └───┘        EB        └───┘    │
            │                                              │
            │                  ┌──────────────◄────────────┘
            │                  │            params
            │               ┌──┴──┐
            │               │  EP │
            │               └──┬──┘
            │                  │
            │   ┌───┐  y_hat   ▼
        y ──┴─►─┤ Q ├────►────····────►── y_hat
                └───┘          GC

    Common configurations of latent codecs include:

    - entropy bottleneck ``hyper`` (default) and gaussian conditional ``y`` (default)
    - entropy bottleneck ``hyper`` (default) and autoregressive ``y``

    ``forward`` returns the likelihoods ``{"y", "z"}``. ``compress`` returns the strings of
    ``y``'s codec followed by the ``z`` strings (always last), and the shape
    ``{"y": ..., "hyper": ...}``.

    The children are the attributes ``y`` and ``hyper`` (so a model's state_dict keys are
    ``latent_codec.y.*`` and ``latent_codec.hyper.*``); ``latent_codec`` maps the two names
    to them.

    Keyword arguments of ``compress`` and ``decompress`` (``threads`` of a raster-scan ``y``
    codec, say) go to the codec for ``y``.

    Args:
        latent_codec: ``{"y": codec for y taking (y, params), "hyper": HyperLatentCodec}``.
        **kwargs: ignored (CompressAI compatibility).
    """

    y: LatentCodec
    hyper: HyperLatentCodec

    def __init__(self, latent_codec: Mapping[str, LatentCodec], **kwargs: Any) -> None:
        super().__init__()
        check_children(self, latent_codec, ("y", "hyper"))
        self.y = latent_codec["y"]
        self.hyper = latent_codec["hyper"]

    @property
    def latent_codec(self) -> dict[str, LatentCodec]:
        """The children by name: ``{"y": self.y, "hyper": self.hyper}``."""
        return {"y": self.y, "hyper": self.hyper}

    def forward(self, y: Tensor) -> LatentForwardOutput:
        hyper_out = self.hyper(y)
        y_out = self.y(y, hyper_out["params"])
        return {
            "likelihoods": {"y": y_out["likelihoods"]["y"], "z": hyper_out["likelihoods"]["z"]},
            "y_hat": y_out["y_hat"],
        }

    def compress(self, y: Tensor, **kwargs: Any) -> LatentCompressOutput:
        hyper_out = self.hyper.compress(y)
        y_out = self.y.compress(y, hyper_out["params"], **kwargs)
        return {
            "strings": [*y_out["strings"], *hyper_out["strings"]],
            "shape": {"y": plain_shape(y_out["shape"]), "hyper": plain_shape(hyper_out["shape"])},
            "y_hat": y_out["y_hat"],
        }

    def decompress(
        self, strings: list[list[bytes]], shape: Mapping[str, Any], **kwargs: Any
    ) -> LatentDecompressOutput:
        y_strings, z_strings = split_hyper_strings(strings, self)
        if not isinstance(shape, Mapping) or not {"y", "hyper"} <= set(shape):
            raise ValueError(
                f"{type(self).__name__} expects the shape {{'y': ..., 'hyper': ...}}, got "
                f"{type(shape).__name__}"
            )
        hyper_out = self.hyper.decompress([z_strings], shape["hyper"])
        y_out = self.y.decompress(y_strings, shape["y"], hyper_out["params"], **kwargs)
        return {"y_hat": y_out["y_hat"]}


def split_hyper_strings(
    strings: list[list[bytes]], owner: LatentCodec
) -> tuple[list[list[bytes]], list[bytes]]:
    """Splits a hyperprior's strings into (the streams of y, the z stream), checking that
    every stream has one string per batch element."""
    if not isinstance(strings, list | tuple) or len(strings) < 2:
        raise ValueError(
            f"{type(owner).__name__} expects the streams of y followed by the z stream, got "
            f"{len(strings) if isinstance(strings, list | tuple) else type(strings).__name__}"
        )
    *y_strings, z_strings = strings
    if any(len(s) != len(z_strings) for s in y_strings):
        raise ValueError(
            f"{type(owner).__name__}: every stream needs one string per batch element, got "
            f"{[len(s) for s in strings]}"
        )
    return list(y_strings), z_strings
