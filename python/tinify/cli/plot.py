"""Plot rate-distortion curves (bpp against PSNR or MS-SSIM in dB) from results JSON files
written by tinify eval, tinify bench or CompressAI: one curve per file, labelled by its name.
Needs matplotlib (pip install "tinify[plot]").
"""

from __future__ import annotations

import argparse

HELP = "plot rate-distortion curves from results JSON files"

EPILOG = """examples:
  tinify plot default.json jpeg.json webp.json -o rd.png
  tinify plot *.json --metric ms-ssim -o rd-msssim.pdf --title Kodak
"""


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="+", metavar="RESULTS.json")
    parser.add_argument("-o", "--output", required=True, metavar="FIGURE", help=".png/.pdf/.svg")
    parser.add_argument(
        "--metric", choices=("psnr", "ms-ssim"), default="psnr", help="(default: %(default)s)"
    )
    parser.add_argument("--title", help="the figure's title")


def run(args: argparse.Namespace) -> int:
    from tinify.evaluation.plot import plot_rd

    plot_rd(args.results, args.output, args.metric, title=args.title)
    print(f"wrote {args.output}")
    return 0
