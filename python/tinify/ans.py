"""rANS entropy coding with CompressAI's API: encoders, decoders and CDF quantization.

The classes mirror ``compressai.ans`` (same methods, same argument order, byte-identical
streams) and add batch functions that code one stream per row of a 2-D array in parallel.
Arguments may be Python lists, numpy arrays or CPU torch tensors; they are converted to
contiguous ``int32`` arrays in one vectorised step and coded by :mod:`tinify._core` with the
GIL released.

This module is the CompressAI-compatible façade of the coder, nothing more: a CDF table given
as ``(cdfs, cdfs_sizes, offsets)`` is converted and validated on every call, as CompressAI's
coders do. Code that calls a coder many times with one table validates it once with
:func:`cdf_tables` and passes the :class:`CdfTables` in place of the three arguments; tinify's
entropy models keep theirs, built at ``update()``.

Example:
    >>> from tinify.ans import RansDecoder, RansEncoder, pmf_to_quantized_cdf
    >>> cdf = pmf_to_quantized_cdf([0.25, 0.5, 0.25, 1e-3], 16)
    >>> cdf
    [0, 16367, 49102, 65469, 65536]
    >>> data = RansEncoder().encode_with_indexes([0, 1, 2, 40], [0, 0, 0, 0], [cdf], [5], [0])
    >>> RansDecoder().decode_with_indexes(data, [0, 0, 0, 0], [cdf], [5], [0])
    [0, 1, 2, 40]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import torch

from tinify import _core

__all__ = [
    "BufferedRansEncoder",
    "CdfTables",
    "DecodeError",
    "RansDecoder",
    "RansEncoder",
    "cdf_tables",
    "decode_batch",
    "encode_batch",
    "pmf_to_quantized_cdf",
    "quantized_cdf_table",
    "scale_indexes",
]

#: Raised for a truncated or corrupt stream (a subclass of ``ValueError``). Its qualified name
#: is ``tinify.ans.DecodeError``, where it can be imported from.
DecodeError = _core.DecodeError

#: A validated CDF table (see :func:`cdf_tables`): pass it as ``cdfs``, without
#: ``cdfs_sizes`` and ``offsets``, to any coder of this module.
CdfTables = _core.CdfTables

IntArrayLike: TypeAlias = Sequence[int] | np.ndarray | torch.Tensor
CdfTableLike: TypeAlias = Sequence[Sequence[int]] | np.ndarray | torch.Tensor

_INT32 = np.iinfo(np.int32)


def _to_numpy(name: str, values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    if isinstance(values, np.ndarray):
        return values
    try:
        array = np.asarray(values)
    except (ValueError, OverflowError) as err:
        raise ValueError(f"`{name}` cannot be read as an array of integers: {err}") from None
    if array.size == 0:
        return array.astype(np.int32)
    return array


def as_int32(name: str, values: Any, ndim: int = 1) -> np.ndarray:
    """Returns ``values`` as a C-contiguous int32 array of ``ndim`` dimensions, without copying
    when it already is one. Raises ``TypeError`` for non-integers and ``ValueError`` for values
    outside the int32 range or a wrong number of dimensions."""
    array = _to_numpy(name, values)
    if array.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must hold integers, got dtype {array.dtype}")
    if array.ndim != ndim:
        raise ValueError(f"`{name}` must be {ndim}-D, got shape {tuple(array.shape)}")
    if array.dtype != np.int32 and array.size:
        low, high = array.min(), array.max()
        if low < _INT32.min or high > _INT32.max:
            raise ValueError(f"`{name}` holds values outside the int32 range ({low}..{high})")
    return np.ascontiguousarray(array, dtype=np.int32)


def as_cdf_table(cdfs: CdfTableLike) -> np.ndarray:
    """Returns the CDF rows as a 2-D int32 array, zero-padding rows of unequal length."""
    if isinstance(cdfs, np.ndarray | torch.Tensor):
        return as_int32("cdfs", cdfs, ndim=2)
    rows = [as_int32(f"cdfs[{i}]", row) for i, row in enumerate(cdfs)]
    width = max((len(row) for row in rows), default=0)
    table = np.zeros((len(rows), width), dtype=np.int32)
    for i, row in enumerate(rows):
        table[i, : len(row)] = row
    return table


def cdf_tables(
    cdfs: CdfTableLike | CdfTables,
    cdfs_sizes: IntArrayLike | None = None,
    offsets: IntArrayLike | None = None,
) -> CdfTables:
    """Validates a CDF table once, for any number of coder calls.

    Args:
        cdfs: the CDF rows (lists, a 2-D array or tensor; rows of unequal length are
            zero-padded), or a :class:`CdfTables`, returned as it is.
        cdfs_sizes: the number of valid entries of each row.
        offsets: the value of each row's first symbol.

    Returns:
        A :class:`CdfTables` that every coder here accepts as ``cdfs``, with no
        ``cdfs_sizes`` and ``offsets``.

    Raises:
        ValueError: if a row is not a strictly increasing CDF from 0 to 65536 of its size, or
            the lengths disagree.
        TypeError: for arguments that do not hold integers.
    """
    if isinstance(cdfs, CdfTables):
        if cdfs_sizes is not None or offsets is not None:
            raise ValueError(
                "`cdfs` is a CdfTables, which holds its sizes and offsets: "
                "pass no `cdfs_sizes` or `offsets`"
            )
        return cdfs
    if cdfs_sizes is None or offsets is None:
        raise ValueError("a `cdfs` table needs `cdfs_sizes` and `offsets` (or pass a CdfTables)")
    return _core.CdfTables(
        as_cdf_table(cdfs), as_int32("cdfs_sizes", cdfs_sizes), as_int32("offsets", offsets)
    )


def _like(values: np.ndarray, template: Any) -> Any:
    """Returns decoded values in the container kind of ``template`` (the caller's indexes)."""
    if isinstance(template, torch.Tensor):
        return torch.from_numpy(values)
    if isinstance(template, np.ndarray):
        return values
    return values.tolist()


def pmf_to_quantized_cdf(
    pmf: Sequence[float] | np.ndarray | torch.Tensor, precision: int = 16
) -> list[int]:
    """Quantizes a pmf into a CDF of ``len(pmf) + 1`` integers from 0 to ``2**precision``.

    Identical to CompressAI's ``pmf_to_quantized_cdf`` for the same float32 probabilities.
    Every symbol keeps a frequency of at least 1.

    Args:
        pmf: non-negative, finite probabilities (converted to float32).
        precision: bits of the CDF total, in ``[1, 16]``.
    """
    array = _floats("pmf", pmf)
    if array.ndim != 1:
        raise ValueError(f"`pmf` must be 1-D, got shape {array.shape}")
    return _core.pmf_to_quantized_cdf(array, int(precision))


def quantized_cdf_table(
    pmfs: np.ndarray | torch.Tensor,
    lengths: IntArrayLike,
    tail_masses: np.ndarray | torch.Tensor,
    precision: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Builds a table of CDF rows in one call, in CompressAI's entropy-model layout.

    Row ``r`` quantizes the pmf ``pmfs[r, :lengths[r]]`` followed by ``tail_masses[r]``, the
    mass of the escape symbol, so it has ``lengths[r] + 2`` entries; rows are zero-padded to
    ``max(lengths) + 2``. ``pmfs`` may also be 1-D: the rows' values concatenated.

    Returns:
        ``(cdfs, cdf_lengths)``: an int32 array of shape ``(rows, max(lengths) + 2)`` and the
        int32 row lengths ``lengths + 2``.
    """
    lengths = as_int32("lengths", lengths)
    pmfs = _floats("pmfs", pmfs)
    if pmfs.ndim == 2:
        if pmfs.shape[0] != len(lengths) or (lengths.size and lengths.max() > pmfs.shape[1]):
            raise ValueError(
                f"`pmfs` of shape {pmfs.shape} cannot hold rows of lengths up to {lengths.max()}"
            )
        pmfs = pmfs[np.arange(pmfs.shape[1])[None, :] < lengths[:, None]]
    elif pmfs.ndim != 1:
        raise ValueError(
            f"`pmfs` must be 2-D (padded rows) or 1-D (concatenated rows), got shape {pmfs.shape}"
        )
    tail_masses = _floats("tail_masses", tail_masses)
    if tail_masses.ndim != 1:
        raise ValueError(f"`tail_masses` must be 1-D, got shape {tail_masses.shape}")
    return _core.quantized_cdf_table(pmfs, lengths, tail_masses, int(precision))


def _floats(name: str, values: Any) -> np.ndarray:
    array = (
        values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    )
    if array.dtype.kind not in "fiu":
        raise TypeError(f"`{name}` must hold numbers, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float32)


def scale_indexes(
    scales: np.ndarray | torch.Tensor, scale_table: np.ndarray | torch.Tensor, scale_bound: float
) -> np.ndarray:
    """The CDF row of each scale for a table of Gaussian scales (``GaussianConditional``):
    the first ``scale_table`` entry at least ``max(scale, scale_bound)``, the last row for
    larger scales and NaN. Returns int32 of ``scales``' shape.

    float32 and float64 scales are compared exactly, as CompressAI does; other float dtypes
    are converted to float32 first.
    """
    if isinstance(scales, torch.Tensor):
        if not scales.is_floating_point():
            raise TypeError(f"`scales` must hold floats, got dtype {scales.dtype}")
        if scales.dtype not in (torch.float32, torch.float64):
            scales = scales.float()  # numpy has no bfloat16
        scales = scales.detach().cpu().numpy()
    array = np.asarray(scales)
    if array.dtype.kind != "f":
        raise TypeError(f"`scales` must hold floats, got dtype {array.dtype}")
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float32)
    flat = np.ascontiguousarray(array.reshape(-1))
    table = _floats("scale_table", scale_table)
    if table.ndim != 1:
        raise ValueError(f"`scale_table` must be 1-D, got shape {table.shape}")
    return _core.scale_indexes(flat, table, float(scale_bound)).reshape(array.shape)


class RansEncoder:
    """Encodes symbols into one rANS stream per call (CompressAI's ``RansEncoder``)."""

    def encode_with_indexes(
        self,
        symbols: IntArrayLike,
        indexes: IntArrayLike,
        cdfs: CdfTableLike | CdfTables,
        cdfs_sizes: IntArrayLike | None = None,
        offsets: IntArrayLike | None = None,
    ) -> bytes:
        """Codes ``symbols[i]`` with CDF row ``indexes[i]``, shifted by ``offsets[row]``.

        Values outside a row's range are escape-coded, so any int32 value that is not
        absurdly far from its row (more than 2**31 away) can be coded. ``cdfs`` may be a
        :class:`CdfTables`, given without ``cdfs_sizes`` and ``offsets``.
        """
        return _core.encode_with_indexes(
            as_int32("symbols", symbols),
            as_int32("indexes", indexes),
            cdf_tables(cdfs, cdfs_sizes, offsets),
        )


class BufferedRansEncoder:
    """Collects symbols over several calls; ``flush()`` codes them all into one stream.

    Several ``encode_with_indexes`` calls followed by ``flush()`` give the bytes one call with
    the concatenated arguments would give. The tables may differ from call to call.
    """

    def __init__(self) -> None:
        self._inner = _core.BufferedRansEncoder()

    def encode_with_indexes(
        self,
        symbols: IntArrayLike,
        indexes: IntArrayLike,
        cdfs: CdfTableLike | CdfTables,
        cdfs_sizes: IntArrayLike | None = None,
        offsets: IntArrayLike | None = None,
    ) -> None:
        """Appends symbols to the buffer; nothing is appended if an argument is invalid."""
        self._inner.encode_with_indexes(
            as_int32("symbols", symbols),
            as_int32("indexes", indexes),
            cdf_tables(cdfs, cdfs_sizes, offsets),
        )

    def flush(self) -> bytes:
        """Codes everything appended so far into one stream and empties the buffer."""
        return self._inner.flush()


class RansDecoder:
    """Decodes rANS streams (CompressAI's ``RansDecoder``).

    Decoded values come back as a list when ``indexes`` is a list, and otherwise as an int32
    numpy array or CPU torch tensor, like ``indexes``. A decoder asked for more symbols than
    the rest of its stream can hold raises :class:`DecodeError` before decoding any.
    """

    def __init__(self) -> None:
        self._inner = _core.RansDecoder()

    def decode_with_indexes(
        self,
        encoded: bytes,
        indexes: IntArrayLike,
        cdfs: CdfTableLike | CdfTables,
        cdfs_sizes: IntArrayLike | None = None,
        offsets: IntArrayLike | None = None,
    ) -> Any:
        """Decodes a whole stream. Raises :class:`DecodeError` if the stream is truncated,
        corrupt, or not consumed exactly by ``indexes`` (for instance decoded with other tables).
        """
        values = _core.decode_with_indexes(
            bytes(encoded),
            as_int32("indexes", indexes),
            cdf_tables(cdfs, cdfs_sizes, offsets),
        )
        return _like(values, indexes)

    def set_stream(self, encoded: bytes) -> None:
        """Starts decoding ``encoded`` with successive :meth:`decode_stream` calls."""
        self._inner.set_stream(bytes(encoded))

    def decode_stream(
        self,
        indexes: IntArrayLike,
        cdfs: CdfTableLike | CdfTables,
        cdfs_sizes: IntArrayLike | None = None,
        offsets: IntArrayLike | None = None,
    ) -> Any:
        """Decodes the next ``len(indexes)`` symbols of the stream set by :meth:`set_stream`.

        Pass a :class:`CdfTables` (:func:`cdf_tables`) when calling once per latent position:
        three table arguments are converted and validated on every call.
        """
        values = self._inner.decode_stream(
            as_int32("indexes", indexes), cdf_tables(cdfs, cdfs_sizes, offsets)
        )
        return _like(values, indexes)

    def finish(self) -> None:
        """Raises :class:`DecodeError` unless the stream was decoded exactly to its end
        (tinify's addition: CompressAI cannot tell)."""
        self._inner.finish()


def encode_batch(
    symbols: IntArrayLike,
    indexes: IntArrayLike,
    cdfs: CdfTableLike | CdfTables,
    cdfs_sizes: IntArrayLike | None = None,
    offsets: IntArrayLike | None = None,
) -> list[bytes]:
    """Encodes each row of the 2-D ``symbols`` (with the same row of ``indexes``) into its own
    stream, rows in parallel. Row ``n`` gives the bytes ``RansEncoder`` gives for it alone."""
    return _core.encode_batch(
        as_int32("symbols", symbols, ndim=2),
        as_int32("indexes", indexes, ndim=2),
        cdf_tables(cdfs, cdfs_sizes, offsets),
    )


def decode_batch(
    strings: Sequence[bytes],
    indexes: IntArrayLike,
    cdfs: CdfTableLike | CdfTables,
    cdfs_sizes: IntArrayLike | None = None,
    offsets: IntArrayLike | None = None,
) -> np.ndarray:
    """Decodes ``strings[n]`` with row ``n`` of the 2-D ``indexes``, streams in parallel.

    Returns an int32 array shaped like ``indexes``.
    """
    return _core.decode_batch(
        [bytes(s) for s in strings],
        as_int32("indexes", indexes, ndim=2),
        cdf_tables(cdfs, cdfs_sizes, offsets),
    )
