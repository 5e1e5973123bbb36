"""GainHyperpriorLatentCodec: a hyperprior whose y and z are scaled by gains before coding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from tinify import registry
from tinify.latent_codecs.base import LatentCodec, check_children, check_choice, plain_shape
from tinify.latent_codecs.gain.hyper import GainHyperLatentCodec
from tinify.latent_codecs.hyperprior import split_hyper_strings
from tinify.typing import LatentCompressOutput, LatentDecompressOutput, LatentForwardOutput

__all__ = ["HYPER_INPUTS", "GainHyperpriorLatentCodec"]

#: What the hyper branch of a :class:`GainHyperpriorLatentCodec` sees: ``y`` itself
#: (CompressAI's placement) or the gained ``y · y_gain``.
HYPER_INPUTS = ("y", "gained")


@registry.register("latent_codec", "GainHyperpriorLatentCodec")
class GainHyperpriorLatentCodec(LatentCodec):
    """Hyperprior codec constructed from latent codec for ``y`` that compresses ``y`` using
    ``params`` from ``hyper`` branch.

    Gain-controlled hyperprior introduced in `"Asymmetric Gained Deep Image Compression With
    Continuous Rate Adaptation" <https://arxiv.org/abs/2003.02012>`_, by Ze Cui, Jing Wang,
    Shangyin Gao, Bo Bai, Tiansheng Guo, and Yihui Feng, CVPR, 2021.

    .. code-block:: none

                z_gain  z_gain_inv
                   │        │
                   ▼        ▼
                  ┌┴────────┴┐
            ┌──►──┤ lc_hyper ├──►─┐
            │     └──────────┘    │
            │                     │
            │     y_gain          ▼ params   y_gain_inv
            │        │            │              │
            │        ▼            │              ▼
            │        │         ┌──┴───┐          │
        y ──┴────►───×───►─────┤ lc_y ├────►─────×─────►── y_hat
                               └──────┘

    By default, the following codec is constructed:

    .. code-block:: none

                        z_gain                      z_gain_inv
                           │                             │
                           ▼                             ▼
                 ┌───┐  z  │ z_g ┌───┐ z_hat      z_hat  │       ┌───┐
            ┌─►──┤h_a├──►──×──►──┤ Q ├───►───····───►────×────►──┤h_s├──┐
            │    └───┘           └───┘        EB                 └───┘  │
            │                                                           │
            │                              ┌──────────────◄─────────────┘
            │                              │            params
            │                           ┌──┴──┐
            │    y_gain                 │  EP │    y_gain_inv
            │       │                   └──┬──┘        │
            │       ▼                      │           ▼
            │       │       ┌───┐          ▼           │
        y ──┴───►───×───►───┤ Q ├────►────····───►─────×─────►── y_hat
                            └───┘          GC

    Common configurations of latent codecs include:

    - entropy bottleneck ``hyper`` (default) and gaussian conditional ``y`` (default)
    - entropy bottleneck ``hyper`` (default) and autoregressive ``y``

    The hyper codec (a :class:`~tinify.latent_codecs.GainHyperLatentCodec`) sees the
    unscaled ``y`` (``hyper_input="y"``, CompressAI's placement) and applies ``z_gain`` /
    ``z_gain_inv`` itself; the codec for ``y`` codes ``y · y_gain``, and its decoded latent is
    returned times ``y_gain_inv``. With ``hyper_input="gained"`` the hyper codec sees
    ``y · y_gain`` instead, the placement of tinify's default model
    (:class:`~tinify.models.GainedMeanScaleHyperprior`):

    .. code-block:: none

                                     z_gain  z_gain_inv
                                        │        │
                                        ▼        ▼
                                       ┌┴────────┴┐
                                 ┌──►──┤ lc_hyper ├──►─┐
                                 │     └──────────┘    │
                y_gain           │                     ▼ params   y_gain_inv
                   │             │                     │              │
                   ▼             │                  ┌──┴───┐          ▼
        y ──►──────×──────►──────┴────────►─────────┤ lc_y ├────►─────×─────►── y_hat
                                                    └──────┘

    Strings, shapes and likelihoods are laid out as in
    :class:`~tinify.latent_codecs.HyperpriorLatentCodec` (the ``z`` strings last), and the
    children are the attributes ``y`` and ``hyper``. Keyword arguments of ``compress`` and
    ``decompress`` go to the codec for ``y``.

    Args:
        latent_codec: ``{"y": codec for y taking (y, params), "hyper":
            GainHyperLatentCodec}``.
        **kwargs: ignored (CompressAI compatibility).

    Attributes:
        hyper_input: ``"y"`` (the hyper branch sees ``y``, the default) or ``"gained"`` (it
            sees ``y · y_gain``); an attribute, so the constructor stays CompressAI's.
    """

    #: What the hyper branch sees (see above).
    hyper_input: str = "y"
    y: LatentCodec
    hyper: GainHyperLatentCodec

    def __init__(self, latent_codec: Mapping[str, LatentCodec], **kwargs: Any) -> None:
        super().__init__()
        check_children(self, latent_codec, ("y", "hyper"))
        self.y = latent_codec["y"]
        self.hyper = latent_codec["hyper"]

    @property
    def latent_codec(self) -> dict[str, LatentCodec]:
        """The children by name: ``{"y": self.y, "hyper": self.hyper}``."""
        return {"y": self.y, "hyper": self.hyper}

    def forward(
        self, y: Tensor, y_gain: Tensor, z_gain: Tensor, y_gain_inv: Tensor, z_gain_inv: Tensor
    ) -> LatentForwardOutput:
        y_gained = y * y_gain
        hyper_out = self.hyper(self._hyper_sees(y, y_gained), z_gain, z_gain_inv)
        y_out = self.y(y_gained, hyper_out["params"])
        return {
            "likelihoods": {"y": y_out["likelihoods"]["y"], "z": hyper_out["likelihoods"]["z"]},
            "y_hat": y_out["y_hat"] * y_gain_inv,
        }

    def compress(
        self,
        y: Tensor,
        y_gain: Tensor,
        z_gain: Tensor,
        y_gain_inv: Tensor,
        z_gain_inv: Tensor,
        **kwargs: Any,
    ) -> LatentCompressOutput:
        y_gained = y * y_gain
        hyper_out = self.hyper.compress(self._hyper_sees(y, y_gained), z_gain, z_gain_inv)
        y_out = self.y.compress(y_gained, hyper_out["params"], **kwargs)
        return {
            "strings": [*y_out["strings"], *hyper_out["strings"]],
            "shape": {"y": plain_shape(y_out["shape"]), "hyper": plain_shape(hyper_out["shape"])},
            "y_hat": y_out["y_hat"] * y_gain_inv,
        }

    def decompress(
        self,
        strings: list[list[bytes]],
        shape: Mapping[str, Any],
        y_gain_inv: Tensor,
        z_gain_inv: Tensor,
        **kwargs: Any,
    ) -> LatentDecompressOutput:
        y_strings, z_strings = split_hyper_strings(strings, self)
        hyper_out = self.hyper.decompress([z_strings], shape["hyper"], z_gain_inv)
        y_out = self.y.decompress(y_strings, shape["y"], hyper_out["params"], **kwargs)
        return {"y_hat": y_out["y_hat"] * y_gain_inv}

    def _hyper_sees(self, y: Tensor, y_gained: Tensor) -> Tensor:
        check_choice("hyper_input", self.hyper_input, HYPER_INPUTS)
        return y_gained if self.hyper_input == "gained" else y
