"""Golden vectors of CompressAI 1.2.8 (compressai.md §4.4): tables and bytes pinned exactly."""

import pytest

from tinify import ans

GOLDEN_CDFS = [
    ([0.1, 0.2, 0.0, 0.0], [0, 21845, 65534, 65535, 65536]),
    ([0.5, 0.5, 0.0], [0, 32767, 65535, 65536]),
    ([1.0], [0, 65536]),
    ([0.25, 0.5, 0.25, 1e-3], [0, 16367, 49102, 65469, 65536]),
]

# Encoded with index 0, offset 0 and the CDF of [0.25, 0.5, 0.25, 1e-3].
GOLDEN_STREAMS = [
    ([0, 1, 2], "8b25ac0c10000000"),
    ([1] * 10, "fa78a72f05020000"),
    ([1, 1, -1], "617b04a93ea80700"),
    ([1, 1, 3], "4faf8fea837a0000"),
    ([1, 1, 7], "547c08a93ea80700"),
    ([1, 1, 40], "94be5190ea837a00"),
]
GOLDEN_CDF = [0, 16367, 49102, 65469, 65536]


@pytest.mark.parametrize(("pmf", "cdf"), GOLDEN_CDFS)
def test_pmf_to_quantized_cdf_matches_golden_vector(pmf, cdf):
    assert ans.pmf_to_quantized_cdf(pmf, 16) == cdf


@pytest.mark.parametrize(("symbols", "hex_bytes"), GOLDEN_STREAMS)
def test_encoder_bytes_match_golden_vector(symbols, hex_bytes):
    indexes = [0] * len(symbols)
    data = ans.RansEncoder().encode_with_indexes(symbols, indexes, [GOLDEN_CDF], [5], [0])
    assert data.hex() == hex_bytes


@pytest.mark.parametrize(("symbols", "hex_bytes"), GOLDEN_STREAMS)
def test_decoder_inverts_golden_vector(symbols, hex_bytes):
    indexes = [0] * len(symbols)
    decoded = ans.RansDecoder().decode_with_indexes(
        bytes.fromhex(hex_bytes), indexes, [GOLDEN_CDF], [5], [0]
    )
    assert decoded == symbols
