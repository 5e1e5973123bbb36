"""Coding releases the GIL: other Python threads keep running during a long call."""

import itertools
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


def _largest_pause_of_main_thread(work) -> tuple[float, float]:
    """Runs ``work`` in another thread; returns (its duration, the longest the main thread
    went without running a loop iteration meanwhile)."""
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
    inside = [t for t in ticks if span["start"] <= t <= span["end"]]
    edges = [span["start"], *inside, span["end"]]
    return span["end"] - span["start"], max(b - a for a, b in itertools.pairwise(edges))


def test_main_thread_runs_during_a_long_decode(long_stream):
    data, symbols, indexes, table = long_stream
    out = {}
    duration, pause = _largest_pause_of_main_thread(
        lambda: out.setdefault(
            "values", ans.RansDecoder().decode_with_indexes(data, indexes, *table)
        )
    )
    np.testing.assert_array_equal(out["values"], symbols)
    assert duration > 0.05, "the decode is too short to tell"
    # Holding the GIL would stall the main thread for the whole decode.
    assert pause < duration / 4, f"main thread stalled {pause:.3f}s of a {duration:.3f}s decode"


def test_main_thread_runs_during_a_long_encode(long_stream):
    _, symbols, indexes, table = long_stream
    duration, pause = _largest_pause_of_main_thread(
        lambda: ans.RansEncoder().encode_with_indexes(symbols, indexes, *table)
    )
    assert duration > 0.03, "the encode is too short to tell"
    assert pause < duration / 4, f"main thread stalled {pause:.3f}s of a {duration:.3f}s encode"
