"""A variable-rate mean-scale hyperprior: one network, several rates chosen by gain vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from tinify.latent_codecs import (
    GainHyperLatentCodec,
    GainHyperpriorLatentCodec,
    GaussianConditionalLatentCodec,
    LatentCodec,
)
from tinify.latent_codecs.base import with_prior
from tinify.models.google import MeanScaleHyperprior, _describe, _load_exactly
from tinify.registry import register
from tinify.typing import CompressOutput, DecompressOutput, ForwardOutput, Strings

__all__ = ["GainedMeanScaleHyperprior"]

#: λ of each rate when none are given (CompressAI's MSE λ of its qualities 2 to 6).
DEFAULT_LAMBDAS = (0.0035, 0.0067, 0.0130, 0.0250, 0.0483)


@register("model", "gained-mean-scale-hyperprior")
class GainedMeanScaleHyperprior(MeanScaleHyperprior):
    r""":class:`MeanScaleHyperprior` that codes at ``K`` rates with one set of transforms,
    each rate selected by a learned gain vector (and its inverse) on ``y`` and on ``z``.

    From `"Asymmetric Gained Deep Image Compression With Continuous Rate Adaptation"
    <https://arxiv.org/abs/2003.02012>`_, Z. Cui, J. Wang, S. Gao, B. Bai, T. Guo and Y. Feng,
    CVPR 2021. Rate ``r`` scales the latent channel-wise by ``y_gain[r]`` before quantization
    (a larger gain spreads ``y`` over more bins: more bits, less distortion) and by
    ``y_gain_inv[r]`` after it; ``z`` likewise with ``z_gain[r]`` / ``z_gain_inv[r]``.
    Training draws one rate per batch and weighs its distortion by ``lambdas[r]``.

    .. code-block:: none

                      y_gain[r]                z_gain[r]            z_gain_inv[r]
                          │                        │                      │
              ┌───┐  y    ▼  y_g  ┌───┐   z       ▼  ┌───┐     z_hat     ▼  ┌───┐
        x ──►─┤g_a├──►────×──►─┬──┤h_a├───►───────×──┤ Q ├───►─··EB··─►───×──┤h_s├──┐
              └───┘            │  └───┘              └───┘                   └───┘  │
                             ┌─┴─┐                                                │
                             │ Q │      ·GC· ◄────────── scales_hat, means_hat ◄──┘
                             └─┬─┘
                         y_hat ▼  y_gain_inv[r]
              ┌───┐            │      │
        x̂ ──◄─┤g_s├──◄────────×──◄───┘
              └───┘

    The rate is the attribute :attr:`rate` (0 to ``K - 1``) unless ``forward``, ``compress`` or
    ``decompress`` are given one; the decoder must use the rate the encoder used (the
    ``.tfy`` header records it as the quality ``rate + 1``). Strings, shapes and padding are
    as in :class:`MeanScaleHyperprior`.

    Mixed quantization (:attr:`mixed_quantization`, off by default, a training choice that is
    not saved in the state_dict): in training mode the rate term still sees ``y`` with uniform
    noise, but ``g_s`` receives ``round(y − μ) + μ`` with a straight-through gradient, the
    latent it will decode at test time (Minnen and Singh, `"Channel-wise autoregressive entropy
    models for learned image compression" <https://arxiv.org/abs/2007.08739>`_, ICIP 2020).

    Args:
        N: channels of the transforms' hidden layers and of ``z``, >= 1.
        M: channels of the latent ``y``, >= 1.
        lambdas: the rate–distortion trade-off of each rate, increasing (its length is ``K``).
    """

    #: Train ``g_s`` on rounded latents (straight-through) instead of noisy ones.
    mixed_quantization: bool = False

    def __init__(
        self, N: int = 64, M: int = 96, lambdas: Sequence[float] = DEFAULT_LAMBDAS, **kwargs: Any
    ) -> None:
        super().__init__(N, M, **kwargs)
        lambdas = [float(v) for v in lambdas]
        if not lambdas or any(v <= 0 for v in lambdas):
            raise ValueError(f"lambdas must be a non-empty list of positive numbers, got {lambdas}")
        k = len(lambdas)
        self.register_buffer("lambdas", torch.tensor(lambdas, dtype=torch.float32))
        # High-rate theory: the quantization step that balances rate and MSE scales as
        # 1/sqrt(λ), so each rate starts with the gain sqrt(λ / λ_mid) on every channel.
        log_lambdas = torch.tensor(lambdas).log()
        start = ((log_lambdas - log_lambdas.mean()) / 2).exp()
        self.y_gain = nn.Parameter(start[:, None].repeat(1, self.M))
        self.y_gain_inv = nn.Parameter((1 / start)[:, None].repeat(1, self.M))
        self.z_gain = nn.Parameter(torch.ones(k, self.N))
        self.z_gain_inv = nn.Parameter(torch.ones(k, self.N))
        self.rate = k - 1

    @property
    def num_rates(self) -> int:
        """``K``, the number of rates."""
        return int(self.lambdas.numel())

    @staticmethod
    def _row(table: Tensor, rate: int | Tensor) -> Tensor:
        row = table[rate]
        return row.reshape(-1, table.size(1), 1, 1)

    def lmbda(self, rate: int | None = None) -> float:
        """The λ of ``rate`` (default: :attr:`rate`)."""
        return float(self.lambdas[self._rate(rate)])

    LATENT_CODEC_KEYS: ClassVar[Mapping[str, str]] = {
        "y.gaussian_conditional": "gaussian_conditional",
        "hyper.entropy_bottleneck": "entropy_bottleneck",
        "hyper.h_a": "h_a",
        "hyper.h_s": "h_s",
    }

    def _build_latent_codec(self) -> LatentCodec:
        """``GainHyperpriorLatentCodec(y: GaussianConditionalLatentCodec, hyper:
        GainHyperLatentCodec)`` with ``hyper_input = "gained"``: ``h_a`` sees the gained ``y``."""
        codec = GainHyperpriorLatentCodec(
            {
                "y": GaussianConditionalLatentCodec(
                    gaussian_conditional=self.gaussian_conditional, chunks=("scales", "means")
                ),
                "hyper": with_prior(
                    GainHyperLatentCodec(self.entropy_bottleneck, self.h_a, self.h_s), self.prior
                ),
            }
        )
        codec.hyper_input = "gained"
        return codec

    def _gains(self, rate: int | Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(y_gain, z_gain, y_gain_inv, z_gain_inv)`` of ``rate``, in the codec's order."""
        tables = (self.y_gain, self.z_gain, self.y_gain_inv, self.z_gain_inv)
        return tuple(self._row(t, rate) for t in tables)  # type: ignore[return-value]

    def forward(self, x: Tensor, rate: int | Tensor | None = None) -> ForwardOutput:
        """Reconstructs ``x`` at ``rate`` (an int, or one per image) through the noisy (training)
        or quantized latents; returns ``{"x_hat", "likelihoods": {"y", "z"}}``."""
        self._check_images(x)
        codec = self.latent_codec
        # Mixed quantization is the y codec's straight-through quantizer, in training only.
        codec["y"].quantizer = "ste" if self.training and self.mixed_quantization else "noise"
        out = codec(self.g_a(x), *self._gains(self._rate(rate)))
        return {"x_hat": self.g_s(out["y_hat"]), "likelihoods": out["likelihoods"]}

    def compress(self, x: Tensor, rate: int | None = None) -> CompressOutput:
        """Codes images ``(N, 3, H, W)`` at ``rate`` into ``{"strings": [y_strings,
        z_strings], "shape"}``. Needs :meth:`update` first (or shipped tables)."""
        self._check_images(x)
        y = self.g_a(x)
        self._check_latent(x, y)
        out = self.latent_codec.compress(y, *self._gains(self._rate(rate)))
        return {"strings": out["strings"], "shape": tuple(out["shape"]["hyper"])}

    def decompress(
        self, strings: Strings, shape: Sequence[int], rate: int | None = None
    ) -> DecompressOutput:
        """Decodes the output of :meth:`compress` (made at the same ``rate``) into
        ``{"x_hat"}``, clamped to [0, 1]."""
        _, _, y_gain_inv, z_gain_inv = self._gains(self._rate(rate))
        strings = self._unpack(strings, 2, shape)
        y_hat = self.latent_codec.decompress(strings, self._shapes(shape), y_gain_inv, z_gain_inv)[
            "y_hat"
        ]
        return {"x_hat": self._synthesize(y_hat)}

    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, Tensor]) -> GainedMeanScaleHyperprior:
        """Builds the model at the checkpoint's N, M and rates, and loads it.

        Raises:
            ValueError: if the checkpoint is not one of this architecture.
        """
        try:
            n, m = state_dict["z_gain"].size(1), state_dict["y_gain"].size(1)
            lambdas = state_dict["lambdas"].tolist()
        except (KeyError, AttributeError, IndexError) as err:
            raise ValueError(
                f"the state_dict is not a {_describe(cls)} checkpoint: no gains or lambdas"
            ) from err
        net = cls(int(n), int(m), lambdas)
        _load_exactly(net, state_dict)
        return net
