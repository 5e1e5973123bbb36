"""EntropyBottleneck: the learned, factorized ("non-parametric") density of a latent."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tinify.entropy_models.base import EntropyModel
from tinify.limits import check_latent_size

__all__ = ["EntropyBottleneck"]


class EntropyBottleneck(EntropyModel):
    r"""Entropy bottleneck: a learned, per-channel density for latents coded without side
    information.

    Introduced in `"Variational Image Compression with a Scale Hyperprior"
    <https://arxiv.org/abs/1802.01436>`_, by J. Ballé, D. Minnen, S. Singh, S.J. Hwang and
    N. Johnston, ICLR 2018 (appendix 6.1). Each channel's cumulative distribution is a small
    monotonic network :math:`c(x)`; the likelihood of a quantized value is

    .. math::
        p(\hat y) = \sigma(c(\hat y + \tfrac12)) - \sigma(c(\hat y - \tfrac12)).

    Values are quantized around each channel's median. The ``quantiles`` parameter tracks the
    tail quantiles of the density (trained by :meth:`loss`, the auxiliary loss) and bounds the
    CDF tables built by :meth:`update`; values outside them are escape-coded.

    Parameter and buffer names are CompressAI's (``matrices.i``, ``biases.i``, ``factors.i``,
    ``quantiles``, ``target``).

    Args:
        channels: number of channels (dimension 1 of the inputs).
        tail_mass: probability mass left outside ``quantiles`` on each side, in (0, 1).
        init_scale: initial width of the density; ``quantiles`` start at
            ``(-init_scale, 0, init_scale)``.
        filters: hidden widths of the density network.
        **kwargs: :class:`EntropyModel` arguments.
    """

    def __init__(
        self,
        channels: int,
        *args: object,
        tail_mass: float = 1e-9,
        init_scale: float = 10,
        filters: Sequence[int] = (3, 3, 3, 3),
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if int(channels) < 1:
            raise ValueError(f"`channels` must be positive, got {channels}")
        if not 0 < tail_mass < 1:
            raise ValueError(f"`tail_mass` must be in (0, 1), got {tail_mass}")
        self.channels = int(channels)
        self.filters = tuple(int(f) for f in filters)
        self.init_scale = float(init_scale)
        self.tail_mass = float(tail_mass)

        widths = (1, *self.filters, 1)
        # Spread init_scale over the layers so that the initial density has that width.
        scale = self.init_scale ** (1 / (len(self.filters) + 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(self.filters) + 1):
            init = math.log(math.expm1(1 / scale / widths[i + 1]))
            self.matrices.append(
                nn.Parameter(torch.full((self.channels, widths[i + 1], widths[i]), init))
            )
            self.biases.append(
                nn.Parameter(torch.empty(self.channels, widths[i + 1], 1).uniform_(-0.5, 0.5))
            )
            if i < len(self.filters):
                self.factors.append(nn.Parameter(torch.zeros(self.channels, widths[i + 1], 1)))

        quantiles = torch.tensor([-self.init_scale, 0.0, self.init_scale])
        self.quantiles = nn.Parameter(quantiles.repeat(self.channels, 1, 1))
        target = math.log(2 / self.tail_mass - 1)
        self.register_buffer("target", torch.tensor([-target, 0.0, target]))

    def _get_medians(self) -> Tensor:
        return self.quantiles[:, :, 1:2]

    def _logits_cumulative(self, inputs: Tensor, stop_gradient: bool) -> Tensor:
        """The logit of the cumulative density, ``c(x)``, for ``(C, 1, L)`` inputs."""
        logits = inputs
        for i in range(len(self.filters) + 1):
            matrix, bias = self.matrices[i], self.biases[i]
            if stop_gradient:
                matrix, bias = matrix.detach(), bias.detach()
            logits = torch.matmul(F.softplus(matrix), logits)
            logits = logits + bias
            if i < len(self.filters):
                factor = self.factors[i].detach() if stop_gradient else self.factors[i]
                logits = logits + torch.tanh(factor) * torch.tanh(logits)
        return logits

    def _likelihood(
        self, inputs: Tensor, stop_gradient: bool = False
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Returns (likelihood, lower logits, upper logits) of the unit bins around ``inputs``."""
        lower = self._logits_cumulative(inputs - 0.5, stop_gradient=stop_gradient)
        upper = self._logits_cumulative(inputs + 0.5, stop_gradient=stop_gradient)
        return torch.sigmoid(upper) - torch.sigmoid(lower), lower, upper

    def forward(self, x: Tensor, training: bool | None = None) -> tuple[Tensor, Tensor]:
        """Quantizes ``x`` (noise when training, rounding around the medians otherwise) and
        returns ``(x_hat, likelihoods)``, both shaped like ``x`` ``(N, C, *)``."""
        if x.dim() < 2 or x.size(1) != self.channels:
            raise ValueError(
                f"expected inputs of shape (N, {self.channels}, ...), got {tuple(x.shape)}"
            )
        if training is None:
            training = self.training
        # (N, C, *) -> (C, 1, N * prod(*)): one density per channel, evaluated on all values.
        perm = (1, 0, *range(2, x.dim()))
        x = x.permute(*perm).contiguous()
        shape = x.shape
        values = x.reshape(x.size(0), 1, -1)
        outputs = self.quantize(values, "noise" if training else "dequantize", self._get_medians())
        likelihood, _, _ = self._likelihood(outputs)
        if self.use_likelihood_bound:
            likelihood = self.likelihood_lower_bound(likelihood)
        outputs = outputs.reshape(shape).permute(*perm).contiguous()
        likelihood = likelihood.reshape(shape).permute(*perm).contiguous()
        return outputs, likelihood

    def loss(self) -> Tensor:
        """The auxiliary loss: moves ``quantiles`` to the density's tail quantiles and median.

        Only ``quantiles`` receives gradients from it.
        """
        logits = self._logits_cumulative(self.quantiles, stop_gradient=True)
        return torch.abs(logits - self.target).sum()

    @torch.no_grad()
    def update(self, force: bool = False, update_quantiles: bool = False) -> bool:
        """Builds the CDF tables from the current density: one row per channel, covering the
        integers between its ``quantiles``.

        Returns False (and does nothing) if tables exist and ``force`` is False.

        Args:
            force: rebuild existing tables.
            update_quantiles: first solve for the quantiles by bisection (exact, and much
                faster than training them with :meth:`loss`).
        """
        if self._offset.numel() > 0 and not force:
            return False
        if update_quantiles:
            self._update_quantiles()

        medians = self.quantiles[:, 0, 1]
        minima = torch.clamp(torch.ceil(medians - self.quantiles[:, 0, 0]).int(), min=0)
        maxima = torch.clamp(torch.ceil(self.quantiles[:, 0, 2] - medians).int(), min=0)
        pmf_start = medians - minima
        pmf_length = maxima + minima + 1

        # The same float operations as CompressAI, so the tables are bit-identical to its own.
        max_length = int(pmf_length.max().item())
        samples = (
            torch.arange(max_length, device=pmf_start.device)[None, :] + pmf_start[:, None, None]
        )
        pmf, lower, upper = self._likelihood(samples, stop_gradient=True)
        pmf = pmf[:, 0, :]
        # Both tails go to the escape symbol. Like CompressAI, the upper tail is taken at the
        # last sample of the longest row rather than at each row's own end.
        tail_mass = torch.sigmoid(lower[:, 0, :1]) + torch.sigmoid(-upper[:, 0, -1:])

        self._offset = -minima
        self._quantized_cdf, self._cdf_length = self._quantized_cdfs(pmf, tail_mass, pmf_length)
        self._tables_updated()
        return True

    @torch.no_grad()
    def _update_quantiles(
        self, search_radius: float = 1e5, rtol: float = 1e-4, atol: float = 1e-3
    ) -> None:
        """Sets ``quantiles`` to where ``c(x)`` meets ``target``, by vectorised bisection."""
        shape = (self.channels, 1, 1)
        device = self.quantiles.device
        for i, target in enumerate(self.target):
            low = torch.full(shape, -search_radius, device=device)
            high = torch.full(shape, search_radius, device=device)
            f = lambda y: self._logits_cumulative(y, stop_gradient=True)  # noqa: E731
            low = torch.where(target <= f(high), low, high)
            high = torch.where(f(low) <= target, high, low)
            while not torch.isclose(low, high, rtol=rtol, atol=atol).all():
                mid = (low + high) / 2
                f_mid = f(mid)
                low = torch.where(f_mid <= target, mid, low)
                high = torch.where(f_mid >= target, mid, high)
            self.quantiles[:, :, i] = ((low + high) / 2)[:, :, 0]

    @staticmethod
    def _build_indexes(size: torch.Size) -> Tensor:
        """Channel numbers, broadcast to ``size``: channel ``c`` uses CDF row ``c``."""
        view = [1] * len(size)
        view[1] = -1
        return torch.arange(size[1], dtype=torch.int32).view(*view).expand(*size)

    def _medians_for(self, batch: int, spatial_dims: int) -> Tensor:
        medians = self._get_medians().detach().reshape(-1, *([1] * spatial_dims))
        return medians.expand(batch, *([-1] * (spatial_dims + 1)))

    def compress(self, x: Tensor) -> list[bytes]:  # type: ignore[override]
        """Codes ``x`` ``(N, C, *)`` into one byte string per batch element."""
        if x.dim() < 2 or x.size(1) != self.channels:
            raise ValueError(
                f"expected inputs of shape (N, {self.channels}, ...), got {tuple(x.shape)}"
            )
        indexes = self._build_indexes(x.shape)
        return super().compress(x, indexes, self._medians_for(x.size(0), x.dim() - 2).to(x.device))

    def decompress(self, strings: Sequence[bytes], size: Sequence[int]) -> Tensor:  # type: ignore[override]
        """Decodes the strings of :meth:`compress`; ``size`` is the spatial shape of ``x``."""
        self._check_tables()  # before the table's row count is read as the channel count
        if not isinstance(strings, list | tuple) or not strings:
            raise ValueError("`strings` must be a non-empty list of bytes, one per batch element")
        rows = self._quantized_cdf.size(0)
        size = check_latent_size(size, what="size", leading=(len(strings), rows), strings=strings)
        output_size = torch.Size((len(strings), rows, *size))
        indexes = self._build_indexes(output_size)
        medians = self._medians_for(len(strings), len(size))
        return super().decompress(strings, indexes.to(medians.device), medians.dtype, medians)
