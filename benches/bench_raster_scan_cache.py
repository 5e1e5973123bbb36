"""Per-call overhead of mbt2018's autoregressive coding: compress + decompress of a 64x64 image,
repeated, and the time to build the Rust description of the model alone.

Run: ``OMP_NUM_THREADS=1 python benches/bench_raster_scan_cache.py [--repeats 20]``.
"""

from __future__ import annotations

import argparse
import time

import torch

from tinify.autoregressive import RasterScanCoder
from tinify.models import JointAutoregressiveHierarchicalPriors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.manual_seed(0)
    net = JointAutoregressiveHierarchicalPriors(192, 192).eval()
    net.update()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = net.compress(x)  # warm-up
        net.decompress(out["strings"], out["shape"])
        start = time.perf_counter()
        for _ in range(args.repeats):
            out = net.compress(x)
            net.decompress(out["strings"], out["shape"])
        per_call = (time.perf_counter() - start) / args.repeats
        start = time.perf_counter()
        for _ in range(args.repeats):
            RasterScanCoder(
                net.context_prediction, net.entropy_parameters, net.gaussian_conditional
            )
        build = (time.perf_counter() - start) / args.repeats
    print(f"compress+decompress 64x64, mean of {args.repeats}: {per_call * 1e3:.2f} ms")
    print(f"building the Rust description once: {build * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
