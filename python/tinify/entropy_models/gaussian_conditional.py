"""GaussianConditional: latents coded with a Gaussian whose scale (and mean) come from side
information."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from tinify import ans
from tinify.entropy_models.base import EntropyModel
from tinify.ops import LowerBound

__all__ = ["GaussianConditional"]


class GaussianConditional(EntropyModel):
    r"""Gaussian conditional: each value is coded with a discretized Gaussian of its own scale
    and mean, predicted from side information (a hyperprior or a context model).

    Introduced in `"Variational Image Compression with a Scale Hyperprior"
    <https://arxiv.org/abs/1802.01436>`_, by J. Ballé, D. Minnen, S. Singh, S.J. Hwang and
    N. Johnston, ICLR 2018. The likelihood of a value quantized around its mean :math:`\mu` is

    .. math::
        p(\hat y) = \Phi\!\left(\frac{\tfrac12 - |\hat y - \mu|}{\sigma}\right)
                  - \Phi\!\left(\frac{-\tfrac12 - |\hat y - \mu|}{\sigma}\right),
        \quad \sigma = \max(\text{scale}, \text{scale\_bound}).

    For coding, scales are snapped up to a table of scales (CompressAI's default: 64 scales,
    log-spaced from 0.11 to 256), one CDF row each: :meth:`build_indexes` picks the first
    table entry at least as large as the scale.

    Buffer names are CompressAI's (``scale_table``, ``scale_bound``, the CDF buffers). The
    scale table's float32 copy that index selection reads is prepared with the CDF tables (see
    :class:`~tinify.entropy_models.EntropyModel`).

    Args:
        scale_table: increasing positive scales, or ``None`` to set them later with
            :meth:`update_scale_table` (what the models do).
        scale_bound: smallest scale used, > 0; ``None`` means the first table entry.
        tail_mass: probability mass outside each CDF row, coded by escape, in (0, 1).
        **kwargs: :class:`EntropyModel` arguments.
    """

    _PREPARED_FROM = (*EntropyModel._PREPARED_FROM, "scale_table", "lower_bound_scale")

    def __init__(
        self,
        scale_table: Sequence[float] | None,
        *args: object,
        scale_bound: float | None = 0.11,
        tail_mass: float = 1e-9,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if scale_table is not None and not isinstance(scale_table, list | tuple):
            raise ValueError(
                f"`scale_table` must be a list, a tuple or None, got {type(scale_table).__name__}"
            )
        if scale_table is not None:
            if len(scale_table) < 1:
                raise ValueError("`scale_table` must not be empty")
            if list(scale_table) != sorted(scale_table) or any(s <= 0 for s in scale_table):
                raise ValueError(
                    f"`scale_table` must be increasing and positive, got {scale_table}"
                )
        if scale_bound is None:
            if not scale_table:
                raise ValueError(
                    "`scale_bound=None` takes the first scale of `scale_table`, which is missing"
                )
            scale_bound = scale_table[0]
        if scale_bound <= 0:
            raise ValueError(f"`scale_bound` must be positive, got {scale_bound}")
        if not 0 < tail_mass < 1:
            raise ValueError(f"`tail_mass` must be in (0, 1), got {tail_mass}")
        self.tail_mass = float(tail_mass)
        self.lower_bound_scale = LowerBound(scale_bound)
        self.register_buffer(
            "scale_table", self._prepare_scale_table(scale_table) if scale_table else torch.Tensor()
        )
        self.register_buffer("scale_bound", torch.Tensor([float(scale_bound)]))

    @staticmethod
    def _prepare_scale_table(scale_table: Sequence[float]) -> Tensor:
        return torch.tensor([float(s) for s in scale_table], dtype=torch.float32)

    @staticmethod
    def _standardized_cumulative(inputs: Tensor) -> Tensor:
        # Φ(x) = erfc(-x / √2) / 2: erfc keeps precision in the far tails.
        return 0.5 * torch.erfc(-(2**-0.5) * inputs)

    @staticmethod
    def _standardized_quantile(quantile: float) -> float:
        return float(torch.special.ndtri(torch.tensor(quantile, dtype=torch.float64)))

    def update_scale_table(
        self, scale_table: Sequence[float] | Tensor, force: bool = False
    ) -> bool:
        """Sets the scale table and builds its CDF rows. Returns False (and does nothing) if
        tables exist and ``force`` is False."""
        if self._offset.numel() > 0 and not force:
            return False
        table = (
            scale_table
            if isinstance(scale_table, Tensor)
            else self._prepare_scale_table(scale_table)
        )
        self.scale_table = table.to(device=self.scale_table.device, dtype=torch.float32)
        self.update()
        return True

    @torch.no_grad()
    def update(self) -> None:
        """Builds one CDF row per scale of the table, all rows in one call."""
        if self.scale_table.numel() == 0:
            raise ValueError(
                "GaussianConditional has no scale table: call update_scale_table() first"
            )
        multiplier = -self._standardized_quantile(self.tail_mass / 2)
        pmf_center = torch.ceil(self.scale_table * multiplier).int()
        pmf_length = 2 * pmf_center + 1
        center = pmf_center.long()

        # Row r holds the values k - center for k = 0 .. 2 center; CompressAI evaluates
        # Φ((±0.5 - |k - center|) / scale) for each, on a table padded to the widest row. The
        # same floats come from cdf_at(j) = Φ((-0.5 - j) / scale) for j = -1 .. center alone,
        # since 0.5 - a and -0.5 - (a - 1) are the same float for an integer a: the tables are
        # CompressAI's bit for bit, at a thirtieth of the work.
        row, j = _ragged_arange(center + 2)
        cdf_at = self._standardized_cumulative(
            (-0.5 - (j - 1).float()) / self.scale_table.float()[row]
        )
        first = torch.cumsum(center + 2, 0) - (center + 2)

        row, k = _ragged_arange(pmf_length.long())
        at = first[row] + torch.abs(k - center[row])  # cdf_at index of j = |k - center| - 1
        pmf = cdf_at[at] - cdf_at[at + 1]
        tail_mass = 2 * cdf_at[first + center + 1]  # twice Φ((-0.5 - center) / scale)

        self._offset = -pmf_center
        self._quantized_cdf, self._cdf_length = self._quantized_cdfs(pmf, tail_mass, pmf_length)
        self._tables_updated()

    def _likelihood(self, inputs: Tensor, scales: Tensor, means: Tensor | None = None) -> Tensor:
        values = torch.abs(inputs - means if means is not None else inputs)
        scales = self.lower_bound_scale(scales)
        upper = self._standardized_cumulative((0.5 - values) / scales)
        lower = self._standardized_cumulative((-0.5 - values) / scales)
        return upper - lower

    def forward(
        self,
        inputs: Tensor,
        scales: Tensor,
        means: Tensor | None = None,
        training: bool | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Quantizes ``inputs`` (noise when training, rounding around ``means`` otherwise) and
        returns ``(y_hat, likelihoods)``."""
        if training is None:
            training = self.training
        outputs = self.quantize(inputs, "noise" if training else "dequantize", means)
        likelihood = self._likelihood(outputs, scales, means)
        if self.use_likelihood_bound:
            likelihood = self.likelihood_lower_bound(likelihood)
        return outputs, likelihood

    def build_indexes(self, scales: Tensor) -> Tensor:
        """The CDF row of each scale: the first table entry at least ``max(scale, scale_bound)``
        (the last row for larger scales and NaN), as int32 of ``scales``' shape.

        Selected by the Rust core, the one owner of this rule, which the autoregressive loop
        applies too; comparisons are exact for float32 and float64 scales, as CompressAI's.
        """
        return torch.from_numpy(self.index_array(scales)).to(scales.device)

    def index_array(self, scales: Tensor) -> np.ndarray:
        """:meth:`build_indexes` as the int32 numpy array the coder reads, on the host: the
        coding path keeps indexes there rather than sending them to the scales' device and
        back."""
        table, bound = self._index_table()
        return ans.scale_indexes(scales.detach(), table, bound)

    def _index_table(self) -> tuple[np.ndarray, float]:
        """The scale table as float32 numpy and the scale bound, kept until they change (read
        lazily: ``lower_bound_scale.bound`` is loaded after this module's own buffers)."""
        prepared = self.__dict__.get("_prepared_scales")
        if prepared is None:
            if self.scale_table.numel() == 0:
                raise ValueError(
                    "GaussianConditional has no scale table: call update_scale_table() first"
                )
            table = np.ascontiguousarray(self.scale_table.detach().cpu().numpy(), dtype=np.float32)
            prepared = (table, float(self.lower_bound_scale.bound))
            self.__dict__["_prepared_scales"] = prepared
        return prepared

    def compress_with_scales(
        self, inputs: Tensor, scales: Tensor, means: Tensor | None = None
    ) -> list[bytes]:
        """:meth:`compress` with each value's CDF row selected from ``scales``."""
        return self.compress(inputs, self.index_array(scales), means)  # type: ignore[arg-type]

    def decompress_with_scales(
        self,
        strings: Sequence[bytes],
        scales: Tensor,
        dtype: torch.dtype = torch.float,
        means: Tensor | None = None,
    ) -> Tensor:
        """:meth:`decompress` with each value's CDF row selected from ``scales``."""
        indexes = torch.from_numpy(self.index_array(scales))
        return self.decompress(strings, indexes, dtype, means)


def _ragged_arange(counts: Tensor) -> tuple[Tensor, Tensor]:
    """For rows of ``counts[r]`` entries, each entry's row and its position in the row."""
    row = torch.repeat_interleave(torch.arange(len(counts), device=counts.device), counts)
    starts = torch.cumsum(counts, 0) - counts
    return row, torch.arange(len(row), device=counts.device) - starts[row]
