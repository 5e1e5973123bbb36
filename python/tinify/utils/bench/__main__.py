"""Rate–distortion evaluation of a classical codec on a folder of images, with CompressAI's
``bench`` arguments and JSON, measured by :func:`tinify.evaluation.bench_codec` (as ``tinify
bench``).

.. code-block:: none

    python -m tinify.utils.bench jpeg DATASET -q 10,50,90 [--metrics psnr-rgb ms-ssim-rgb]

It prints ``{"name": "JPEG", "description", "results": {metric: [one value per quality]}}``.
The codecs are those Pillow links (JPEG, WebP, AVIF, JPEG XL), each at its strongest ordinary
settings (JPEG ``optimize=True``, WebP ``method=6``), so the files are a little smaller than
CompressAI's plain Pillow calls. CompressAI's external-binary codecs (JPEG 2000, BPG, TFCI,
VTM, HM, AV1) are refused with an error.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path

from tinify.utils._shell import run

__all__ = ["main", "setup_args"]

PROG = "python -m tinify.utils.bench"

#: Sub-command → the name CompressAI gives the curve.
NAMES = {"jpeg": "JPEG", "webp": "WebP", "avif": "AVIF", "jxl": "JPEG-XL"}

#: CompressAI's codecs that run external programs, which tinify does not drive.
EXTERNAL = ("jpeg2000", "bpg", "tfci", "vtm", "hm", "av1")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", type=str, help="folder of images (searched recursively)")
    parser.add_argument(
        "-j",
        "--num-jobs",
        type=int,
        metavar="N",
        default=1,
        help="parallel jobs (accepted; tinify measures in one process)",
    )
    parser.add_argument(
        "-q",
        "--qps",
        dest="qps",
        type=str,
        default="75",
        help="qualities 1-100, e.g. 10,50,90 (default: %(default)s)",
    )
    parser.add_argument(
        "--metrics",
        dest="metrics",
        default=["psnr-rgb", "ms-ssim-rgb"],
        nargs="+",
        help="distortion metrics (leave out ms-ssim-rgb for images of 160 pixels or less)",
    )


def setup_args() -> argparse.ArgumentParser:
    """CompressAI's parser: one sub-command per codec, each with the common options."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Collect the rate-distortion metrics of a classical codec."
    )
    codecs = parser.add_subparsers(dest="codec", help="codec")
    codecs.required = True
    for name, label in NAMES.items():
        sub = codecs.add_parser(name, help=label)
        _common(sub)
        if name == "avif":
            sub.add_argument("--speed", type=int, default=4, help="0 (best) to 10 (default: 4)")
        if name == "jxl":
            sub.add_argument("--effort", type=int, default=7, help="1 to 10 (best) (default: 7)")
    for name in EXTERNAL:
        sub = codecs.add_parser(name, help=f"{name.upper()} (not supported)")
        _common(sub)
    return parser


def _main(argv: list[str]) -> None:
    from tinify.evaluation.classical import bench_codec
    from tinify.evaluation.images import list_images

    parser = setup_args()
    args, unknown = parser.parse_known_args(argv)  # external codecs' own options, refused below
    if args.codec in EXTERNAL:
        raise ValueError(
            f"{args.codec} needs an external program, which tinify does not drive; "
            f"choose one of {', '.join(NAMES)}"
        )
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if not Path(args.dataset).is_dir():
        raise FileNotFoundError(f"no such directory: {args.dataset}")
    if args.num_jobs < 1:
        raise ValueError(f"--num-jobs must be >= 1, got {args.num_jobs}")
    try:
        qualities = sorted(int(q) for q in args.qps.split(",") if q)
    except ValueError:
        raise ValueError(f"-q expects integers like 10,50,90, got {args.qps!r}") from None
    doc = bench_codec(
        args.codec,
        list_images(args.dataset),
        qualities,
        speed=getattr(args, "speed", 4),
        effort=getattr(args, "effort", 7),
        metrics=args.metrics,
    )
    output = {"name": NAMES[args.codec], "description": doc["description"]}
    print(json.dumps(output | {"results": doc["results"]}, indent=2))


def main(argv: Iterable[str] | None = None) -> None:
    """Runs the command on ``argv`` (default ``sys.argv[1:]``); exits non-zero on an error."""
    run(PROG, _main, argv)


if __name__ == "__main__":
    main()
