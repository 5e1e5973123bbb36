"""tinify.ans accepts lists, numpy arrays and torch tensors alike, and names bad arguments."""

import numpy as np
import pytest
import torch

from tinify import ans

CDF = [0, 16367, 49102, 65469, 65536]
SYMBOLS = [0, 1, 2, -3, 40, 1, 1, 2]
INDEXES = [0] * len(SYMBOLS)
EXPECTED = ans.RansEncoder().encode_with_indexes(SYMBOLS, INDEXES, [CDF], [5], [0])


@pytest.mark.parametrize(
    "convert",
    [
        list,
        tuple,
        lambda v: np.asarray(v, dtype=np.int32),
        lambda v: np.asarray(v, dtype=np.int64),
        lambda v: np.asarray(v, dtype=np.int16),
        lambda v: torch.tensor(v, dtype=torch.int32),
        lambda v: torch.tensor(v, dtype=torch.int64),
    ],
    ids=["list", "tuple", "np.int32", "np.int64", "np.int16", "torch.int32", "torch.int64"],
)
def test_every_container_kind_gives_the_same_bytes(convert):
    data = ans.RansEncoder().encode_with_indexes(
        convert(SYMBOLS), convert(INDEXES), [CDF], convert([5]), convert([0])
    )
    assert data == EXPECTED


@pytest.mark.parametrize(
    "cdfs",
    [
        [CDF],
        (tuple(CDF),),
        np.asarray([CDF], dtype=np.int32),
        np.asarray([CDF]),
        torch.tensor([CDF]),
    ],
    ids=["lists", "tuples", "np.int32", "np.int64", "torch.int64"],
)
def test_every_cdf_table_kind_gives_the_same_bytes(cdfs):
    assert ans.RansEncoder().encode_with_indexes(SYMBOLS, INDEXES, cdfs, [5], [0]) == EXPECTED


def test_non_contiguous_arrays_are_accepted():
    symbols = np.repeat(np.asarray(SYMBOLS, dtype=np.int32), 2)[::2]
    assert not symbols.flags.c_contiguous
    data = ans.RansEncoder().encode_with_indexes(symbols, INDEXES, [CDF], [5], [0])
    assert data == ans.RansEncoder().encode_with_indexes(SYMBOLS, INDEXES, [CDF], [5], [0])


def test_decoded_values_come_back_like_the_indexes():
    decoder = ans.RansDecoder()
    assert decoder.decode_with_indexes(EXPECTED, INDEXES, [CDF], [5], [0]) == SYMBOLS
    as_numpy = decoder.decode_with_indexes(EXPECTED, np.asarray(INDEXES), [CDF], [5], [0])
    assert isinstance(as_numpy, np.ndarray) and as_numpy.dtype == np.int32
    as_torch = decoder.decode_with_indexes(EXPECTED, torch.tensor(INDEXES), [CDF], [5], [0])
    assert isinstance(as_torch, torch.Tensor) and as_torch.tolist() == SYMBOLS


def test_ragged_cdf_rows_are_padded():
    short = ans.pmf_to_quantized_cdf([0.5, 0.5])
    data = ans.RansEncoder().encode_with_indexes(
        [0, 1, 2], [0, 1, 1], [short, CDF], [len(short), 5], [0, 0]
    )
    assert ans.RansDecoder().decode_with_indexes(
        data, [0, 1, 1], [short, CDF], [len(short), 5], [0, 0]
    ) == [0, 1, 2]


def test_batch_functions_equal_one_stream_per_row():
    rng = np.random.default_rng(1)
    symbols = rng.integers(-3, 8, (4, 500)).astype(np.int32)
    indexes = np.zeros_like(symbols)
    strings = ans.encode_batch(symbols, indexes, [CDF], [5], [0])
    for row, data in zip(symbols, strings, strict=True):
        assert data == ans.RansEncoder().encode_with_indexes(row, indexes[0], [CDF], [5], [0])
    np.testing.assert_array_equal(ans.decode_batch(strings, indexes, [CDF], [5], [0]), symbols)


def test_buffered_encoder_is_emptied_by_flush():
    encoder = ans.BufferedRansEncoder()
    encoder.encode_with_indexes(SYMBOLS, INDEXES, [CDF], [5], [0])
    assert encoder.flush() == EXPECTED
    assert encoder.flush() == ans.RansEncoder().encode_with_indexes([], [], [CDF], [5], [0])


