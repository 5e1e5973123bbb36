"""Shows what tinify does: codes latents of realistic spread and checks every byte."""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from tinify import ans

HELP = "code synthetic Gaussian latents and report size, speed and exactness"


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--symbols", type=int, default=1_000_000, help="latent values to code (default 1e6)"
    )
    parser.add_argument("--seed", type=int, default=0)


def gaussian_table(
    scales: np.ndarray, tail_mass: float = 1e-9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CDF rows of discretized zero-mean Gaussians (CompressAI's GaussianConditional layout)."""
    scale = torch.as_tensor(scales, dtype=torch.float32)[:, None]
    center = torch.ceil(scale[:, 0] * 6.1094102).int()
    length = 2 * center + 1
    values = torch.arange(int(length.max()), dtype=torch.float32)[None] - center[:, None]
    cdf = lambda v: 0.5 * torch.erfc(-v / (scale * 2**0.5))  # noqa: E731
    pmf = cdf(values + 0.5) - cdf(values - 0.5)
    tail = 2 * cdf(-(center[:, None].float() + 0.5))[:, 0]
    cdfs, sizes = ans.quantized_cdf_table(pmf.numpy(), length.numpy(), tail.numpy())
    return cdfs, sizes, (-center).numpy().astype(np.int32)


def run(args: argparse.Namespace) -> int:
    rng = np.random.default_rng(args.seed)
    scales = np.exp(np.linspace(np.log(0.11), np.log(256), 64)).astype(np.float32)
    cdfs, sizes, offsets = gaussian_table(scales)
    indexes = rng.integers(0, len(scales), args.symbols).astype(np.int32)
    symbols = np.round(rng.standard_normal(args.symbols) * scales[indexes]).astype(np.int32)
    print(
        f"tinify: coding {args.symbols:,} latent values (discretized Gaussians, scales 0.11 to 256)"
    )

    start = time.perf_counter()
    data = ans.RansEncoder().encode_with_indexes(symbols, indexes, cdfs, sizes, offsets)
    encode = time.perf_counter() - start
    start = time.perf_counter()
    decoded = ans.RansDecoder().decode_with_indexes(data, indexes, cdfs, sizes, offsets)
    decode = time.perf_counter() - start

    exact = bool(np.array_equal(decoded, symbols))
    print(f"  {len(data):,} bytes, {8 * len(data) / args.symbols:.2f} bits per value")
    rates = args.symbols / encode / 1e6, args.symbols / decode / 1e6
    print(f"  encode {rates[0]:.0f} M values/s, decode {rates[1]:.0f} M values/s")
    print(f"  decoded exactly: {exact}")
    truncated = data[: len(data) // 2]
    try:
        ans.RansDecoder().decode_with_indexes(truncated, indexes, cdfs, sizes, offsets)
        print("  a truncated stream went unnoticed")
        return 1
    except ans.DecodeError as err:
        print(f"  a truncated stream is refused: {err}")
    return 0 if exact else 1
