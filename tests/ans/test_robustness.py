"""Malformed input never crashes the interpreter: it raises ValueError (DecodeError for bad
streams) or, for a stream that happens to be valid, decodes to something."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinify import ans

CDF = ans.pmf_to_quantized_cdf([0.1, 0.2, 0.4, 0.2, 0.1, 1e-3])
TABLE = ([CDF, [0, 65536]], [len(CDF), 2], [-2, 0])


def _valid_stream(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    indexes = rng.integers(0, 2, n).astype(np.int32)
    symbols = rng.integers(-5, 8, n).astype(np.int32)
    return ans.RansEncoder().encode_with_indexes(symbols, indexes, *TABLE), indexes, symbols


def test_every_truncation_of_a_stream_raises_decode_error():
    data, indexes, _ = _valid_stream()
    for cut in range(len(data)):
        with pytest.raises(ans.DecodeError):
            ans.RansDecoder().decode_with_indexes(data[:cut], indexes, *TABLE)


def test_trailing_bytes_raise_decode_error():
    data, indexes, _ = _valid_stream()
    for extra in (b"\0\0\0\0", b"\1", b"abcdefgh"):
        with pytest.raises(ans.DecodeError):
            ans.RansDecoder().decode_with_indexes(data + extra, indexes, *TABLE)


@given(st.binary(max_size=200), st.integers(0, 300), st.integers(0, 2**32 - 1))
@settings(max_examples=3000)
def test_random_bytes_raise_value_error_or_decode(data, n, seed):
    indexes = np.random.default_rng(seed).integers(0, 2, n).astype(np.int32)
    try:
        values = ans.RansDecoder().decode_with_indexes(data, indexes, *TABLE)
    except ValueError:
        return
    assert values.shape == (n,)


@given(st.integers(0, 2**32 - 1), st.integers(1, 8))
@settings(max_examples=300)
def test_flipped_bits_raise_or_decode_without_crashing(seed, flips):
    data, indexes, symbols = _valid_stream(300, seed)
    rng = np.random.default_rng(seed)
    damaged = bytearray(data)
    for at in rng.integers(0, len(damaged), flips):
        damaged[at] ^= 1 << int(rng.integers(0, 8))
    try:
        values = ans.RansDecoder().decode_with_indexes(bytes(damaged), indexes, *TABLE)
    except ans.DecodeError:
        return
    assert values.shape == symbols.shape


@given(st.binary(max_size=100), st.lists(st.integers(0, 40), max_size=6))
@settings(max_examples=500)
def test_stream_decoding_of_random_bytes_raises_or_decodes(data, chunks):
    decoder = ans.RansDecoder()
    decoded = []
    try:
        decoder.set_stream(data)
        for n in chunks:
            decoded.append(decoder.decode_stream(np.zeros(n, dtype=np.int32), *TABLE))
        decoder.finish()
    except ValueError:
        return
    # Accepted: every chunk came back whole and the stream re-encodes to the same bytes.
    assert [len(values) for values in decoded] == chunks
    symbols = np.concatenate([np.zeros(0, np.int32), *decoded]).astype(np.int32)
    indexes = np.zeros(len(symbols), dtype=np.int32)
    assert ans.RansEncoder().encode_with_indexes(symbols, indexes, *TABLE) == data


def _damaged(table: list[int], draw_index: int, value: int) -> list[int]:
    out = list(table)
    out[draw_index % len(out)] = value
    return out


@given(
    st.lists(st.integers(-(2**31), 2**31 - 1), min_size=0, max_size=8),
    st.integers(0, 2**16),
    st.integers(-(2**31), 2**31 - 1),
    st.booleans(),
)
@settings(max_examples=1000)
def test_tables_raise_value_error_or_round_trip(symbols, position, value, damage):
    """A valid table (TABLE) round-trips any symbols, escapes included; the same table with one
    entry overwritten by an arbitrary value raises ValueError or still round-trips. Both
    branches are reached (the valid table always round-trips)."""
    cdfs = [list(TABLE[0][0]), list(TABLE[0][1])]
    if damage:
        cdfs[0] = _damaged(cdfs[0], position, value)
    indexes = [i % 2 for i in range(len(symbols))]
    symbols = [max(min(s, 2**30), -(2**30)) for s in symbols]  # escapes code up to 2^31 - 1
    try:
        data = ans.RansEncoder().encode_with_indexes(symbols, indexes, cdfs, *TABLE[1:])
    except ValueError:
        assert damage, "a valid table was refused"
        return
    assert ans.RansDecoder().decode_with_indexes(data, indexes, cdfs, *TABLE[1:]) == symbols


@given(
    st.lists(
        st.lists(st.integers(-(2**31), 2**31 - 1), min_size=0, max_size=6), min_size=1, max_size=3
    ),
    st.lists(st.integers(-(2**31), 2**31 - 1), min_size=0, max_size=4),
    st.lists(st.integers(-(2**31), 2**31 - 1), min_size=0, max_size=4),
    st.lists(st.integers(-(2**31), 2**31 - 1), min_size=0, max_size=8),
)
@settings(max_examples=300)
def test_arbitrary_table_arguments_raise_value_error(cdfs, sizes, offsets, symbols):
    """Arbitrary integers are (almost) never a valid table: the coder refuses them cleanly."""
    indexes = [i % 3 for i in range(len(symbols))]
    try:
        data = ans.RansEncoder().encode_with_indexes(symbols, indexes, cdfs, sizes, offsets)
    except ValueError:
        return
    assert ans.RansDecoder().decode_with_indexes(data, indexes, cdfs, sizes, offsets) == symbols