def test_invalid_call_leaves_the_buffered_encoder_unchanged():
    encoder = ans.BufferedRansEncoder()
    encoder.encode_with_indexes(SYMBOLS[:3], INDEXES[:3], [CDF], [5], [0])
    with pytest.raises(ValueError, match="indexes"):
        encoder.encode_with_indexes([1, 2], [0, 9], [CDF], [5], [0])
    encoder.encode_with_indexes(SYMBOLS[3:], INDEXES[3:], [CDF], [5], [0])
    assert encoder.flush() == EXPECTED


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"indexes": [0, 1]}, ValueError, r"`indexes\[1\]` is 1, outside the CDF table of 1 rows"),
        ({"indexes": [0, -1]}, ValueError, r"`indexes\[1\]` is -1"),
        ({"indexes": [0]}, ValueError, "`indexes` has 1 entries, expected 2"),
        (
            {"cdfs": [[0, 5, 5, 65536]], "sizes": [4]},
            ValueError,
            r"`cdfs\[0\]` is not strictly increasing at entry 2",
        ),
        ({"cdfs": [[0, 5, 65535]], "sizes": [3]}, ValueError, r"`cdfs\[0\]` must end at 65536"),
        ({"cdfs": [[3, 5, 65536]], "sizes": [3]}, ValueError, r"`cdfs\[0\]` must start at 0"),
        ({"sizes": [6]}, ValueError, r"`cdfs_sizes\[0\]` is 6"),
        ({"sizes": [5, 5]}, ValueError, "`cdfs` has 1 rows but `cdfs_sizes` has 2 entries"),
        ({"offsets": []}, ValueError, "`offsets` has 0 entries, expected 1"),
        ({"symbols": [1.5, 2.0]}, TypeError, "`symbols` must hold integers"),
        ({"symbols": [2**40, 0]}, ValueError, "outside the int32 range"),
        ({"symbols": [[1, 2]]}, ValueError, "`symbols` must be 1-D"),
        (
            {"symbols": [2**31 - 1, 0], "offsets": [-10]},
            ValueError,
            r"`symbols\[0\]` is 2147483647: too far",
        ),
    ],
)
def test_invalid_arguments_raise_errors_naming_them(kwargs, error, message):
    args = {
        "symbols": [1, 2],
        "indexes": [0, 0],
        "cdfs": [CDF],
        "sizes": [5],
        "offsets": [0],
        **kwargs,
    }
    with pytest.raises(error, match=message):
        ans.RansEncoder().encode_with_indexes(
            args["symbols"], args["indexes"], args["cdfs"], args["sizes"], args["offsets"]
        )


def test_decode_stream_needs_a_stream():
    with pytest.raises(ValueError, match="set_stream"):
        ans.RansDecoder().decode_stream([0], [CDF], [5], [0])


def test_invalid_pmfs_raise_value_error():
    with pytest.raises(ValueError, match="non-negative"):
        ans.pmf_to_quantized_cdf([0.5, -0.1])
    with pytest.raises(ValueError, match="finite"):
        ans.pmf_to_quantized_cdf([float("nan")])
    with pytest.raises(ValueError, match="non-zero probability"):
        ans.pmf_to_quantized_cdf([0.0, 0.0])
    with pytest.raises(ValueError, match="precision"):
        ans.pmf_to_quantized_cdf([1.0], 17)


def test_quantized_cdf_table_equals_row_by_row_quantization():
    rng = np.random.default_rng(2)
    pmfs = rng.random((5, 12)).astype(np.float32)
    lengths = np.array([12, 3, 0, 7, 1], dtype=np.int32)
    tails = rng.random(5).astype(np.float32) * 1e-2
    cdfs, cdf_lengths = ans.quantized_cdf_table(pmfs, lengths, tails)
    assert cdfs.shape == (5, 14) and cdf_lengths.tolist() == (lengths + 2).tolist()
    for row in range(5):
        expected = ans.pmf_to_quantized_cdf(
            [*pmfs[row, : lengths[row]].tolist(), float(tails[row])]
        )
        assert cdfs[row, : cdf_lengths[row]].tolist() == expected
        assert not cdfs[row, cdf_lengths[row] :].any()
