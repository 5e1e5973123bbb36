"""Autoregressive (raster-scan context) models: CompressAI and tinify side by side.

For each model, one set of weights (randomly initialised, the analysis transform's last layer
scaled so that the latents have realistic spread, then ``update()``) is loaded into both
libraries, and both code the same 768x512 natural image (a centre crop of one of the
development photographs) at ``torch.set_num_threads(1)``. Printed per model: whole encode and
decode times, the autoregressive decode step alone (CompressAI's per-position Python loop
against tinify's Rust loop), bytes and PSNR of both (the weights are random, so the PSNR only
shows that both libraries reconstruct the same image), and for mbt2018 tinify's decode time
against its mbt2018-mean decode of the same size.

Run:  python benches/bench_autoregressive.py [--image PATH] [--models mbt2018-192,cheng2020-anchor]
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

import tinify.models as tm
from tinify.autoregressive import RasterScanCoder

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "photos"

# name -> (CompressAI class name, tinify class, kwargs, g_a layer to scale, its gain). The gains
# give y streams of about 0.5 bit per pixel on the default photograph.
_MBT = "JointAutoregressiveHierarchicalPriors"
MODELS: dict[str, tuple[str, type, dict, str, float]] = {
    "mbt2018-192": (
        _MBT,
        tm.JointAutoregressiveHierarchicalPriors,
        {"N": 192, "M": 192},
        "g_a.6",
        4.0,
    ),
    "mbt2018-320": (
        _MBT,
        tm.JointAutoregressiveHierarchicalPriors,
        {"N": 192, "M": 320},
        "g_a.6",
        4.0,
    ),
    "cheng2020-anchor": ("Cheng2020Anchor", tm.Cheng2020Anchor, {"N": 192}, "g_a.6", 2.0),
}


def load_image(path: Path | None, height: int = 512, width: int = 768) -> torch.Tensor:
    """A centre crop of a photograph as a (1, 3, H, W) tensor in [0, 1]; synthetic if none."""
    if path is None:
        candidates = sorted(PHOTOS.glob("*.png")) if PHOTOS.is_dir() else []
        path = candidates[0] if candidates else None
    if path is None:
        torch.manual_seed(0)
        smooth = nn.functional.interpolate(
            torch.rand(1, 3, height // 16, width // 16), size=(height, width), mode="bicubic"
        )
        return (smooth + 0.05 * torch.randn(1, 3, height, width)).clamp(0, 1)
    from PIL import Image

    image = Image.open(path).convert("RGB")
    left, top = (image.width - width) // 2, (image.height - height) // 2
    array = np.asarray(image.crop((left, top, left + width, top + height)), dtype=np.float32) / 255
    return torch.from_numpy(array).permute(2, 0, 1)[None].contiguous()


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def psnr(x: torch.Tensor, x_hat: torch.Tensor) -> float:
    mse = torch.mean((x - x_hat.clamp(0, 1)) ** 2).item()
    return 10 * math.log10(1 / mse)


@torch.no_grad()
def bench(name: str, x: torch.Tensor, repeat: int, scale: float | None) -> None:
    import compressai.models as cm

    cai_name, tinify_cls, kwargs, last_layer, gain = MODELS[name]
    scale = gain if scale is None else scale
    torch.manual_seed(0)
    theirs = getattr(cm, cai_name)(**kwargs).eval()
    # Random weights quantize almost every latent to zero: scale the last analysis layer.
    layer = dict(theirs.named_modules())[last_layer]
    layer.weight.mul_(scale)
    layer.bias.mul_(scale)
    theirs.update(force=True)
    ours = tinify_cls(**kwargs).eval()
    ours.load_state_dict(theirs.state_dict())
    pixels = x.shape[-2] * x.shape[-1]

    t_cai_enc, cai_out = timed(lambda: theirs.compress(x))
    t_cai_dec, cai_dec = timed(lambda: theirs.decompress(cai_out["strings"], cai_out["shape"]))
    t_enc, out = timed(lambda: ours.compress(x), repeat)
    t_dec, dec = timed(lambda: ours.decompress(out["strings"], out["shape"]), repeat)

    # The autoregressive step alone: CompressAI's loop against tinify's, same params.
    z_hat = ours.entropy_bottleneck.decompress(out["strings"][1], out["shape"])
    params = ours.h_s(z_hat)
    m = ours.M
    y_hat = torch.zeros(1, m, params.shape[2] + 4, params.shape[3] + 4)
    t_cai_ar, _ = timed(
        lambda: theirs._decompress_ar(
            cai_out["strings"][0][0], y_hat, params, params.shape[2], params.shape[3], 5, 2
        )
    )
    coder = RasterScanCoder(
        ours.context_prediction, ours.entropy_parameters, ours.gaussian_conditional
    )
    t_ar, _ = timed(lambda: coder.decode(out["strings"][0], params), repeat)

    def size(o):
        return sum(len(s) for group in o["strings"] for s in group)

    y_bpp = 8 * len(out["strings"][0][0]) / pixels
    print(f"\n{name}  ({x.shape[-1]}x{x.shape[-2]}, y stream {y_bpp:.2f} bpp)")
    print(f"  {'':22}{'compressai':>12}{'tinify':>12}{'ratio':>9}")
    for label, a, b in [
        ("encode (s)", t_cai_enc, t_enc),
        ("decode (s)", t_cai_dec, t_dec),
        ("autoregressive step (s)", t_cai_ar, t_ar),
    ]:
        print(f"  {label:<22}{a:>12.3f}{b:>12.3f}{a / b:>8.1f}x")
    print(
        f"  {'bytes':<22}{size(cai_out):>12,}{size(out):>12,}{size(out) / size(cai_out) - 1:>+9.2%}"
    )
    print(f"  {'PSNR (dB)':<22}{psnr(x, cai_dec['x_hat']):>12.3f}{psnr(x, dec['x_hat']):>12.3f}")
    if isinstance(ours, tm.Cheng2020Anchor):
        return
    # mbt2018-mean of the same size: what the serial loop adds to tinify's decode.
    mean = tm.MeanScaleHyperprior(N=ours.N, M=ours.M).eval()
    mean.update(force=True)
    mean_out = mean.compress(x)
    t_mean_dec, _ = timed(lambda: mean.decompress(mean_out["strings"], mean_out["shape"]), repeat)
    ratio = t_dec / t_mean_dec
    print(f"  tinify decode / tinify mbt2018-mean decode ({t_mean_dec:.3f} s): {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--image", type=Path, default=None, help="PNG to centre-crop (default: first photo)"
    )
    parser.add_argument(
        "--models", default=",".join(MODELS), help="comma-separated subset of " + ", ".join(MODELS)
    )
    parser.add_argument("--size", default="768x512", help="crop WxH (multiples of 64)")
    parser.add_argument("--repeat", type=int, default=3, help="tinify runs per timing (best kept)")
    parser.add_argument(
        "--scale",
        type=float,
        default=None,
        help="gain on the last analysis layer (default: per model)",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    width, height = (int(v) for v in args.size.split("x"))
    x = load_image(args.image, height, width)
    for name in args.models.split(","):
        bench(name, x, args.repeat, args.scale)


if __name__ == "__main__":
    main()
