"""A variable-rate mean-scale hyperprior: one network, several rates chosen by gain vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from tinify.models.google import MeanScaleHyperprior, _describe, _load_exactly
from tinify.ops import quantize_ste
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

    def _rate(self, rate: int | Tensor | None) -> int | Tensor:
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

    @staticmethod
    def _row(table: Tensor, rate: int | Tensor) -> Tensor:
        row = table[rate]
        return row.reshape(-1, table.size(1), 1, 1)

    def lmbda(self, rate: int | None = None) -> float:
        """The λ of ``rate`` (default: :attr:`rate`)."""
        return float(self.lambdas[self._rate(rate)])

    def forward(self, x: Tensor, rate: int | Tensor | None = None) -> ForwardOutput:
        """Reconstructs ``x`` at ``rate`` (an int, or one per image) through the noisy (training)
        or quantized latents; returns ``{"x_hat", "likelihoods": {"y", "z"}}``."""
        self._check_images(x)
        r = self._rate(rate)
        y = self.g_a(x) * self._row(self.y_gain, r)
        z = self.h_a(y) * self._row(self.z_gain, r)
        z_hat, z_likelihoods = self.entropy_bottleneck(z)
        scales_hat, means_hat = self._gaussian_params(z_hat * self._row(self.z_gain_inv, r))
        y_hat, y_likelihoods = self.gaussian_conditional(y, scales_hat, means=means_hat)
        if self.training and self.mixed_quantization:
            y_hat = quantize_ste(y - means_hat) + means_hat
        x_hat = self.g_s(y_hat * self._row(self.y_gain_inv, r))
        return {"x_hat": x_hat, "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    def compress(self, x: Tensor, rate: int | None = None) -> CompressOutput:
        """Codes images ``(N, 3, H, W)`` at ``rate`` into ``{"strings": [y_strings,
        z_strings], "shape"}``. Needs :meth:`update` first (or shipped tables)."""
        self._check_images(x)
        r = self._rate(rate)
        y = self.g_a(x) * self._row(self.y_gain, r)
        z = self.h_a(y) * self._row(self.z_gain, r)
        z_strings = self.entropy_bottleneck.compress(z)
        z_hat = self.entropy_bottleneck.decompress(z_strings, z.size()[-2:])
        scales_hat, means_hat = self._gaussian_params(z_hat * self._row(self.z_gain_inv, r))
        if scales_hat.shape != y.shape:
            raise ValueError(
                f"{type(self).__name__} cannot code a {x.size(2)}x{x.size(3)} image: pad images "
                f"to a multiple of {self.downsampling_factor} (tinify.ops.compute_padding)"
            )
        y_strings = self.gaussian_conditional.compress_with_scales(y, scales_hat, means_hat)
        return {"strings": [y_strings, z_strings], "shape": (int(z.size(2)), int(z.size(3)))}

    def decompress(
        self, strings: Strings, shape: Sequence[int], rate: int | None = None
    ) -> DecompressOutput:
        """Decodes the output of :meth:`compress` (made at the same ``rate``) into
        ``{"x_hat"}``, clamped to [0, 1]."""
        r = self._rate(rate)
        y_strings, z_strings = self._unpack(strings, 2, shape)
        z_hat = self.entropy_bottleneck.decompress(z_strings, shape)
        scales_hat, means_hat = self._gaussian_params(z_hat * self._row(self.z_gain_inv, r))
        y_hat = self.gaussian_conditional.decompress_with_scales(
            y_strings, scales_hat, z_hat.dtype, means_hat
        )
        return {"x_hat": self.g_s(y_hat * self._row(self.y_gain_inv, r)).clamp_(0, 1)}

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
