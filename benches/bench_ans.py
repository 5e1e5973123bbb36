"""Entropy-coder throughput: tinify, CompressAI and constriction side by side.

The workload is CompressAI's GaussianConditional setup: the default 64-scale table
(0.11 ... 256, log-spaced), symbols drawn from the discretized Gaussian of a random scale of
that table (mean 0), so the values are as spread as real latents with those scales. Every
library starts from the same int32 numpy arrays; CompressAI's time includes the ``.tolist()``
its API needs. constriction has no table-based Gaussian coder: it codes the same symbols with
its ``QuantizedGaussian`` model (per-symbol mean and scale, its own 32-bit-word ANS), clipped to
the table's range because it cannot escape outliers.

Run:  python benches/bench_ans.py [--symbols 2000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np

from tinify import ans


def gaussian_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CompressAI's default GaussianConditional tables: (cdfs, sizes, offsets, scales)."""
    from compressai.entropy_models import GaussianConditional
    from compressai.models.base import get_scale_table

    gc = GaussianConditional(None)
    gc.update_scale_table(get_scale_table())
    return (
        gc.quantized_cdf.numpy(),
        gc.cdf_length.numpy(),
        gc.offset.numpy(),
        gc.scale_table.numpy(),
    )


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--symbols", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # compressai's TorchScript deprecation noise

    import compressai.ans
    import constriction

    cdfs, sizes, offsets, scales = gaussian_table()
    rng = np.random.default_rng(args.seed)
    n = args.symbols
    indexes = rng.integers(0, len(scales), n).astype(np.int32)
    symbols = np.round(rng.standard_normal(n) * scales[indexes]).astype(np.int32)
    print(
        f"{n:,} symbols, {len(scales)} Gaussian CDFs (scales {scales[0]:.2f}..{scales[-1]:.0f}), "
        f"{np.mean(np.abs(symbols)):.1f} mean |symbol|, best of {args.repeat}"
    )

    rows: list[tuple[str, float, float, int]] = []

    # tinify
    t_enc, data = best_of(
        args.repeat,
        lambda: ans.RansEncoder().encode_with_indexes(symbols, indexes, cdfs, sizes, offsets),
    )
    t_dec, out = best_of(
        args.repeat,
        lambda: ans.RansDecoder().decode_with_indexes(data, indexes, cdfs, sizes, offsets),
    )
    assert np.array_equal(out, symbols), "tinify round trip failed"
    rows.append(("tinify", t_enc, t_dec, len(data)))

    # CompressAI: its API takes lists, so the conversion is part of its cost.
    def cai_encode() -> bytes:
        return compressai.ans.RansEncoder().encode_with_indexes(
            symbols.tolist(), indexes.tolist(), cdfs.tolist(), sizes.tolist(), offsets.tolist()
        )

    def cai_decode() -> list[int]:
        return compressai.ans.RansDecoder().decode_with_indexes(
            cai_data, indexes.tolist(), cdfs.tolist(), sizes.tolist(), offsets.tolist()
        )

    t_enc, cai_data = best_of(args.repeat, cai_encode)
    t_dec, cai_out = best_of(args.repeat, cai_decode)
    assert np.array_equal(np.asarray(cai_out, dtype=np.int32), symbols), (
        "compressai round trip failed"
    )
    assert cai_data == data, "tinify and compressai bytes differ"
    rows.append(("compressai", t_enc, t_dec, len(cai_data)))

    # constriction: same symbols (clipped to the table's support), per-symbol Gaussian model.
    centers = -offsets[indexes]
    clipped = np.clip(symbols, -centers, centers).astype(np.int32)
    stds = scales[indexes].astype(np.float64)
    means = np.zeros(n)
    model = constriction.stream.model.QuantizedGaussian(int(offsets.min()), int(-offsets.min()))

    def con_encode() -> np.ndarray:
        coder = constriction.stream.stack.AnsCoder()
        coder.encode_reverse(clipped, model, means, stds)
        return coder.get_compressed()

    t_enc, con_data = best_of(args.repeat, con_encode)
    t_dec, con_out = best_of(
        args.repeat, lambda: constriction.stream.stack.AnsCoder(con_data).decode(model, means, stds)
    )
    assert np.array_equal(con_out, clipped), "constriction round trip failed"
    rows.append(("constriction", t_enc, t_dec, con_data.nbytes))

    base_enc, base_dec = rows[1][1], rows[1][2]
    header = ("library", "encode Msym/s", "decode Msym/s", "bytes", "enc vs cai", "dec vs cai")
    print(
        f"{header[0]:<13}{header[1]:>15}{header[2]:>15}{header[3]:>12}{header[4]:>12}{header[5]:>12}"
    )
    for name, t_enc, t_dec, nbytes in rows:
        print(
            f"{name:<13}{n / t_enc / 1e6:>15.1f}{n / t_dec / 1e6:>15.1f}{nbytes:>12,}"
            f"{base_enc / t_enc:>11.1f}x{base_dec / t_dec:>11.1f}x"
        )
    print("tinify bytes == compressai bytes:", cai_data == data)


if __name__ == "__main__":
    main()
