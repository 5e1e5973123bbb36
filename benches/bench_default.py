"""The shipped default model beside Pillow's JPEG, WebP and AVIF on one photograph.

A 768x512 centre crop of a photograph held out of training (``seeding.png`` by default) is
compressed to ``.tfy`` bytes and decoded with :func:`tinify.compress` /
:func:`tinify.decompress` at each requested quality, with torch on 1 and on 2 threads (best of
``--repeat``; the model is loaded and its weights digest cached before timing, as in a process
that codes many files). For each of those points, JPEG (optimize=True), WebP (method=6) and AVIF
(speed 4) are run through :func:`tinify.evaluation.classical.bench_codec` at the Pillow quality
whose file is closest in bpp, and their encode and decode times (best of ``--repeat``) printed
beside tinify's, with the ratio tinify / codec.

Run:  python benches/bench_default.py [--image PATH] [--qualities 1,3,5] [--repeat 3]
                                      [--codecs jpeg,webp,avif | --codecs none]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import tinify
from tinify.evaluation.classical import bench_codec
from tinify.evaluation.metrics import psnr
from tinify.zoo import default

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_set import PHOTOS, centre_crop

CODECS = ("jpeg", "webp", "avif")
# Pillow qualities searched for the point closest in bpp to tinify's.
SEARCH = tuple(range(5, 100, 5))


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    """The shortest of ``repeat`` wall-clock times of ``fn()``, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def photograph(path: Path | None, width: int, height: int) -> Image.Image:
    """The centre crop of ``path`` (default: the held-out ``seeding.png``), 8-bit RGB."""
    path = path or PHOTOS / "seeding.png"
    with Image.open(path) as image:
        return centre_crop(image.convert("RGB"), width, height)


def tensor(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 255


def closest_point(codec: str, png: Path, bpp: float, repeat: int) -> dict[str, float]:
    """The codec's point (over :data:`SEARCH`) closest in bpp to ``bpp``, timed best of
    ``repeat``."""
    sweep = bench_codec(codec, [png], SEARCH)["results"]
    i = int(np.argmin([abs(b - bpp) for b in sweep["bpp"]]))
    runs = [bench_codec(codec, [png], [SEARCH[i]])["results"] for _ in range(repeat)]
    return {
        "quality": SEARCH[i],
        "bpp": sweep["bpp"][i],
        "psnr": sweep["psnr-rgb"][i],
        "encode": min(r["encoding_time"][0] for r in runs),
        "decode": min(r["decoding_time"][0] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, help="photograph to crop (default: seeding.png)")
    parser.add_argument("--size", default="768x512", help="WIDTHxHEIGHT of the crop")
    parser.add_argument(
        "--qualities", default=",".join(map(str, default.QUALITIES)), help="default-model qualities"
    )
    parser.add_argument("--threads", default="1,2", help="torch thread counts to time")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats (best is kept)")
    parser.add_argument(
        "--codecs",
        default=",".join(CODECS),
        help="classical codecs to time beside it ('none': tinify alone, in seconds)",
    )
    args = parser.parse_args()
    codecs = [c for c in args.codecs.split(",") if c and c != "none"]
    unknown = sorted(set(codecs) - set(CODECS))
    if unknown:
        parser.error(f"unknown codec(s) {', '.join(unknown)}: choose from {', '.join(CODECS)}")
    width, height = (int(v) for v in args.size.lower().split("x"))
    qualities = [int(q) for q in args.qualities.split(",")]
    threads = [int(t) for t in args.threads.split(",")]

    image = photograph(args.image, width, height)
    x = tensor(image)
    pixels = width * height
    print(f"{default.DEFAULT_NAME} on a {width}x{height} photograph, best of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "photo.png"
        image.save(png)
        for q in qualities:
            tinify.decompress(tinify.compress(image, quality=q))  # load and warm up
            timings = {}
            for t in threads:
                torch.set_num_threads(t)
                enc, data = best_of(args.repeat, lambda q=q: tinify.compress(image, quality=q))
                dec, decoded = best_of(args.repeat, lambda data=data: tinify.decompress(data))
                timings[t] = (enc, dec)
            bpp = 8 * len(data) / pixels
            quality_db = psnr(x, tensor(decoded))
            print(f"\nquality {q}: {len(data)} bytes, {bpp:.3f} bpp, PSNR {quality_db:.2f} dB")
            for t, (enc, dec) in timings.items():
                print(
                    f"  tinify, {t} thread(s): encode {enc * 1e3:7.1f} ms"
                    f"  decode {dec * 1e3:7.1f} ms"
                )
            enc1, dec1 = timings[threads[0]]
            for codec in codecs:
                p = closest_point(codec, png, bpp, args.repeat)
                print(
                    f"  {codec:5s} q={p['quality']:<3d} {p['bpp']:.3f} bpp {p['psnr']:6.2f} dB:"
                    f" encode {p['encode'] * 1e3:7.1f} ms  decode {p['decode'] * 1e3:7.1f} ms"
                    f"  (tinify/{codec} on {threads[0]} thread: encode {enc1 / p['encode']:5.1f}x,"
                    f" decode {dec1 / p['decode']:5.1f}x)"
                )


if __name__ == "__main__":
    main()
