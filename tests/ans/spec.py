"""A slow, literal Python transcription of the rANS stream format (compressai.md §4).

It is the oracle where CompressAI itself cannot be run (it overruns its buffer on 0- and
1-symbol streams and dies on one-entry pmfs): tinify's bytes must equal these bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

PRECISION = 16
RANS_L = 1 << 31
BYPASS_PRECISION = 4
MAX_BYPASS = (1 << BYPASS_PRECISION) - 1


def _steps(
    symbols: Sequence[int],
    indexes: Sequence[int],
    cdfs: Sequence[Sequence[int]],
    sizes: Sequence[int],
    offsets: Sequence[int],
) -> list[tuple[int, int, int]]:
    """The pushed entries in symbol order: (start, freq, scale_bits)."""
    steps = []
    for symbol, index in zip(symbols, indexes, strict=True):
        cdf = cdfs[index]
        max_value = sizes[index] - 2
        value = symbol - offsets[index]
        raw = 0
        if value < 0:
            raw = -2 * value - 1
            value = max_value
        elif value >= max_value:
            raw = 2 * (value - max_value)
            value = max_value
        steps.append((cdf[value], cdf[value + 1] - cdf[value], PRECISION))
        if value == max_value:
            n_nibbles = 0
            while raw >> (BYPASS_PRECISION * n_nibbles):
                n_nibbles += 1
            count = n_nibbles
            while count >= MAX_BYPASS:
                steps.append((MAX_BYPASS, 1, BYPASS_PRECISION))
                count -= MAX_BYPASS
            steps.append((count, 1, BYPASS_PRECISION))
            for j in range(n_nibbles):
                steps.append(((raw >> (BYPASS_PRECISION * j)) & MAX_BYPASS, 1, BYPASS_PRECISION))
    return steps


def encode(
    symbols: Sequence[int],
    indexes: Sequence[int],
    cdfs: Sequence[Sequence[int]],
    sizes: Sequence[int],
    offsets: Sequence[int],
) -> bytes:
    """Encodes like ``RansEncoder.encode_with_indexes``, following the specification."""
    x = RANS_L
    words: list[int] = []
    for start, freq, scale_bits in reversed(_steps(symbols, indexes, cdfs, sizes, offsets)):
        x_max = ((RANS_L >> scale_bits) << 32) * freq
        if x >= x_max:
            words.append(x & 0xFFFFFFFF)
            x >>= 32
        x = ((x // freq) << scale_bits) + (x % freq) + start
    out = [x & 0xFFFFFFFF, x >> 32, *reversed(words)]
    return struct.pack(f"<{len(out)}I", *out)


def compressai_survives(
    symbols: Sequence[int],
    indexes: Sequence[int],
    cdfs: Sequence[Sequence[int]],
    sizes: Sequence[int],
    offsets: Sequence[int],
) -> bool:
    """Whether CompressAI's encoder can code this without overrunning its buffer.

    It allocates one word per pushed step but writes every renormalisation word plus two state
    words, so it corrupts the heap whenever the stream has more words than steps: always for 0
    and 1 symbols, and for a few short streams of very improbable symbols. It counts an escaped
    value's nibbles with a 32-bit shift that never reaches zero for values of 2^28 and more
    (the shift count wraps), so it loops forever on values 2^27 away from their CDF.
    """
    if any(size < 3 for size in sizes):  # a one-entry pmf: CompressAI dies of SIGFPE
        return False
    for symbol, index in zip(symbols, indexes, strict=True):
        value = symbol - offsets[index]
        if value < -(2**27) or value - (sizes[index] - 2) >= 2**27:
            return False
    steps = len(_steps(symbols, indexes, cdfs, sizes, offsets))
    return len(encode(symbols, indexes, cdfs, sizes, offsets)) // 4 <= steps
