"""Compress images into .tfy files.

Each IMAGE may be a file, a folder (searched recursively for images) or a glob. Without -o,
photo.png becomes photo.tfy beside it; -o names the output file (one input) or a folder. An
existing output is never overwritten without -f. Without -m and --checkpoint, the default
model shipped with tinify codes the image; -m ARCH alone uses CompressAI's published weights
for that architecture (downloaded once into torch.hub's cache).
"""

from __future__ import annotations

import argparse
from typing import Any

from tinify.cli._files import Job, human_bytes, plan, run_jobs
from tinify.files import IMAGE_SUFFIXES

HELP = "compress images (files, folders, globs) to .tfy files"

EPILOG = """examples:
  tinify compress photo.png                  # photo.tfy, the default model
  tinify compress photo.png -q 5 -o small.tfy
  tinify compress 'shots/*.png' -o coded/    # one .tfy per image, in coded/
  tinify compress photo.png -m mbt2018-mean -q 3 --metric ms-ssim
  tinify compress photo.png --checkpoint mine.pth.tar   # a model of one's own
"""

#: Images the command picks up in folders.


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files, folders, globs")
    parser.add_argument(
        "-m",
        "--model",
        metavar="ARCH",
        help="zoo architecture (e.g. bmshj2018-hyperprior); default: tinify's shipped model",
    )
    parser.add_argument(
        "-q", "--quality", type=int, help="quality level (default: the model's default)"
    )
    parser.add_argument(
        "--metric",
        choices=("mse", "ms-ssim"),
        default="mse",
        help="which published weights of ARCH (default: %(default)s)",
    )
    parser.add_argument("--checkpoint", metavar="PATH", help="a checkpoint to code with")
    parser.add_argument("-o", "--output", metavar="OUT", help="output file or folder")
    parser.add_argument("-f", "--force", action="store_true", help="overwrite existing outputs")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def run(args: argparse.Namespace) -> int:
    from tinify import codec

    jobs = plan(args.images, IMAGE_SUFFIXES, args.output, ".tfy", force=args.force)
    model = args.model
    if args.checkpoint is not None:
        from tinify import zoo

        model = zoo.load_checkpoint(args.checkpoint, args.model)  # once for all the files

    def work(job: Job) -> Any:
        return codec.compress_file(
            job.src,
            job.dst,
            model,
            args.quality,
            metric=args.metric,
            overwrite=args.force,
        )

    def describe(job: Job, report: Any) -> str:
        return (
            f"{job.src} -> {job.dst}: {report.width}x{report.height} {report.mode}, "
            f"{human_bytes(report.bytes)}, {report.bpp:.3f} bpp, {report.seconds:.2f} s"
        )

    return run_jobs("compress", jobs, work, describe, quiet=args.quiet)
