"""Writes the evaluation set: 768x512 centre crops of the photographs held out of training.

The default model never sees these photographs (``recipes/default/heldout.txt``); every
rate-distortion figure of the README and of the closing notes is measured on these crops, with
``tinify eval`` and ``tinify bench``.

Run:  python benches/eval_set.py OUT_DIR [--photos DIR] [--size 768x512]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "data" / "photos"
HELDOUT = ROOT / "recipes" / "default" / "heldout.txt"


def heldout_names() -> list[str]:
    """File names of the held-out photographs, as the recipe lists them."""
    return [line.strip() for line in HELDOUT.read_text().splitlines() if line.strip()]


def centre_crop(image: Image.Image, width: int, height: int) -> Image.Image:
    """The ``width`` x ``height`` centre of ``image`` (portrait photos are turned first, so
    every crop is landscape)."""
    if image.height > image.width:
        image = image.transpose(Image.Transpose.ROTATE_90)
    if image.width < width or image.height < height:
        raise ValueError(f"{image.size} is smaller than the crop {width}x{height}")
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))


def write_eval_set(
    out: Path, photos: Path = PHOTOS, width: int = 768, height: int = 512
) -> list[Path]:
    """Writes the crops as PNG files into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in heldout_names():
        with Image.open(photos / name) as image:
            crop = centre_crop(image.convert("RGB"), width, height)
        path = out / name
        crop.save(path)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write the crops into")
    parser.add_argument("--photos", type=Path, default=PHOTOS, help="folder of the photographs")
    parser.add_argument("--size", default="768x512", help="WIDTHxHEIGHT of the crops")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    for path in write_eval_set(args.out, args.photos, width, height):
        print(path)


if __name__ == "__main__":
    main()
