"""EntropyModelVbr and EntropyBottleneckVbr: entropy models whose quantization step varies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from tinify.entropy_models.base import EntropyModel, _fits
from tinify.entropy_models.entropy_bottleneck import EntropyBottleneck
from tinify.limits import check_latent_size

__all__ = ["EntropyBottleneckVbr", "EntropyModelVbr"]

#: The quantization modes of :meth:`EntropyModelVbr.quantize_variable`.
QUANTIZE_VARIABLE_MODES = ("noise", "ste", "dequantize", "symbols")

Step = Tensor | float


def _check_step(qs: Step | None, what: str = "qs") -> None:
    """A step is a positive float or a 0-d tensor (CompressAI's ``qs.shape == ()``)."""
    if qs is None:
        return
    if isinstance(qs, Tensor):
        if qs.dim() != 0:
            raise ValueError(
                f"`{what}` must be a 0-d tensor or a float, got shape {tuple(qs.shape)}"
            )
    elif isinstance(qs, bool) or not isinstance(qs, int | float):
        raise TypeError(f"`{what}` must be a 0-d tensor or a float, got {type(qs).__name__}")


def _check_positive_step(qs: Step | None, what: str = "qs") -> None:
    _check_step(qs, what)
    if qs is not None:
        value = float(qs)
        if not (value > 0 and value < float("inf")):
            raise ValueError(f"`{what}` must be a positive, finite step, got {value}")


class EntropyModelVbr(EntropyModel):
    r"""Entropy model whose values may be quantized with a step ``qs`` other than 1.

    The base of :class:`EntropyBottleneckVbr`, from `"Variable-Rate Learned Image Compression
    with Multi-Objective Optimization and Quantization-Reconstruction Offsets"
    <https://arxiv.org/abs/2402.18930>`_, F. Kamisli, F. Racapé and H. Choi, DCC 2024.
    A value :math:`x` centred on :math:`\mu` is coded as the symbol
    :math:`\operatorname{round}((x - \mu) / q_s)` and reconstructed as
    :math:`q_s \cdot \text{symbol} + \mu`. Without ``qs`` every method is
    :class:`~tinify.entropy_models.EntropyModel`'s; the CDF tables, buffers and coding are
    that class's (rANS through :mod:`tinify.ans`, batch elements in parallel).

    Args:
        likelihood_bound: lower bound applied to likelihoods in ``forward`` (0 disables it).
        entropy_coder: ``"ans"`` or ``None`` (the default, also ``"ans"``).
        entropy_coder_precision: bits of precision of the CDF tables (16 to code).
    """

    def quantize_variable(
        self,
        inputs: Tensor,
        mode: str,
        means: Tensor | None = None,
        qs: Step | None = None,
    ) -> Tensor:
        """Quantizes ``inputs`` around ``means`` with step ``qs`` (1 when ``None``).

        Args:
            inputs: the values.
            mode: ``"noise"`` adds uniform noise in ``[-qs/2, qs/2)`` (``means`` ignored);
                ``"ste"`` rounds to the step in the forward pass and passes gradients
                straight through; ``"dequantize"`` returns ``round((x - means) / qs) * qs +
                means``; ``"symbols"`` returns ``round((x - means) / qs)`` as int32.
            means: optional centres, broadcastable to ``inputs``.
            qs: the quantization step, a float or a 0-d tensor.
        """
        if mode not in QUANTIZE_VARIABLE_MODES:
            raise ValueError(
                f"invalid quantization mode {mode!r}, expected one of {QUANTIZE_VARIABLE_MODES}"
            )
        _check_step(qs)
        if mode == "noise":
            noise = torch.empty_like(inputs).uniform_(-0.5, 0.5)
            return inputs + (noise if qs is None else noise * qs)
        outputs = inputs - means if means is not None else inputs
        if mode == "ste":
            rounded = torch.round(outputs) if qs is None else torch.round(outputs / qs) * qs
            outputs = rounded - outputs.detach() + outputs
            return outputs + means if means is not None else outputs
        if mode == "dequantize":
            outputs = torch.round(outputs) if qs is None else torch.round(outputs / qs) * qs
            return outputs + means if means is not None else outputs
        # CompressAI truncates here when qs is None (outputs.int()); symbols are rounded.
        return (torch.round(outputs) if qs is None else torch.round(outputs / qs)).int()

    @staticmethod
    def dequantize_variable(
        inputs: Tensor,
        means: Tensor | None = None,
        dtype: torch.dtype = torch.float,
        qs: Step | None = None,
    ) -> Tensor:
        """Turns symbols back into values: ``inputs * qs + means`` (each part optional), as
        ``means``' dtype or ``dtype``."""
        _check_step(qs)
        if means is not None:
            outputs = inputs.type_as(means)
            return outputs + means if qs is None else outputs * qs + means
        outputs = inputs.type(dtype)
        return outputs if qs is None else outputs * qs

    def compress(  # type: ignore[override]
        self,
        inputs: Tensor,
        indexes: Tensor,
        means: Tensor | None = None,
        qs: Step | None = None,
    ) -> list[bytes]:
        """Codes each batch element into one byte string: the symbols
        ``round((inputs - means) / qs)``, each with the CDF row ``indexes`` gives.

        Args:
            inputs: ``(N, C, *)`` values, at least 2-D.
            indexes: int tensor of ``inputs``' shape: the CDF row of each value.
            means: optional centres, broadcastable to ``inputs``.
            qs: the quantization step (default 1), a positive float or 0-d tensor.
        """
        _check_positive_step(qs)
        if qs is None:
            return super().compress(inputs, indexes, means)
        # round((x - means) / qs) is what the base class rounds when handed the scaled values.
        scaled = (inputs - means if means is not None else inputs) / qs
        return super().compress(scaled, indexes)

    def decompress(  # type: ignore[override]
        self,
        strings: Sequence[bytes],
        indexes: Tensor,
        dtype: torch.dtype = torch.float,
        means: Tensor | None = None,
        qs: Step | None = None,
    ) -> Tensor:
        """Decodes the byte strings of :meth:`compress` into ``symbols * qs + means``.

        Args:
            strings: one byte string per batch element.
            indexes: ``(N, C, *)`` int tensor of CDF rows, the shape of the output.
            dtype: dtype of the output when ``means`` is not given.
            means: optional centres: ``(N, C)`` like ``indexes``, and 1 or equal to
                ``indexes`` in every other dimension.
            qs: the quantization step the strings were coded with (default 1).
        """
        _check_positive_step(qs)
        if qs is None:
            return super().decompress(strings, indexes, dtype, means)
        if means is not None and not _fits(means.shape, indexes.shape):
            raise ValueError(
                f"`means` of shape {tuple(means.shape)} does not fit `indexes` of shape "
                f"{tuple(indexes.shape)}"
            )
        symbols = super().decompress(strings, indexes, torch.int32)
        return self.dequantize_variable(symbols, means, dtype, qs)


class EntropyBottleneckVbr(EntropyBottleneck, EntropyModelVbr):
    r""":class:`~tinify.entropy_models.EntropyBottleneck` whose latent may be quantized with
    a step ``qs`` other than 1, for the variable-rate hyper-latent of the VBR models.

    From `"Variable-Rate Learned Image Compression with Multi-Objective Optimization and
    Quantization-Reconstruction Offsets" <https://arxiv.org/abs/2402.18930>`_, F. Kamisli,
    F. Racapé and H. Choi, DCC 2024. With step :math:`q_s` a value is rounded to the grid
    :math:`\mu + q_s k` around the channel median :math:`\mu`, and its likelihood is the
    density's mass over the bin of width :math:`q_s`:

    .. math::
        p(\hat z) = \sigma(c(\hat z + \tfrac{q_s}{2})) - \sigma(c(\hat z - \tfrac{q_s}{2})).

    :meth:`update_variable` builds CDF tables on that grid. Without ``qs`` every method is the
    plain entropy bottleneck's.

    The parameters keep CompressAI's names for this class, ``_matrix0``, ``_bias0``,
    ``_factor0``, ... (the plain bottleneck's are ``matrices.0``, ...), so its checkpoints
    load unchanged.

    Args:
        channels: number of channels (dimension 1 of the inputs).
        tail_mass: probability mass left outside ``quantiles`` on each side, in (0, 1).
        init_scale: initial width of the density.
        filters: hidden widths of the density network.
        **kwargs: :class:`EntropyModelVbr` arguments.

    Attributes:
        step_bins: with a step ``qs``, ``forward``'s likelihoods are those of CompressAI 1.2.8
            by default: of unit-width bins, whatever the step, with no gradient to the
            density (CompressAI passes ``qs`` where ``stop_gradient`` goes). Set True for the
            likelihoods of the bins of width ``qs`` that ``update_variable`` codes with, whose
            gradient trains the density: the rate the coder will spend.
    """

    _NAMES: ClassVar[dict[str, str]] = {
        "matrices": "_matrix",
        "biases": "_bias",
        "factors": "_factor",
    }

    #: Likelihoods of step-wide bins in ``forward`` (see above); False: CompressAI's.
    step_bins: bool = False

    def __init__(
        self,
        channels: int,
        *args: Any,
        tail_mass: float = 1e-9,
        init_scale: float = 10,
        filters: Sequence[int] = (3, 3, 3, 3),
        **kwargs: Any,
    ) -> None:
        super().__init__(
            channels, *args, tail_mass=tail_mass, init_scale=init_scale, filters=filters, **kwargs
        )
        # Re-register the parameter lists under CompressAI's flat names, in its order
        # (_matrix0, _bias0, _factor0, _matrix1, ..., quantiles).
        lists = {name: self._modules.pop(name) for name in self._NAMES}
        quantiles = self._parameters.pop("quantiles")
        for i in range(len(self.filters) + 1):
            for name, prefix in self._NAMES.items():
                if i < len(lists[name]):  # type: ignore[arg-type]
                    self.register_parameter(f"{prefix}{i}", lists[name][i])  # type: ignore[index]
        self._parameters["quantiles"] = quantiles

    def _flat(self, name: str) -> Any:
        # During EntropyBottleneck.__init__ the lists still exist; afterwards they are read
        # from the flat parameters, so load_state_dict(assign=True) and .to() are followed.
        modules = self.__dict__.get("_modules", {})
        if name in modules:
            return modules[name]
        prefix, params = self._NAMES[name], self.__dict__["_parameters"]
        count = len(self.filters) + (0 if name == "factors" else 1)
        return [params[f"{prefix}{i}"] for i in range(count)]

    @property  # type: ignore[override]
    def matrices(self) -> Any:
        """The density's matrices, ``_matrix0``, ``_matrix1``, ... (read-only view)."""
        return self._flat("matrices")

    @property  # type: ignore[override]
    def biases(self) -> Any:
        """The density's biases, ``_bias0``, ``_bias1``, ... (read-only view)."""
        return self._flat("biases")

    @property  # type: ignore[override]
    def factors(self) -> Any:
        """The density's factors, ``_factor0``, ``_factor1``, ... (read-only view)."""
        return self._flat("factors")

    def _likelihood_variable(
        self, inputs: Tensor, stop_gradient: bool = False, qs: Step | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Returns (likelihood, lower logits, upper logits) of the bins of width ``qs``
        (1 when ``None``) around ``inputs``."""
        _check_step(qs)
        half = 0.5 if qs is None else 0.5 * qs
        lower = self._logits_cumulative(inputs - half, stop_gradient=stop_gradient)
        upper = self._logits_cumulative(inputs + half, stop_gradient=stop_gradient)
        return torch.sigmoid(upper) - torch.sigmoid(lower), lower, upper

    def forward(  # type: ignore[override]
        self,
        x: Tensor,
        training: bool | None = None,
        qs: Step | None = None,
        ste: bool | None = False,
    ) -> tuple[Tensor, Tensor]:
        """Quantizes ``x`` with step ``qs`` around the medians and returns ``(x_hat,
        likelihoods)``, both shaped like ``x`` ``(N, C, *)``.

        Args:
            x: the latent.
            training: noise (True) or rounding (False); default: the module's mode.
            qs: the quantization step, a float or 0-d tensor; ``None`` is the plain
                bottleneck's ``forward``.
            ste: round with a straight-through gradient instead (only with ``qs``).
        """
        if qs is None:
            return super().forward(x, training)
        _check_step(qs)
        if x.dim() < 2 or x.size(1) != self.channels:
            raise ValueError(
                f"expected inputs of shape (N, {self.channels}, ...), got {tuple(x.shape)}"
            )
        if training is None:
            training = self.training
        perm = (1, 0, *range(2, x.dim()))
        x = x.permute(*perm).contiguous()
        shape = x.shape
        values = x.reshape(x.size(0), 1, -1)
        mode = "ste" if ste else ("noise" if training else "dequantize")
        outputs = self.quantize_variable(values, mode, self._get_medians(), qs)
        if self.step_bins:
            # The bins of width qs that update_variable() codes with.
            likelihood, _, _ = self._likelihood_variable(outputs, qs=qs)
        else:
            # CompressAI's forward passes qs in the place of stop_gradient: unit bins whatever
            # the step, and no gradient to the density. Kept by default, so that its
            # checkpoints, rates and training behave here as there.
            likelihood, _, _ = self._likelihood_variable(outputs, stop_gradient=True)
        if self.use_likelihood_bound:
            likelihood = self.likelihood_lower_bound(likelihood)
        outputs = outputs.reshape(shape).permute(*perm).contiguous()
        likelihood = likelihood.reshape(shape).permute(*perm).contiguous()
        return outputs, likelihood

    @torch.no_grad()
    def update_variable(self, force: bool = False, qs: Step | Tensor = 1.0) -> bool:
        """Builds the CDF tables of step ``qs``: one row per channel, covering the grid
        ``median + qs k`` between its ``quantiles``.

        Returns False (and does nothing) if tables exist and ``force`` is False.

        Args:
            force: rebuild existing tables.
            qs: the step, a positive float or a one-element tensor.
        """
        if isinstance(qs, Tensor) and qs.numel() == 1:
            _check_positive_step(qs.reshape(()))
        else:
            _check_positive_step(qs)
        if self._offset.numel() > 0 and not force:
            return False
        medians = self.quantiles[:, 0, 1]
        minima = torch.clamp(torch.ceil((medians - self.quantiles[:, 0, 0]) / qs).int(), min=0)
        maxima = torch.clamp(torch.ceil((self.quantiles[:, 0, 2] - medians) / qs).int(), min=0)
        pmf_start = medians - minima * qs
        pmf_length = maxima + minima + 1

        # CompressAI's float operations, so that the tables are bit-identical to its own.
        max_length = int(pmf_length.max().item())
        samples = torch.arange(max_length, device=pmf_start.device) * qs
        samples = samples[None, :] + pmf_start[:, None, None]
        pmf, lower, upper = self._likelihood_variable(samples, stop_gradient=True, qs=_scalar(qs))
        pmf = pmf[:, 0, :]
        tail_mass = torch.sigmoid(lower[:, 0, :1]) + torch.sigmoid(-upper[:, 0, -1:])

        self._offset = -minima
        self._quantized_cdf, self._cdf_length = self._quantized_cdfs(pmf, tail_mass, pmf_length)
        self._tables_updated()
        return True

    def compress(self, x: Tensor, qs: Step | None = None) -> list[bytes]:  # type: ignore[override]
        """Codes ``x`` ``(N, C, *)`` with step ``qs`` (tables of :meth:`update_variable` with
        the same step) into one byte string per batch element."""
        if qs is None:
            return super().compress(x)
        if x.dim() < 2 or x.size(1) != self.channels:
            raise ValueError(
                f"expected inputs of shape (N, {self.channels}, ...), got {tuple(x.shape)}"
            )
        indexes = self._build_indexes(x.shape)
        medians = self._medians_for(x.size(0), x.dim() - 2).to(x.device)
        return EntropyModelVbr.compress(self, x, indexes, medians, qs)

    def decompress(  # type: ignore[override]
        self, strings: Sequence[bytes], size: Sequence[int], qs: Step | None = None
    ) -> Tensor:
        """Decodes the strings of :meth:`compress`; ``size`` is the spatial shape of ``x``."""
        if qs is None:
            return super().decompress(strings, size)
        _check_positive_step(qs)
        self._check_tables()  # before the table's row count is read as the channel count
        if not isinstance(strings, list | tuple) or not strings:
            raise ValueError("`strings` must be a non-empty list of bytes, one per batch element")
        rows = self._quantized_cdf.size(0)
        size = check_latent_size(size, what="size", leading=(len(strings), rows), strings=strings)
        indexes = self._build_indexes(torch.Size((len(strings), rows, *size)))
        medians = self._medians_for(len(strings), len(size))
        return EntropyModelVbr.decompress(
            self, strings, indexes.to(medians.device), medians.dtype, medians, qs
        )


def _scalar(qs: Step | Tensor) -> Step:
    """A one-element tensor as a 0-d one (CompressAI's bins take ``qs`` as it comes)."""
    return qs.reshape(()) if isinstance(qs, Tensor) else qs
