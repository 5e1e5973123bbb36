"""Hypothesis strategies for CDF tables and the symbols coded with them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from tinify import ans


@dataclass
class Table:
    cdfs: list[list[int]]
    sizes: list[int]
    offsets: list[int]

    @property
    def array(self) -> np.ndarray:
        return ans.as_cdf_table(self.cdfs)


@st.composite
def pmfs(draw, min_size: int = 1, max_size: int = 300) -> list[float]:
    """Probability vectors with at least one entry that survives 16-bit quantization: a mix of
    large, tiny and exactly-zero probabilities, normalised or not."""
    size = draw(st.integers(min_size, max_size))
    kind = st.one_of(
        st.floats(0.0, 1.0, width=32),
        st.floats(0.0, 2.0**-17, width=32),
        st.just(0.0),
    )
    values = draw(st.lists(kind, min_size=size, max_size=size))
    values[draw(st.integers(0, size - 1))] = draw(st.floats(2.0**-10, 1.0, width=32))
    if draw(st.booleans()):
        total = sum(values)
        values = [v / total for v in values]
    return values


@st.composite
def tables(draw, max_rows: int = 6, allow_single_entry: bool = False) -> Table:
    """CDF tables built from random pmfs (each with a tail symbol, CompressAI's layout).

    A one-entry pmf ([1.0] -> CDF [0, 65536], every value escaped) kills CompressAI's coder, so
    it is opt-in.
    """
    rows = draw(st.integers(1, max_rows))
    cdfs, sizes, offsets = [], [], []
    for _ in range(rows):
        if allow_single_entry and draw(st.integers(0, 4)) == 0:
            cdf = [0, 65536]
        else:
            cdf = ans.pmf_to_quantized_cdf([*draw(pmfs(max_size=200)), draw(st.floats(1e-9, 0.1))])
        cdfs.append(cdf)
        sizes.append(len(cdf))
        offsets.append(draw(st.integers(-300, 300)))
    return Table(cdfs, sizes, offsets)


@st.composite
def symbols_for(
    draw, table: Table, min_size: int, max_size: int, far: int = 2**30
) -> tuple[list[int], list[int]]:
    """(symbols, indexes): mostly inside each row's range, with escapes on both sides, values
    far outside (up to about ``far`` away), negative values, and exactly the escape symbol."""
    n = draw(st.integers(min_size, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    indexes = rng.integers(0, len(table.sizes), n)
    sizes = np.asarray(table.sizes)[indexes]
    offsets = np.asarray(table.offsets)[indexes]
    inside = offsets + (rng.random(n) * np.maximum(sizes - 2, 1)).astype(np.int64)
    kind = rng.integers(0, 100, n)
    symbols = np.where(kind < 80, inside, 0)
    symbols = np.where(
        (kind >= 80) & (kind < 86), offsets + sizes - 2, symbols
    )  # the escape symbol
    symbols = np.where((kind >= 86) & (kind < 92), offsets - rng.integers(1, 40, n), symbols)
    symbols = np.where(
        (kind >= 92) & (kind < 97), offsets + sizes + rng.integers(0, 5000, n), symbols
    )
    symbols = np.where(kind >= 97, rng.integers(-far, far, n), symbols)
    return symbols.astype(np.int32).tolist(), indexes.astype(np.int32).tolist()
