"""EntropyModel: quantization, CDF-table buffers and batch coding shared by the entropy models."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tinify import ans
from tinify.ans import CdfTables
from tinify.limits import max_elements
from tinify.ops import LowerBound

__all__ = ["QUANTIZE_MODES", "EntropyModel", "SymbolsRecord", "record_symbols"]

#: The quantization modes of :meth:`EntropyModel.quantize`.
QUANTIZE_MODES = ("noise", "dequantize", "symbols")

#: Entropy coders an entropy model can be asked for. CompressAI's other coder ("rangecoder")
#: is an optional external package with another bitstream; tinify codes rANS only.
ENTROPY_CODERS = ("ans",)

#: The buffers the CDF tables are stored in (CompressAI's names).
_TABLE_BUFFERS = ("_quantized_cdf", "_cdf_length", "_offset")
#: Instance attributes holding state prepared from the buffers (never saved or copied).
_PREPARED_STATE = ("_prepared_tables", "_prepared_scales")


class SymbolsRecord:
    """The integer symbols every entropy model coded or decoded while recording
    (:func:`record_symbols`), hashed as they pass: SHA-256 over each tensor's values as
    little-endian int32, in C order, tensors in coding order."""

    def __init__(self, side: str, parent: SymbolsRecord | None = None) -> None:
        self.side = side
        self.parent = parent
        self._hash = hashlib.sha256()
        self.count = 0

    def add(self, symbols: Any) -> None:
        array = symbols.detach().cpu().numpy() if isinstance(symbols, Tensor) else symbols
        self._hash.update(np.ascontiguousarray(array, dtype="<i4").tobytes())
        self.count += int(array.size)
        if self.parent is not None:
            self.parent.add(array)

    def sha256(self) -> str:
        """The SHA-256 of the symbols recorded so far, as 64 hex digits."""
        return self._hash.hexdigest()

    def checksum(self) -> str:
        """The first 8 bytes of the SHA-256, as 16 hex digits (a ``.tfy`` file's)."""
        return self.sha256()[:16]


_RECORD: contextvars.ContextVar[SymbolsRecord | None] = contextvars.ContextVar(
    "tinify_symbols_record", default=None
)


@contextlib.contextmanager
def record_symbols(side: str) -> Iterator[SymbolsRecord]:
    """Records, in this context, the symbols :meth:`EntropyModel.compress` codes
    (``side="compress"``) or those :meth:`EntropyModel.decompress` decodes
    (``side="decompress"``): what a ``.tfy`` file's symbols checksum covers. One side only,
    because an encoder also decodes (a hyper codec decodes ``z`` to compute ``h_s(z_hat)``).
    Records nest: an enclosing record of the same side sees the symbols too."""
    if side not in ("compress", "decompress"):
        raise ValueError(f"side must be 'compress' or 'decompress', got {side!r}")
    outer = _RECORD.get()
    record = SymbolsRecord(side, outer if outer is not None and outer.side == side else None)
    token = _RECORD.set(record)
    try:
        yield record
    finally:
        _RECORD.reset(token)


class EntropyModel(nn.Module):
    """Base class of entropy models: a probability model of quantized latents, and its coder.

    It owns the quantized CDF tables (the buffers ``_quantized_cdf``, ``_cdf_length`` and
    ``_offset``, filled by the subclass's ``update()``) and codes a batch of tensors with them,
    one byte string per batch element, through :mod:`tinify.ans`. The tables use CompressAI's
    layout, so the buffers of a CompressAI checkpoint load unchanged and code the same bytes.

    The coder's validated form of the tables (a :class:`tinify.ans.CdfTables`) is built once,
    by ``update()`` or at the first coding call after a ``load_state_dict``, and kept on the
    module: assigning one of the three buffers or loading a state_dict drops it.

    Args:
        likelihood_bound: lower bound applied to likelihoods in ``forward`` (0 disables it),
            which keeps ``log(likelihood)`` finite in the rate loss.
        entropy_coder: ``"ans"`` or ``None`` (the default, also ``"ans"``).
        entropy_coder_precision: bits of precision of the CDF tables. The rANS coder works
            at 16 bits; other values only serve to inspect tables.
    """

    _offset: Tensor
    _quantized_cdf: Tensor
    _cdf_length: Tensor

    #: Attributes whose assignment invalidates the prepared coding state (subclasses add the
    #: buffers their own prepared state is built from).
    _PREPARED_FROM: tuple[str, ...] = _TABLE_BUFFERS

    def __init__(
        self,
        likelihood_bound: float = 1e-9,
        entropy_coder: str | None = None,
        entropy_coder_precision: int = 16,
    ) -> None:
        super().__init__()
        entropy_coder = entropy_coder or "ans"
        if entropy_coder not in ENTROPY_CODERS:
            raise ValueError(
                f"unknown entropy coder {entropy_coder!r}: tinify codes with {ENTROPY_CODERS}"
            )
        if not 1 <= int(entropy_coder_precision) <= 16:
            raise ValueError(
                f"`entropy_coder_precision` must be in [1, 16], got {entropy_coder_precision}"
            )
        self.entropy_coder = entropy_coder
        self.entropy_coder_precision = int(entropy_coder_precision)
        self.use_likelihood_bound = likelihood_bound > 0
        if self.use_likelihood_bound:
            self.likelihood_lower_bound = LowerBound(likelihood_bound)
        self.register_buffer("_offset", torch.IntTensor())
        self.register_buffer("_quantized_cdf", torch.IntTensor())
        self.register_buffer("_cdf_length", torch.IntTensor())

    @property
    def offset(self) -> Tensor:
        """Per CDF row, the value coded by its first symbol."""
        return self._offset

    @property
    def quantized_cdf(self) -> Tensor:
        """The CDF rows, ``(rows, max_length)`` int32, zero-padded."""
        return self._quantized_cdf

    @property
    def cdf_length(self) -> Tensor:
        """Per CDF row, its number of valid entries."""
        return self._cdf_length

    def forward(self, *args: object) -> object:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def quantize(self, inputs: Tensor, mode: str, means: Tensor | None = None) -> Tensor:
        """Quantizes ``inputs`` around ``means``.

        Args:
            inputs: the values.
            mode: ``"noise"`` adds uniform noise in [-0.5, 0.5) (the training proxy; ``means``
                is ignored), ``"dequantize"`` rounds ``inputs - means`` and adds ``means`` back,
                ``"symbols"`` returns the rounded ``inputs - means`` as int32. Rounding is half
                to even, as ``torch.round``.
            means: optional centers, broadcastable to ``inputs``.
        """
        if mode not in QUANTIZE_MODES:
            raise ValueError(
                f"invalid quantization mode {mode!r}, expected one of {QUANTIZE_MODES}"
            )
        if mode == "noise":
            return inputs + torch.empty_like(inputs).uniform_(-0.5, 0.5)
        outputs = inputs - means if means is not None else inputs
        outputs = torch.round(outputs)
        if mode == "dequantize":
            return outputs + means if means is not None else outputs
        return outputs.int()

    @staticmethod
    def dequantize(
        inputs: Tensor, means: Tensor | None = None, dtype: torch.dtype = torch.float
    ) -> Tensor:
        """Turns integer symbols back into values: ``inputs + means``, or a cast to ``dtype``."""
        if means is not None:
            return inputs.type_as(means) + means
        return inputs.type(dtype)

    def _quantize(self, inputs: Tensor, mode: str, means: Tensor | None = None) -> Tensor:
        """CompressAI's deprecated name of :meth:`quantize`: warns (a UserWarning, as
        CompressAI's does) and quantizes."""
        warnings.warn("_quantize is deprecated, use quantize", stacklevel=2)
        return self.quantize(inputs, mode, means)

    @classmethod
    def _dequantize(cls, inputs: Tensor, means: Tensor | None = None) -> Tensor:
        """CompressAI's deprecated name of :meth:`dequantize`: warns and dequantizes."""
        warnings.warn("_dequantize is deprecated, use dequantize", stacklevel=2)
        return cls.dequantize(inputs, means)

    def _check_tables(self) -> None:
        for name, buffer, ndim in (
            ("quantized_cdf", self._quantized_cdf, 2),
            ("cdf_length", self._cdf_length, 1),
            ("offset", self._offset, 1),
        ):
            if buffer.numel() == 0:
                raise ValueError(
                    f"{type(self).__name__} has no CDF tables yet: call update() first"
                )
            if buffer.dim() != ndim:
                raise ValueError(
                    f"invalid `{name}` buffer of shape {tuple(buffer.shape)}, expected {ndim}-D"
                )
        if self.entropy_coder_precision != 16:
            raise ValueError(
                f"the rANS coder works at 16-bit precision; this model's tables have "
                f"{self.entropy_coder_precision} bits"
            )

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._PREPARED_FROM:
            self._drop_prepared()
        super().__setattr__(name, value)

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        # Loading copies into the buffers in place: the prepared state no longer describes them.
        self._drop_prepared()
        super()._load_from_state_dict(*args, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        # Copies and pickles carry the buffers; the prepared state is rebuilt from them.
        state = dict(super().__getstate__())
        for key in _PREPARED_STATE:
            state.pop(key, None)
        return state

    def _drop_prepared(self) -> None:
        """Forgets the state prepared from the tables; the next coding call rebuilds it."""
        for key in _PREPARED_STATE:
            self.__dict__.pop(key, None)

    def _prepare_tables(self) -> CdfTables:
        """Validates the CDF buffers into the coder's :class:`~tinify.ans.CdfTables` and keeps
        it (called by ``update()``; after a ``load_state_dict``, by the first coding call)."""
        self._check_tables()
        tables = ans.cdf_tables(self._quantized_cdf, self._cdf_length, self._offset)
        self.__dict__["_prepared_tables"] = tables
        return tables

    def coding_tables(self) -> CdfTables:
        """The CDF tables in the coder's validated form, built once and kept until the
        buffers change."""
        tables = self.__dict__.get("_prepared_tables")
        return tables if tables is not None else self._prepare_tables()

    def _tables(self) -> tuple[CdfTables]:
        """``(coding_tables(),)``: what the coders of :mod:`tinify.ans` take in place of
        ``(cdfs, cdfs_sizes, offsets)``."""
        return (self.coding_tables(),)

    def compress(self, inputs: Tensor, indexes: Tensor, means: Tensor | None = None) -> list[bytes]:
        """Codes each batch element of ``inputs`` into one byte string.

        Element ``inputs[n]`` is quantized around ``means`` and each value is coded with the
        CDF row ``indexes`` gives; batch elements are coded in parallel.

        Args:
            inputs: ``(N, C, *)`` values, at least 2-D.
            indexes: int tensor (or int32 numpy array) of ``inputs``' shape: the CDF row of
                each value.
            means: optional centers, broadcastable to ``inputs``.
        """
        if inputs.dim() < 2:
            raise ValueError(
                f"`inputs` must be at least 2-D (N, C, ...), got shape {tuple(inputs.shape)}"
            )
        if tuple(inputs.shape) != tuple(indexes.shape):
            raise ValueError(
                f"`inputs` and `indexes` must have the same shape, got {tuple(inputs.shape)} and "
                f"{tuple(indexes.shape)}"
            )
        tables = self.coding_tables()
        symbols = self.quantize(
            inputs.detach(), "symbols", None if means is None else means.detach()
        )
        n = inputs.size(0)
        record = _RECORD.get()
        if record is not None and record.side == "compress":
            record.add(symbols)
        return ans.encode_batch(symbols.reshape(n, -1), indexes.reshape(n, -1), tables)

    def decompress(
        self,
        strings: Sequence[bytes],
        indexes: Tensor,
        dtype: torch.dtype = torch.float,
        means: Tensor | None = None,
    ) -> Tensor:
        """Decodes the byte strings of :meth:`compress`, batch elements in parallel.

        Args:
            strings: one byte string per batch element.
            indexes: ``(N, C, *)`` int tensor of CDF rows, the shape of the output.
            dtype: dtype of the output when ``means`` is not given.
            means: optional centers: ``(N, C)`` like ``indexes``, and 1 or equal to
                ``indexes`` in every other dimension.
        """
        if not isinstance(strings, list | tuple):
            raise ValueError(f"`strings` must be a list of bytes, got {type(strings).__name__}")
        if indexes.dim() < 2:
            raise ValueError(
                f"`indexes` must be at least 2-D (N, C, ...), got shape {tuple(indexes.shape)}"
            )
        if len(strings) != indexes.size(0):
            raise ValueError(
                f"{len(strings)} strings for a batch of {indexes.size(0)} in `indexes`"
            )
        if indexes.numel() > max_elements(strings):
            raise ValueError(
                f"`indexes` of shape {tuple(indexes.shape)} describe {indexes.numel()} values, "
                f"more than the {max_elements(strings)} allowed for the bytes of `strings`"
            )
        if means is not None and not _fits(means.shape, indexes.shape):
            raise ValueError(
                f"`means` of shape {tuple(means.shape)} does not fit `indexes` of shape "
                f"{tuple(indexes.shape)}"
            )
        tables = self.coding_tables()
        n = indexes.size(0)
        values = ans.decode_batch(strings, indexes.reshape(n, -1), tables)
        record = _RECORD.get()
        if record is not None and record.side == "decompress":
            record.add(values)
        device = means.device if means is not None else indexes.device
        outputs = torch.from_numpy(values).reshape(indexes.shape).to(device)
        return self.dequantize(outputs, means, dtype)

    def _quantized_cdfs(
        self, pmf: Tensor, tail_mass: Tensor, pmf_length: Tensor
    ) -> tuple[Tensor, Tensor]:
        """All CDF rows in one call: row ``i`` quantizes its ``pmf_length[i]`` pmf values (the
        padded row ``pmf[i]``, or the next values of a 1-D ``pmf``) and ``tail_mass[i]``."""
        cdfs, lengths = ans.quantized_cdf_table(
            pmf.detach(), pmf_length, tail_mass.detach().reshape(-1), self.entropy_coder_precision
        )
        device = pmf.device
        return torch.from_numpy(cdfs).to(device), torch.from_numpy(lengths).to(device)

    def _tables_updated(self) -> None:
        """Called by ``update()`` once the buffers hold new tables: prepares them for coding."""
        self._prepare_tables()


def _fits(means: torch.Size, indexes: torch.Size) -> bool:
    """Means match the indexes in (N, C) and are 1 or equal in every other dimension."""
    return (
        len(means) == len(indexes)
        and means[:2] == indexes[:2]
        and all(m in (1, i) for m, i in zip(means[2:], indexes[2:], strict=True))
    )
