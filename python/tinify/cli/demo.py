"""Compress a photograph with tinify's default model and decompress it again: prints the file
size, bits per pixel, PSNR and the encoding and decoding times, and writes the decoded image.
Without IMAGE, the sample photograph shipped with tinify's repository (assets/seeding.png) is
used when it can be found.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

HELP = "compress and decompress a photograph with the default model; print size, PSNR, times"

EPILOG = """examples:
  tinify demo assets/seeding.png
  tinify demo photo.jpg -q 5 -o decoded.png
"""


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", nargs="?", metavar="IMAGE", help="the photograph")
    parser.add_argument("-q", "--quality", type=int, help="quality (default: the model's)")
    parser.add_argument(
        "-o", "--output", default="decoded.png", help="decoded image (default: %(default)s)"
    )
    parser.add_argument("-f", "--force", action="store_true", help="overwrite the output")


def _sample() -> Path:
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "assets" / "seeding.png"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("give an IMAGE (the sample assets/seeding.png was not found)")


def run(args: argparse.Namespace) -> int:
    import tinify
    from tinify.evaluation.metrics import psnr
    from tinify.image import load_image

    src = Path(args.image) if args.image else _sample()
    out = Path(args.output)
    if out.exists() and not args.force:
        raise FileExistsError(f"{out} exists: use -f/--force to overwrite")
    x, info = load_image(src)
    start = time.perf_counter()
    data = tinify.compress(src, quality=args.quality)
    encode = time.perf_counter() - start
    start = time.perf_counter()
    decoded = tinify.decompress(data)
    decode = time.perf_counter() - start
    decoded.save(out)
    y, _ = load_image(decoded)
    height, width = info.size
    header = tinify.tfy.read_header(data)
    print(f"tinify: {src} ({width}x{height} {info.mode})")
    print(f"  model    {header.model_name}, quality {header.quality}")
    print(f"  file     {len(data):,} bytes, {8 * len(data) / (width * height):.3f} bpp")
    print(f"  PSNR     {psnr(x[:, :3], y[:, :3]):.2f} dB")
    print(f"  encode   {encode:.2f} s, decode {decode:.2f} s")
    print(f"  wrote    {out}")
    return 0
