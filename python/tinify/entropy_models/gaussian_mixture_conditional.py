"""A mixture of K Gaussians as the conditional entropy model, as CompressAI's
``GaussianMixtureConditional``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from tinify import ans
from tinify.entropy_models.gaussian_conditional import GaussianConditional

__all__ = ["GaussianMixtureConditional"]

# Added to the scales when the CDFs are built (CompressAI's constant).
_TINY = 1e-10
# The scales' range when the CDFs are built (CompressAI's default scale table's bounds).
_SCALE_MIN, _SCALE_MAX = 0.11, 256.0


class GaussianMixtureConditional(GaussianConditional):
    """A latent ``y`` (M channels) modelled by a weighted sum of K Gaussians per element.

    As used by `Learned Image Compression with Discretized Gaussian Mixture Likelihoods and
    Attention Modules <https://arxiv.org/abs/2001.01568>`_, Zhengxue Cheng, Heming Sun, Masaru
    Takeuchi, Jiro Katto, CVPR 2020.

    ``scales``, ``means`` and ``weights`` have ``K · M`` channels: channels ``k·M … (k+1)·M − 1``
    hold component ``k``. The weights should sum to 1 over the components (a softmax).

    .. math::

        p(\\hat y) = \\sum_k w_k \\left(
            \\Phi\\left(\\frac{\\hat y - \\mu_k + 1/2}{\\sigma_k}\\right)
            - \\Phi\\left(\\frac{\\hat y - \\mu_k - 1/2}{\\sigma_k}\\right)\\right)

    Coding builds one CDF per latent element (a table of ``2·abs_max + 3`` entries each),
    with CompressAI's arithmetic, so the tables, and the bytes tinify's rANS coder writes with
    them, are CompressAI's; channels that are zero everywhere are not coded. Unlike CompressAI's,
    any batch size works (the zero-channel map then covers the whole batch) and an all-zero
    latent codes to an empty stream.

    Args:
        K: the number of mixture components, ≥ 1.
        scale_table: :class:`GaussianConditional`'s (unused by the mixture's coding).
        *args: :class:`GaussianConditional` arguments.
        **kwargs: :class:`GaussianConditional` arguments (``scale_bound``, ``likelihood_bound``,
            ``entropy_coder_precision`` …).
    """

    def __init__(
        self,
        K: int = 3,
        scale_table: Sequence[float] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(scale_table, *args, **kwargs)
        if isinstance(K, bool) or not isinstance(K, int) or K < 1:
            raise ValueError(f"`K` must be a positive integer, got {K!r}")
        self.K = K

    def _components(self, name: str, params: Tensor, like: Tensor) -> list[Tensor]:
        """``params`` (``K·M`` channels) split into the K components' ``M`` channels."""
        m = like.size(1)
        expected = (like.size(0), self.K * m, *like.shape[2:])
        if tuple(params.shape) != expected:
            raise ValueError(
                f"`{name}` must have shape {expected} (K={self.K} components of the latent's "
                f"{m} channels), got {tuple(params.shape)}"
            )
        return [params[:, k * m : (k + 1) * m] for k in range(self.K)]

    def _likelihood(  # type: ignore[override]
        self, inputs: Tensor, scales: Tensor, means: Tensor, weights: Tensor
    ) -> Tensor:
        likelihood = torch.zeros_like(inputs)
        for scale, mean, weight in zip(
            self._components("scales", scales, inputs),
            self._components("means", means, inputs),
            self._components("weights", weights, inputs),
            strict=True,
        ):
            likelihood += GaussianConditional._likelihood(self, inputs, scale, mean) * weight
        return likelihood

    def forward(  # type: ignore[override]
        self,
        inputs: Tensor,
        scales: Tensor,
        means: Tensor,
        weights: Tensor,
        training: bool | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Quantizes ``inputs`` (uniform noise when training, rounding otherwise; not around
        the means, which differ per component) and returns ``(y_hat, likelihoods)``."""
        if training is None:
            training = self.training
        outputs = self.quantize(inputs, "noise" if training else "dequantize", means=None)
        likelihood = self._likelihood(outputs, scales, means, weights)
        if self.use_likelihood_bound:
            likelihood = self.likelihood_lower_bound(likelihood)
        return outputs, likelihood

    def reshape_entropy_parameters(
        self, scales: Tensor, means: Tensor, weights: Tensor, nonzero: Sequence[int]
    ) -> tuple[Tensor, Tensor, Tensor]:
        """The parameters of the coded channels ``nonzero`` as ``(K, latents)`` rows each, the
        latents in the order of the coded symbols (batch, channel, row, column)."""

        def rows(params: Tensor) -> Tensor:
            n, _, h, w = params.shape
            per_component = params.reshape(n, self.K, -1, h * w)[:, :, list(nonzero)]
            return per_component.permute(1, 0, 2, 3).reshape(self.K, n * len(nonzero) * h * w)

        return rows(scales), rows(means), rows(weights)

    @torch.no_grad()
    def _build_cdf(self, scales: Tensor, means: Tensor, weights: Tensor, abs_max: int) -> Tensor:
        """One quantized CDF per latent (column) of the ``(K, latents)`` parameters, over the
        symbols ``0 … 2·abs_max`` (values ``−abs_max … abs_max``) and an escape symbol:
        ``(latents, 2·abs_max + 3)`` int32 rows from 0 to ``2**precision``.

        Every float operation is CompressAI's, in its order, so that the tables are equal.
        """
        num_samples = 2 * abs_max + 1
        scales = scales.clamp(_SCALE_MIN, _SCALE_MAX).unsqueeze(-1)
        means = (means + abs_max).unsqueeze(-1)
        weights = weights.unsqueeze(-1)
        samples = torch.arange(num_samples, device=scales.device)

        pmf = torch.zeros((*scales.shape[1:-1], num_samples), device=scales.device)
        for k in range(self.K):
            denominator = (scales[k] + _TINY) * 2**0.5
            upper = 0.5 * (1 + torch.erf((samples + 0.5 - means[k]) / denominator))
            lower = 0.5 * (1 + torch.erf((samples - 0.5 - means[k]) / denominator))
            pmf += (upper - lower) * weights[k]

        total = 2**self.entropy_coder_precision - 1
        counts = torch.round(pmf.clamp(min=1.0 / total, max=1.0) * total)
        cumulative = torch.cumsum(counts * total / counts.sum(1, keepdim=True), 1).int()
        freqs = torch.diff(F.pad(cumulative, (1, 0)), dim=1)

        # rANS cannot code a symbol of frequency 0: give each such symbol 1, taken from the
        # least likely symbol that can spare them all.
        zeros = num_samples - torch.count_nonzero(freqs, dim=1)
        spare = torch.where(freqs > zeros.unsqueeze(1), freqs, torch.tensor(total + 1).int())
        _, donor = torch.min(spare, dim=1)
        freqs = freqs + (freqs == 0).int()
        freqs.scatter_add_(1, donor.unsqueeze(1), -zeros.unsqueeze(1).int())

        cdf = F.pad(torch.cumsum(freqs, 1).int(), (1, 0))
        return F.pad(cdf, (0, 1), value=total + 1)

    @staticmethod
    def _abs_max(y: Tensor) -> int:
        # CompressAI's range: the magnitude's integer part, plus one.
        peak = max(int(torch.abs(y.max()).int()), int(torch.abs(y.min()).int()))
        return max(peak + 1, 1)

    def _code_tables(self, cdf: Tensor) -> ans.CdfTables:
        n = cdf.size(0)
        sizes = torch.full((n,), cdf.size(1), dtype=torch.int32)
        return ans.cdf_tables(cdf.cpu(), sizes, torch.zeros(n, dtype=torch.int32))

    def compress(  # type: ignore[override]
        self, y: Tensor, scales: Tensor, means: Tensor, weights: Tensor
    ) -> tuple[tuple[bytes, int, Tensor], Tensor]:
        """Codes ``round(y)`` with the mixture's CDFs.

        Returns:
            ``((string, abs_max, zero_bitmap), y_hat)``, CompressAI's layout: one stream for
            the batch, the symbols' range, a ``(M,)`` int map of the coded (nonzero) channels,
            and ``round(y)``.

        Raises:
            ValueError: if the parameters do not have ``K · M`` channels and ``y``'s size.
        """
        if y.dim() != 4:
            raise ValueError(f"`y` must be 4-D (N, M, H, W), got shape {tuple(y.shape)}")
        for name, params in (("scales", scales), ("means", means), ("weights", weights)):
            self._components(name, params, y)
        abs_max = self._abs_max(y)
        y_hat = torch.round(y)
        zero_bitmap = (torch.abs(y_hat).sum(dim=(0, 2, 3)) != 0).long()
        nonzero = torch.nonzero(zero_bitmap).flatten().tolist()
        symbols = (y_hat[:, nonzero] + abs_max).reshape(-1)
        cdf = self._build_cdf(
            *self.reshape_entropy_parameters(scales, means, weights, nonzero), abs_max
        )
        indexes = torch.arange(cdf.size(0), dtype=torch.int32)
        string = ans.RansEncoder().encode_with_indexes(
            symbols.int().cpu(), indexes, self._code_tables(cdf)
        )
        return (string, abs_max, zero_bitmap), y_hat

    def decompress(  # type: ignore[override]
        self,
        strings: bytes,
        abs_max: int,
        zero_bitmap: Tensor,
        scales: Tensor,
        means: Tensor,
        weights: Tensor,
    ) -> Tensor:
        """Decodes what :meth:`compress` coded, given the same parameters.

        Returns:
            ``y_hat`` ``(N, M, H, W)`` (float32, on ``scales``' device).

        Raises:
            ValueError: if the arguments disagree in shape, or ``abs_max`` < 1.
            tinify.ans.DecodeError: if the stream is corrupt or was coded with other
                parameters.
        """
        if isinstance(abs_max, bool) or int(abs_max) != abs_max or abs_max < 1:
            raise ValueError(f"`abs_max` must be a positive integer, got {abs_max!r}")
        abs_max = int(abs_max)
        if scales.dim() != 4:
            raise ValueError(f"`scales` must be 4-D, got shape {tuple(scales.shape)}")
        n, _, h, w = scales.shape
        m = zero_bitmap.numel()
        like = scales.new_empty((n, m, h, w))
        for name, params in (("scales", scales), ("means", means), ("weights", weights)):
            self._components(name, params, like)
        nonzero = torch.nonzero(zero_bitmap.flatten()).flatten().tolist()
        cdf = self._build_cdf(
            *self.reshape_entropy_parameters(scales, means, weights, nonzero), abs_max
        )
        indexes = torch.arange(cdf.size(0), dtype=torch.int32)
        values = ans.RansDecoder().decode_with_indexes(strings, indexes, self._code_tables(cdf))
        y_hat = torch.zeros((n, m, h, w), device=scales.device)
        y_hat[:, nonzero] = (values - abs_max).reshape(n, len(nonzero), h, w).to(y_hat)
        return y_hat
