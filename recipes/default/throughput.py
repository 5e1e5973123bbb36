"""Training throughput of the default model on this machine: fp32, bf16 autocast, channels_last,
torch.compile.

Usage (from the repository root)::

    python recipes/default/throughput.py --threads 1 --steps 30

Times ``--steps`` training steps (forward, loss, backward, Adam) of the recipe's model on
random 128x128 crops after a few warm-up steps, for each variant, and prints steps/s and the
final loss of each (same seed, same data: a variant that is fast but trains worse shows here).
Variants: ``fp32``, ``bf16`` (autocast everywhere), ``bf16-transforms`` (autocast on g_a and
g_s only), ``channels_last``, ``compile``; join them with ``+`` (``bf16-transforms+compile``).
The warm-up steps take torch.compile's compile time, which the steps/s leave out and the
script prints.
"""

from __future__ import annotations

import argparse
import time

import torch

from tinify.models.gain import GainedMeanScaleHyperprior
from tinify.train.loss import RateDistortionLoss


def _photo_crops(batch: int, patch: int) -> torch.Tensor:
    """Fixed crops of the first training photograph (realistic statistics for the loss)."""
    from tinify.train.data import load_uint8

    image = load_uint8("../shared/data/photos/aitzgorri.png").float().div(255)
    return torch.stack([image[:, 64 * i : 64 * i + patch, 200 : 200 + patch] for i in range(batch)])


class _Autocast(torch.nn.Module):
    """Runs ``inner`` under bf16 autocast and returns float32: the transforms in bf16, the
    entropy models (likelihoods far in the tails) in float32."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.inner(x).float()


def run(variant: str, steps: int, batch: int, patch: int) -> tuple[float, float]:
    torch.manual_seed(0)
    net = GainedMeanScaleHyperprior(64, 96).train()
    net.mixed_quantization = True
    x = _photo_crops(batch, patch)
    parts = set(variant.split("+"))
    if "channels_last" in parts:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    forward = net
    if "bf16-transforms" in parts:
        net.g_a = _Autocast(net.g_a)
        net.g_s = _Autocast(net.g_s)
    if "compile" in parts:
        forward = torch.compile(net)
    criterion = RateDistortionLoss(net.lmbda(2))
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    autocast = "bf16" in parts
    loss = torch.zeros(())
    warm = 0.0
    start = time.perf_counter()
    for i in range(steps + 3):
        if i == 3:
            warm = time.perf_counter() - start
            start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            out = forward(x, rate=2)
        out["x_hat"] = out["x_hat"].float()
        loss = criterion(out, x)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    rate = steps / (time.perf_counter() - start)
    print(f"{variant}: {warm:.1f} s for the 3 warm-up steps (compile included)", flush=True)
    return rate, float(loss.detach())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--patch", type=int, default=128)
    p.add_argument("--variants", nargs="+", default=["fp32", "bf16", "channels_last"])
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    base = None
    for v in a.variants:
        rate, loss = run(v, a.steps, a.batch, a.patch)
        base = base or rate
        print(f"{v:14s} {rate:6.2f} steps/s  x{rate / base:4.2f}  loss after {a.steps}: {loss:.4f}")


if __name__ == "__main__":
    main()
