"""Safety properties of the coder: importable exception names, early stops on streams far too
short, bounded thread pools, and tables validated once per coder."""

import importlib
import traceback

import numpy as np
import pytest

from tinify import _core, ans

CDF = ans.pmf_to_quantized_cdf([0.25, 0.5, 0.25, 1e-3])
TABLE = ([CDF], [len(CDF)], [0])


def test_decode_error_is_named_where_it_can_be_imported():
    module = importlib.import_module(ans.DecodeError.__module__)
    assert getattr(module, ans.DecodeError.__qualname__) is ans.DecodeError
    try:
        ans.RansDecoder().decode_with_indexes(b"\0" * 8, [0], *TABLE)
    except ans.DecodeError as err:
        text = "".join(traceback.format_exception(err))
    assert "tinify.ans.DecodeError" in text


def test_a_tiny_stream_asked_for_ten_million_symbols_fails_before_decoding():
    data = ans.RansEncoder().encode_with_indexes([1, 2], [0, 0], *TABLE)
    indexes = np.zeros(10_000_000, dtype=np.int32)
    with pytest.raises(ans.DecodeError, match="cannot hold the 10000000 symbols"):
        ans.RansDecoder().decode_with_indexes(data, indexes, *TABLE)
    decoder = ans.RansDecoder()
    decoder.set_stream(data)
    with pytest.raises(ans.DecodeError, match="checked before decoding"):
        decoder.decode_stream(indexes, *TABLE)


def _os_threads() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/status"), reason="Linux only")
def test_ten_thousand_threads_are_clamped_and_pools_reused():
    m, p = 2, 3
    weight = np.zeros((2 * m, m, 5, 5), dtype=np.float32)
    weight[:, :, :2] = 0.1
    layers = [("conv", np.full((2 * m, p + 2 * m), 0.05, dtype=np.float32), None)]
    scales = np.exp(np.linspace(np.log(0.11), np.log(256), 8)).astype(np.float32)
    raster = _core.RasterScan(m, p, weight, np.zeros(2 * m, np.float32), layers, scales, 0.11)
    pmfs = [np.exp(-0.5 * (np.arange(-20, 21) / s) ** 2) for s in scales]
    pmfs = [pmf / pmf.sum() for pmf in pmfs]
    cdfs = [ans.pmf_to_quantized_cdf([*pmf, 1e-6]) for pmf in pmfs]
    tables = ans.cdf_tables(cdfs, [len(c) for c in cdfs], [-20] * len(cdfs))
    rng = np.random.default_rng(0)
    y = rng.normal(0, 3, (4, m, 6, 6)).astype(np.float32)
    params = rng.normal(0, 1, (4, p, 6, 6)).astype(np.float32)
    before = _os_threads()
    for _ in range(3):
        strings, y_hat = raster.encode(y, params, tables, threads=10_000)
        decoded = raster.decode(strings, params, tables, threads=10_000)
        np.testing.assert_array_equal(decoded, y_hat)
    grown = _os_threads() - before
    # One pool, clamped to the machine, built once for the three calls.
    assert grown <= (__import__("os").cpu_count() or 1), f"{grown} new OS threads"
    one, three = (raster.encode(y, params, tables, threads=t)[0] for t in (1, 3))
    assert one == three == strings


def test_a_table_changed_in_place_is_validated_again():
    cdf = list(CDF)
    cdfs, sizes, offsets = [cdf], [len(cdf)], [0]
    encoder = ans.RansEncoder()
    first = encoder.encode_with_indexes([0, 1, 2], [0, 0, 0], cdfs, sizes, offsets)
    assert encoder.encode_with_indexes([0, 1, 2], [0, 0, 0], cdfs, sizes, offsets) == first
    cdf[2] = cdf[1]  # no longer increasing
    with pytest.raises(ValueError, match="not strictly increasing"):
        encoder.encode_with_indexes([0, 1, 2], [0, 0, 0], cdfs, sizes, offsets)
    offsets[0] = 5
    cdf[2] = CDF[2]
    shifted = encoder.encode_with_indexes([5, 6, 7], [0, 0, 0], cdfs, sizes, offsets)
    assert shifted == first


def test_prepared_tables_code_the_bytes_of_the_three_arrays():
    tables = ans.cdf_tables(*TABLE)
    symbols = [0, 1, 2, 40, -3]
    data = ans.RansEncoder().encode_with_indexes(symbols, [0] * 5, *TABLE)
    assert ans.RansEncoder().encode_with_indexes(symbols, [0] * 5, tables) == data
    assert ans.RansDecoder().decode_with_indexes(data, [0] * 5, tables) == symbols
    with pytest.raises(ValueError, match="holds its sizes"):
        ans.RansDecoder().decode_with_indexes(data, [0] * 5, tables, [5], [0])
