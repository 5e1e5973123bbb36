"""Decompress .tfy files into images.

Each FILE may be a file, a folder (searched recursively for .tfy files) or a glob. Without -o,
photo.tfy becomes photo.png beside it; -o names the output file (one input; its suffix picks
the format) or a folder. An existing output is never overwritten without -f. The model is the
one the file's header names (the shipped default, or CompressAI's published weights); files
made with a model of one's own need its --checkpoint.
"""

from __future__ import annotations

import argparse
from typing import Any

from tinify.cli._files import Job, plan, run_jobs

HELP = "decompress .tfy files to images"

EPILOG = """examples:
  tinify decompress photo.tfy                 # photo.png
  tinify decompress photo.tfy -o photo.webp   # any format Pillow writes
  tinify decompress coded/ -o decoded/ --format jpg
  tinify decompress photo.tfy --checkpoint mine.pth.tar
"""


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help=".tfy files, folders, globs")
    parser.add_argument("-o", "--output", metavar="OUT", help="output file or folder")
    parser.add_argument(
        "--format",
        default="png",
        help="image format of derived output names (default: %(default)s, lossless)",
    )
    parser.add_argument(
        "--checkpoint", metavar="PATH", help="the checkpoint the files were coded with"
    )
    parser.add_argument(
        "-m",
        "--model",
        metavar="ARCH",
        help="architecture of --checkpoint if its keys do not tell",
    )
    parser.add_argument("-f", "--force", action="store_true", help="overwrite existing outputs")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def run(args: argparse.Namespace) -> int:
    suffix = "." + args.format.lower().lstrip(".")
    jobs = plan(args.files, (".tfy",), args.output, suffix, force=args.force)
    model = args.model
    if args.checkpoint is not None:
        from tinify import zoo

        model = zoo.load_checkpoint(args.checkpoint, args.model)

    def work(job: Job) -> Any:
        # decompress_file checks the container before it imports torch (tinify.codec.container).
        from tinify.codec import decompress_file

        return decompress_file(job.src, job.dst, model=model, overwrite=args.force)

    def describe(job: Job, report: Any) -> str:
        return (
            f"{job.src} -> {job.dst}: {report.width}x{report.height} {report.mode}, "
            f"{report.bpp:.3f} bpp, {report.seconds:.2f} s"
        )

    return run_jobs("decompress", jobs, work, describe, quiet=args.quiet)
