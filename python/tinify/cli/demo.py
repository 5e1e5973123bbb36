"""Shows what tinify does: the entropy coder on latents of realistic spread, and an
autoregressive model (mbt2018) coding an image through the Rust loop, every value checked."""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from tinify import ans

HELP = "code synthetic latents and an image; report size, speed and exactness"


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--symbols", type=int, default=1_000_000, help="latent values to code (default 1e6)"
    )
    parser.add_argument(
        "--image-size", default="256x384", help="HxW of the model's image (multiples of 64)"
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
    return max(_coder_demo(args), _model_demo(args))


def _coder_demo(args: argparse.Namespace) -> int:
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
    truncated = data[: len(data) // 8 * 4]  # half the stream, whole words
    try:
        ans.RansDecoder().decode_with_indexes(truncated, indexes, cdfs, sizes, offsets)
        print("  a truncated stream went unnoticed")
        return 1
    except ans.DecodeError as err:
        print(f"  a truncated stream is refused: {err}")
    return 0 if exact else 1


def _model_demo(args: argparse.Namespace) -> int:
    from tinify.models import JointAutoregressiveHierarchicalPriors

    height, width = (int(v) for v in args.image_size.split("x"))
    torch.manual_seed(args.seed)
    model = JointAutoregressiveHierarchicalPriors(N=128, M=192).eval()
    with torch.no_grad():
        # Random weights quantize nearly every latent to zero; a gain makes them realistic.
        model.g_a[6].weight.mul_(4)
        model.g_a[6].bias.mul_(4)
    model.update(force=True)
    rows = torch.linspace(0, 1, height)[:, None]
    cols = torch.linspace(0, 1, width)[None, :]
    x = torch.stack(
        [rows * cols, rows.expand(height, width), torch.sin(8 * cols).expand(height, width)]
    )[None]
    x = x.clamp(0, 1)
    print(f"\ntinify: mbt2018 (autoregressive context, random weights), {height}x{width} image")
    with torch.no_grad():
        start = time.perf_counter()
        out = model.compress(x)
        encode = time.perf_counter() - start
        z_hat = model.entropy_bottleneck.decompress(out["strings"][1], out["shape"])
        start = time.perf_counter()
        y_hat = model._raster_scan().decode(out["strings"][0], model.h_s(z_hat))
        serial = time.perf_counter() - start
        reference = model.g_s(y_hat).clamp(0, 1)
        start = time.perf_counter()
        x_hat = model.decompress(out["strings"], out["shape"])["x_hat"]
        decode = time.perf_counter() - start
    size = sum(len(s) for group in out["strings"] for s in group)
    positions = y_hat.shape[-2] * y_hat.shape[-1]
    exact = bool(torch.equal(x_hat, reference))
    print(f"  {size:,} bytes ({8 * size / (height * width):.2f} bits per pixel)")
    print(
        f"  encode {encode:.2f} s, decode {decode:.2f} s, of which the serial loop "
        f"{serial * 1e3:.0f} ms ({serial * 1e6 / positions:.0f} us per latent position)"
    )
    print(f"  decoded exactly: {exact}")
    return 0 if exact else 1
