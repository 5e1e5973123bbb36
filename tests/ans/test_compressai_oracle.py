"""tinify.ans against compressai.ans, the coder it promises to be byte-compatible with.

CompressAI overruns its buffer on 0- and 1-symbol streams and dies on one-entry pmfs, so those
cases are checked against the specification (tests/ans/spec.py) instead of being run there.
"""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.ans import spec
from tests.ans.strategies import pmfs, symbols_for, tables
from tinify import ans

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import compressai.ans as cai_ans
    from compressai._CXX import pmf_to_quantized_cdf as cai_pmf_to_quantized_cdf


@given(pmfs(min_size=1, max_size=400))
@settings(max_examples=300)
def test_pmf_to_quantized_cdf_equals_compressai(pmf):
    pmf32 = np.asarray(pmf, dtype=np.float32).tolist()
    assert ans.pmf_to_quantized_cdf(pmf32, 16) == cai_pmf_to_quantized_cdf(pmf32, 16)


@given(pmfs(min_size=1, max_size=100), st.integers(8, 16))
@settings(max_examples=100)
def test_pmf_to_quantized_cdf_equals_compressai_at_lower_precision(pmf, precision):
    pmf32 = np.asarray(pmf, dtype=np.float32).tolist()
    assume(len(pmf32) <= 2**precision and any(round(p * 2**precision) for p in pmf32))
    assert ans.pmf_to_quantized_cdf(pmf32, precision) == cai_pmf_to_quantized_cdf(pmf32, precision)


# CompressAI loops forever on escapes 2^27 away from their CDF (see spec.compressai_survives).
COMPRESSAI_FAR = 2**27 - 1000


@st.composite
def coding_cases(draw, min_size=2, max_size=5000, allow_single_entry=False, far=COMPRESSAI_FAR):
    table = draw(tables(allow_single_entry=allow_single_entry))
    symbols, indexes = draw(symbols_for(table, min_size, max_size, far))
    return table, symbols, indexes


@given(coding_cases())
@settings(max_examples=150)
def test_bytes_equal_compressai_and_both_decoders_agree(case):
    table, symbols, indexes = case
    args = (table.cdfs, table.sizes, table.offsets)
    assume(spec.compressai_survives(symbols, indexes, *args))
    ours = ans.RansEncoder().encode_with_indexes(symbols, indexes, *args)
    theirs = cai_ans.RansEncoder().encode_with_indexes(symbols, indexes, *args)
    assert ours == theirs
    assert ans.RansDecoder().decode_with_indexes(ours, indexes, *args) == symbols
    assert cai_ans.RansDecoder().decode_with_indexes(ours, indexes, *args) == symbols


@given(coding_cases(max_size=600))
@settings(max_examples=60)
def test_buffered_encoder_equals_compressai_over_several_calls(case):
    table, symbols, indexes = case
    args = (table.cdfs, table.sizes, table.offsets)
    assume(spec.compressai_survives(symbols, indexes, *args))
    ours, theirs = ans.BufferedRansEncoder(), cai_ans.BufferedRansEncoder()
    cuts = sorted({0, len(symbols) // 3, len(symbols) // 2, len(symbols)})
    for lo, hi in itertools.pairwise(cuts):
        ours.encode_with_indexes(symbols[lo:hi], indexes[lo:hi], *args)
        theirs.encode_with_indexes(symbols[lo:hi], indexes[lo:hi], *args)
    assert ours.flush() == theirs.flush()


@given(coding_cases(max_size=600))
@settings(max_examples=60)
def test_stream_decoding_in_chunks_equals_compressai(case):
    table, symbols, indexes = case
    args = (table.cdfs, table.sizes, table.offsets)
    assume(spec.compressai_survives(symbols, indexes, *args))
    data = cai_ans.RansEncoder().encode_with_indexes(symbols, indexes, *args)
    decoder = ans.RansDecoder()
    decoder.set_stream(data)
    cut = len(symbols) // 2
    decoded = decoder.decode_stream(indexes[:cut], *args) + decoder.decode_stream(
        indexes[cut:], *args
    )
    decoder.finish()
    assert decoded == symbols


@given(coding_cases(min_size=0, max_size=300, allow_single_entry=True, far=2**30))
@settings(max_examples=200)
def test_bytes_equal_specification_including_cases_compressai_crashes_on(case):
    table, symbols, indexes = case
    args = (table.cdfs, table.sizes, table.offsets)
    ours = ans.RansEncoder().encode_with_indexes(symbols, indexes, *args)
    assert ours == spec.encode(symbols, indexes, *args)
    assert ans.RansDecoder().decode_with_indexes(ours, indexes, *args) == symbols


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_single_symbol_streams_round_trip(n):
    cdf = ans.pmf_to_quantized_cdf([0.25, 0.5, 0.25, 1e-3])
    symbols, indexes = [7] * n, [0] * n
    data = ans.RansEncoder().encode_with_indexes(symbols, indexes, [cdf], [5], [0])
    assert len(data) == 8
    assert data == spec.encode(symbols, indexes, [cdf], [5], [0])
    assert ans.RansDecoder().decode_with_indexes(data, indexes, [cdf], [5], [0]) == symbols


def test_single_entry_pmf_escapes_every_value():
    cdf = ans.pmf_to_quantized_cdf([1.0])
    assert cdf == [0, 65536]
    symbols = [0, -1, 1, 12345, -(2**30)]
    data = ans.RansEncoder().encode_with_indexes(symbols, [0] * 5, [cdf], [2], [0])
    assert data == spec.encode(symbols, [0] * 5, [cdf], [2], [0])
    assert ans.RansDecoder().decode_with_indexes(data, [0] * 5, [cdf], [2], [0]) == symbols


def test_gaussian_conditional_tables_code_like_compressai():
    """The tables real models use: CompressAI's 64-scale GaussianConditional CDFs."""
    from compressai.entropy_models import GaussianConditional
    from compressai.models.base import get_scale_table

    gc = GaussianConditional(None)
    gc.update_scale_table(get_scale_table())
    cdfs, sizes, offsets = gc.quantized_cdf.numpy(), gc.cdf_length.numpy(), gc.offset.numpy()
    rng = np.random.default_rng(0)
    indexes = rng.integers(0, 64, 50_000).astype(np.int32)
    symbols = np.round(rng.standard_normal(50_000) * gc.scale_table.numpy()[indexes] * 1.5).astype(
        np.int32
    )
    ours = ans.RansEncoder().encode_with_indexes(symbols, indexes, cdfs, sizes, offsets)
    theirs = cai_ans.RansEncoder().encode_with_indexes(
        symbols.tolist(), indexes.tolist(), cdfs.tolist(), sizes.tolist(), offsets.tolist()
    )
    assert ours == theirs
    np.testing.assert_array_equal(
        ans.RansDecoder().decode_with_indexes(theirs, indexes, cdfs, sizes, offsets), symbols
    )
