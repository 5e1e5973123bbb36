"""Pack the training photographs for a GPU session: the device machine receives at most 64 MiB
with the repository, so the photographs travel downscaled by FACTOR as lossless WebP.

Usage (from the repository root)::

    python recipes/default/gpu_pack.py            # -> runs/gpu-pack/*.webp (about 20 MiB)

At FACTOR 0.5 the 117 training photographs take about a quarter of their PNG size; a photograph
whose short side would fall under MIN_SIDE (the recipe's 256-pixel crops) is downscaled less, to
exactly MIN_SIDE. The GPU session trains on them without further downscaling: the coarse end of
the CPU sessions' x0.5-1 range, a deliberate difference recorded in README.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from tinify.train.data import image_files


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, default=Path("runs/gpu-pack"))
    p.add_argument("--factor", type=float, default=0.5)
    p.add_argument("--min-side", type=int, default=256, help="the crop size of gpu.sh")
    a = p.parse_args()
    held_out = Path("recipes/default/heldout.txt").read_text().split()
    a.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for folder in ("photos", "photos-extra"):
        for path in image_files(a.data / folder, exclude=held_out):
            with Image.open(path) as im:
                im = im.convert("RGB")
                factor = min(1.0, max(a.factor, a.min_side / min(im.size)))
                size = (round(im.width * factor), round(im.height * factor))
                small = im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            target = a.out / f"{path.stem}.webp"
            small.save(target, "WEBP", lossless=True, method=4)
            total += target.stat().st_size
    print(f"{a.out}: {total / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
