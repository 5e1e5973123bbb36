"""Rate-distortion evaluation of a classical codec (JPEG, WebP, AVIF, JPEG XL) through
Pillow, at its strongest ordinary settings (JPEG optimize=True and the smaller of baseline
and progressive; WebP method=6; AVIF speed 4; JPEG XL effort 7), measured as tinify eval
measures models. The results JSON (CompressAI's layout) records the settings and the library
versions.
"""

from __future__ import annotations

import argparse
import json

from tinify.cli.eval import qualities

HELP = "rate-distortion evaluation of JPEG, WebP, AVIF or JPEG XL (JSON)"

EPILOG = """examples:
  tinify bench jpeg images/ -o jpeg.json            # qualities 10,20,...,90
  tinify bench webp images/ -q 50,75,90 -o webp.json
  tinify bench avif images/ --speed 0 -o avif.json  # slowest, best
  tinify bench jxl images/ -o jxl.json              # pip install "tinify[jxl]"
"""


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("codec", choices=("jpeg", "webp", "avif", "jxl"))
    parser.add_argument("dataset", nargs="+", metavar="DATASET", help="folder(s) or images")
    parser.add_argument("-q", "--quality", type=qualities, help="qualities 1-100, e.g. 20,50,80")
    parser.add_argument("--speed", type=int, default=4, help="AVIF speed 0-10 (default: 4)")
    parser.add_argument("--effort", type=int, default=7, help="JPEG XL effort 1-10 (default: 7)")
    parser.add_argument(
        "--per-image",
        action="store_true",
        help="also each image's results (in the JSON, and one file per image beside -o)",
    )
    parser.add_argument("-o", "--output", metavar="JSON", help="write the results here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no printing")


def run(args: argparse.Namespace) -> int:
    from tinify.evaluation.classical import bench_codec
    from tinify.evaluation.images import list_images
    from tinify.evaluation.results import write_per_image, write_results

    doc = bench_codec(
        args.codec,
        list_images(args.dataset),
        args.quality,
        speed=args.speed,
        effort=args.effort,
        per_image=args.per_image,
        progress=not args.quiet,
    )
    if args.output:
        write_results(doc, args.output)
        if args.per_image:
            write_per_image(doc, args.output)
    if not args.quiet:
        print(json.dumps(doc, indent=2))
    return 0
