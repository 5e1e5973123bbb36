"""The prior path on the deterministic engine beside torch.

For the shipped default model (its ``z_gain_inv`` of the default quality, then ``h_s``, then the
split into scales and means) and for ``MeanScaleHyperprior(128, 192)`` (randomly initialised;
``h_s`` and the split), the hyper-latent of a ``--size`` image (``H/64 x W/64``, integer values
as the entropy bottleneck decodes them) goes through torch (``torch.set_num_threads(t)``,
``no_grad``) and through :func:`tinify.engine.run` (``threads=t``), at each thread count. Printed
per model and thread count: best-of-``--repeat`` times of both, the ratio engine / torch, and the
largest difference of their outputs (float rounding: torch sums in another order).

Run:  python benches/bench_engine.py [--size 768x512] [--threads 1,2] [--repeat 10]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from tinify import engine
from tinify.models import MeanScaleHyperprior
from tinify.zoo.default import load_default


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    fn()  # warm-up: allocations, thread pools, oneDNN primitives
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def prior_paths(
    size: tuple[int, int],
) -> list[tuple[str, nn.Module, torch.Tensor | None, int, int]]:
    """(name, h_s, input gain or None, N, M) of each model."""
    net = load_default().eval()
    torch.manual_seed(0)
    msh = MeanScaleHyperprior(128, 192).eval()
    return [
        (
            f"default (N={net.N}, M={net.M}) + gains",
            net.h_s,
            net.z_gain_inv[net.rate],
            net.N,
            net.M,
        ),
        ("mbt2018-mean (N=128, M=192)", msh.h_s, None, 128, 192),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="768x512", help="image WxH (a multiple of 64)")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    threads = [int(t) for t in args.threads.split(",")]
    print(f"prior path of a {width}x{height} image; kernels: {engine.available_kernels()}")
    header = f"{'model':36} {'threads':>7} {'torch ms':>9} {'engine ms':>9}"
    print(f"{header} {'engine/torch':>12} {'max |diff|':>10}")
    for name, h_s, gain, n, m in prior_paths((height, width)):
        gen = torch.Generator().manual_seed(1)
        z_hat = torch.randint(-3, 4, (1, n, height // 64, width // 64), generator=gen).float()
        program = engine.compile(h_s, input_gain=gain, split=[m, m])
        z_np = z_hat.numpy()
        scale = torch.ones(n) if gain is None else gain.detach()

        def torch_path(
            h_s: nn.Module = h_s, z_hat: torch.Tensor = z_hat, scale: torch.Tensor = scale
        ) -> tuple[torch.Tensor, ...]:
            with torch.no_grad():
                return h_s(z_hat * scale.reshape(1, -1, 1, 1)).chunk(2, 1)

        def engine_path(
            t: int, program: engine.Program = program, z_np: np.ndarray = z_np
        ) -> object:
            return engine.run(program, z_np, threads=t)

        for t in threads:
            torch.set_num_threads(t)
            torch_s = best_of(args.repeat, torch_path)
            engine_s = best_of(args.repeat, lambda t=t: engine_path(t))
            got = engine.run(program, z_np, threads=t)
            diff = max(
                float(np.abs(g - w.numpy()).max()) for g, w in zip(got, torch_path(), strict=True)
            )
            print(
                f"{name:36} {t:>7} {torch_s * 1e3:>9.2f} {engine_s * 1e3:>9.2f} "
                f"{engine_s / torch_s:>11.2f}x {diff:>10.2e}"
            )


if __name__ == "__main__":
    main()
