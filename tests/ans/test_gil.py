"""Coding releases the GIL: other Python threads keep running during a long call."""

import threading
import time

import numpy as np
import pytest

from tinify import ans


@pytest.fixture(scope="module")
def long_stream():
    rng = np.random.default_rng(0)
    cdf = ans.pmf_to_quantized_cdf([*np.exp(-0.5 * np.linspace(-4, 4, 200) ** 2).tolist(), 1e-6])
    n = 12_000_000
    indexes = np.zeros(n, dtype=np.int32)
    symbols = rng.integers(0, 200, n).astype(np.int32)
    table = ([cdf], [len(cdf)], [0])
    return ans.RansEncoder().encode_with_indexes(symbols, indexes, *table), symbols, indexes, table


def _main_thread_progress_during(work) -> int:
    """Runs ``work`` in another thread; returns how many loop iterations the main thread made
    while ``work`` ran (none if ``work`` held the GIL throughout)."""
    span = {}

    def target():
        span["start"] = time.perf_counter()
        work()
        span["end"] = time.perf_counter()

    thread = threading.Thread(target=target)
    ticks = []
    thread.start()
    while thread.is_alive():
        ticks.append(time.perf_counter())
    thread.join()
    return sum(span["start"] <= t <= span["end"] for t in ticks)


def test_main_thread_runs_during_a_long_decode(long_stream):
    data, symbols, indexes, table = long_stream
    out = {}
    progress = _main_thread_progress_during(
        lambda: out.setdefault(
            "values", ans.RansDecoder().decode_with_indexes(data, indexes, *table)
        )
    )
    np.testing.assert_array_equal(out["values"], symbols)
    # Holding the GIL would stop the main thread for the whole decode: no iteration at all.
    assert progress >= 100, f"the main thread made {progress} iterations during the decode"


def test_main_thread_runs_during_a_long_encode(long_stream):
    _, symbols, indexes, table = long_stream
    progress = _main_thread_progress_during(
        lambda: ans.RansEncoder().encode_with_indexes(symbols, indexes, *table)
    )
    assert progress >= 100, f"the main thread made {progress} iterations during the encode"
