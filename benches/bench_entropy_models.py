"""Entropy-model speed: tinify against CompressAI 1.2.8 on the same weights and latents.

(a) ``update(force=True)`` of a MeanScaleHyperprior (N=192, M=320 by default): the CDF tables
    of its EntropyBottleneck (N rows) and GaussianConditional (the 64 default scales). tinify
    loads CompressAI's state_dict, so both build tables from the same parameters.
(b) GaussianConditional coding of a C x H x W latent (320 x 48 x 32 by default) at several
    batch sizes, entropy coding only but with the index selection:
    ``gc.compress(y, gc.build_indexes(scales), means)`` and
    ``gc.decompress(strings, gc.build_indexes(scales), means=means)``.
    Latents have realistic spread: scales log-uniform in [0.11, 30], means ~ N(0, 2^2),
    ``y = means + scales * N(0, 1)``. The strings must be byte-identical.

torch runs on one thread (``torch.set_num_threads(1)``). tinify's Rust core codes the batch
elements of one call in parallel on its own thread pool (all cores unless RAYON_NUM_THREADS
is set; ``--single-core`` sets it to 1); CompressAI codes them one after the other.
Times are the best of ``--repeat`` runs.

Run:  python benches/bench_entropy_models.py [--repeat 5] [--batches 1,8] [--single-core]
"""

from __future__ import annotations

import argparse
import math
import os
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import torch


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def realistic_latent(
    batch: int, channels: int, height: int, width: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(y, scales, means): scales log-uniform in [0.11, 30], means N(0, 2^2), y around them."""
    gen = torch.Generator().manual_seed(seed)
    shape = (batch, channels, height, width)
    log_scales = torch.empty(shape).uniform_(math.log(0.11), math.log(30.0), generator=gen)
    scales = torch.exp(log_scales)
    means = torch.randn(shape, generator=gen) * 2
    y = means + scales * torch.randn(shape, generator=gen)
    return y, scales, means


def encode(gc: Any, y: torch.Tensor, scales: torch.Tensor, means: torch.Tensor) -> list[bytes]:
    return gc.compress(y, gc.build_indexes(scales), means)


def decode(
    gc: Any, strings: list[bytes], scales: torch.Tensor, means: torch.Tensor
) -> torch.Tensor:
    return gc.decompress(strings, gc.build_indexes(scales), means=means)


def bench_update(args: argparse.Namespace, cai_models: Any, tinify_models: Any) -> list[str]:
    theirs = cai_models.MeanScaleHyperprior(args.N, args.M).eval()
    ours = tinify_models.MeanScaleHyperprior(args.N, args.M).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    t_ours, _ = best_of(args.repeat, lambda: ours.update(force=True))
    t_theirs, _ = best_of(args.repeat, lambda: theirs.update(force=True))
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), f"tables differ: {key}"
    return [
        f"(a) MeanScaleHyperprior(N={args.N}, M={args.M}).update(force=True), "
        f"best of {args.repeat}",
        f"{'':<22}{'tinify':>12}{'compressai':>12}{'speed-up':>12}",
        f"{'update (ms)':<22}{t_ours * 1e3:>12.2f}{t_theirs * 1e3:>12.2f}"
        f"{t_theirs / t_ours:>11.1f}x",
        "tables identical: True",
    ]


def bench_coding(args: argparse.Namespace, cai_em: Any, cai_table: Any) -> tuple[list[str], bool]:
    from tinify.entropy_models import GaussianConditional
    from tinify.models import get_scale_table

    ours = GaussianConditional(None)
    ours.update_scale_table(get_scale_table())
    theirs = cai_em.GaussianConditional(None)
    theirs.update_scale_table(cai_table())

    lines = [
        f"(b) GaussianConditional, latent {args.channels}x{args.height}x{args.width}, scales "
        f"log-uniform in [0.11, 30], means N(0, 2^2); best of {args.repeat}",
        f"{'batch':<7}{'op':<12}{'tinify Msym/s':>15}{'compressai Msym/s':>19}"
        f"{'tinify/compressai':>19}{'bytes/image':>13}",
    ]
    identical = True
    for batch in args.batches:
        y, scales, means = realistic_latent(
            batch, args.channels, args.height, args.width, args.seed + batch
        )
        symbols = y.numel()

        t_enc_ours, strings = best_of(args.repeat, partial(encode, ours, y, scales, means))
        t_enc_theirs, cai_strings = best_of(args.repeat, partial(encode, theirs, y, scales, means))
        identical &= strings == cai_strings
        t_dec_ours, y_hat = best_of(args.repeat, partial(decode, ours, strings, scales, means))
        t_dec_theirs, cai_y_hat = best_of(
            args.repeat, partial(decode, theirs, strings, scales, means)
        )
        expected = ours.quantize(y, "dequantize", means)
        assert torch.equal(y_hat, expected), "tinify round trip failed"
        assert torch.equal(cai_y_hat, expected), "compressai round trip failed"

        nbytes = sum(len(s) for s in strings) // batch
        for op, t_ours, t_theirs in (
            ("compress", t_enc_ours, t_enc_theirs),
            ("decompress", t_dec_ours, t_dec_theirs),
        ):
            lines.append(
                f"{batch:<7}{op:<12}{symbols / t_ours / 1e6:>15.1f}"
                f"{symbols / t_theirs / 1e6:>19.1f}{t_theirs / t_ours:>18.1f}x{nbytes:>13,}"
            )
    return lines, identical


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--N", type=int, default=192, help="MeanScaleHyperprior N for (a)")
    parser.add_argument("--M", type=int, default=320, help="MeanScaleHyperprior M for (a)")
    parser.add_argument("--channels", type=int, default=320, help="latent channels for (b)")
    parser.add_argument("--height", type=int, default=48, help="latent height for (b)")
    parser.add_argument("--width", type=int, default=32, help="latent width for (b)")
    parser.add_argument(
        "--batches",
        type=lambda s: [int(b) for b in s.split(",")],
        default=[1, 8],
        help="comma-separated batch sizes for (b)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--single-core", action="store_true", help="run tinify's Rust thread pool on one thread"
    )
    args = parser.parse_args()
    if args.single_core:
        os.environ["RAYON_NUM_THREADS"] = "1"  # read when the pool starts, at the first call
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")  # compressai's TorchScript deprecation noise

    import compressai.entropy_models as cai_em
    import compressai.models as cai_models
    from compressai.models.base import get_scale_table as cai_table

    import tinify.models as tinify_models

    rayon = os.environ.get("RAYON_NUM_THREADS", f"{os.cpu_count()} (all cores)")
    print(f"torch threads: 1; tinify Rust threads: {rayon}")
    print()
    print("\n".join(bench_update(args, cai_models, tinify_models)))
    print()
    lines, identical = bench_coding(args, cai_em, cai_table)
    print("\n".join(lines))
    print("tinify strings == compressai strings:", identical)
    assert identical, "tinify and compressai strings differ"


if __name__ == "__main__":
    main()
