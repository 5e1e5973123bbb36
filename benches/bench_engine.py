"""The prior path and the synthesis transform on the deterministic engine beside torch.

Prior path: for the shipped default model (its ``z_gain_inv`` of the default quality, then
``h_s``, then the split into scales and means) and for ``MeanScaleHyperprior(128, 192)``
(randomly initialised; ``h_s`` and the split), the hyper-latent of a ``--size`` image
(``H/64 x W/64``, integer values as the entropy bottleneck decodes them). Synthesis: the ``g_s``
of both models (deconvolutions and IGDN) on the latent of that image (``H/16 x W/16``, ``M``
channels). Each goes through torch (``torch.set_num_threads(t)``, ``no_grad``) and through
:func:`tinify.engine.run` (``threads=t``), at each thread count. Printed per network and thread
count: best-of-``--repeat`` times of both (run alternately), the ratio engine / torch, and the
largest difference of their outputs (float rounding: torch sums in another order).

Run:  OMP_NUM_THREADS=1 python benches/bench_engine.py [--size 768x512] [--threads 1,2]
      [--repeat 10] [--only prior|synthesis]
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


def best_of(repeat: int, *fns: Callable[[], object]) -> list[float]:
    """The best time of each of ``fns`` over ``repeat`` rounds, the functions alternating within
    a round so that a busy moment of a shared machine slows all of them alike."""
    for fn in fns:
        fn()  # warm-up: allocations, thread pools, oneDNN primitives
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - start)
    return best


def networks(
    size: tuple[int, int],
) -> list[tuple[str, nn.Module, torch.Tensor | None, torch.Tensor, list[int] | None]]:
    """(name, module, input gain or None, input, split sizes or None) of each network."""
    height, width = size
    net = load_default().eval()
    torch.manual_seed(0)
    msh = MeanScaleHyperprior(128, 192).eval()
    gen = torch.Generator().manual_seed(1)

    def z_hat(n: int) -> torch.Tensor:
        return torch.randint(-3, 4, (1, n, height // 64, width // 64), generator=gen).float()

    def y_hat(m: int) -> torch.Tensor:
        return torch.randn(1, m, height // 16, width // 16, generator=gen) * 2

    return [
        (
            f"h_s default (N={net.N}, M={net.M}) + gains",
            net.h_s,
            net.z_gain_inv[net.rate].detach(),
            z_hat(net.N),
            [net.M, net.M],
        ),
        ("h_s mbt2018-mean (N=128, M=192)", msh.h_s, None, z_hat(128), [192, 192]),
        (f"g_s default (N={net.N}, M={net.M})", net.g_s, None, y_hat(net.M), None),
        ("g_s mbt2018-mean (N=128, M=192)", msh.g_s, None, y_hat(192), None),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="768x512", help="image WxH (a multiple of 64)")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--only", choices=["prior", "synthesis"], default=None)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    threads = [int(t) for t in args.threads.split(",")]
    print(f"{width}x{height} image; kernels: {engine.available_kernels()}")
    header = f"{'network':40} {'threads':>7} {'torch ms':>9} {'engine ms':>9}"
    print(f"{header} {'engine/torch':>12} {'max |diff|':>10}")
    for name, module, gain, x, split in networks((height, width)):
        if args.only is not None and name.startswith("h_s") != (args.only == "prior"):
            continue
        program = engine.compile(module, input_gain=gain, split=split)
        x_np = x.numpy()
        scale = torch.ones(x.shape[1]) if gain is None else gain

        def torch_path(
            module: nn.Module = module,
            x: torch.Tensor = x,
            scale: torch.Tensor = scale,
            split: list[int] | None = split,
        ) -> tuple[torch.Tensor, ...]:
            with torch.no_grad():
                y = module(x * scale.reshape(1, -1, 1, 1))
                return (y,) if split is None else y.split(split, 1)

        def engine_path(
            t: int, program: engine.Program = program, x_np: np.ndarray = x_np
        ) -> tuple[np.ndarray, ...]:
            got = engine.run(program, x_np, threads=t)
            return got if isinstance(got, tuple) else (got,)

        for t in threads:
            torch.set_num_threads(t)
            torch_s, engine_s = best_of(args.repeat, torch_path, lambda t=t: engine_path(t))
            diff = max(
                float(np.abs(g - w.numpy()).max())
                for g, w in zip(engine_path(t), torch_path(), strict=True)
            )
            print(
                f"{name:40} {t:>7} {torch_s * 1e3:>9.2f} {engine_s * 1e3:>9.2f} "
                f"{engine_s / torch_s:>11.2f}x {diff:>10.2e}"
            )


if __name__ == "__main__":
    main()
