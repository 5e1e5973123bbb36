"""The quality of a classical codec closest to a target bpp, PSNR or MS-SSIM on one image,
with CompressAI's ``find_close`` arguments and output, found by
:func:`tinify.evaluation.find_closest_quality`.

.. code-block:: none

    python -m tinify.utils.find_close webp photo.png 0.5 -m bpp
    python -m tinify.utils.find_close jpeg photo.png 35 -m psnr-rgb --save

It prints ``metric: value`` lines (bpp, encoding_time, decoding_time, psnr-rgb) for the
quality found; ``--save`` writes the decoded image as ``output_CODEC_qQUALITY.png``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from tinify.utils._shell import run

__all__ = ["main", "setup_args"]

PROG = "python -m tinify.utils.find_close"

_CODECS = ("jpeg", "webp", "avif", "jxl")
_EXTERNAL = ("jpeg2000", "bpg", "vtm", "hm", "av1")


def setup_args() -> argparse.ArgumentParser:
    """CompressAI's parser: ``CODEC IMAGE TARGET [-m bpp|psnr-rgb|ms-ssim-rgb] [--save]``."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Find the codec quality closest to a target metric."
    )
    codecs = parser.add_subparsers(dest="codec", help="codec")
    codecs.required = True
    parser.add_argument("image", type=str, help="the image file")
    parser.add_argument("target", type=float, help="the value to approach")
    parser.add_argument(
        "-m",
        "--metric",
        type=str,
        choices=["bpp", "psnr-rgb", "ms-ssim-rgb"],
        default="bpp",
        help="what the target measures (default: %(default)s)",
    )
    parser.add_argument("--save", action="store_true", help="save the decoded image")
    for name in _CODECS:
        sub = codecs.add_parser(name, help=name.upper())
        if name == "avif":
            sub.add_argument("--speed", type=int, default=4, help="0 (best) to 10 (default: 4)")
        if name == "jxl":
            sub.add_argument("--effort", type=int, default=7, help="1 to 10 (best) (default: 7)")
    for name in _EXTERNAL:
        codecs.add_parser(name, help=f"{name.upper()} (not supported)")
    return parser


def _main(argv: list[str]) -> None:
    import io

    from PIL import Image

    from tinify.evaluation.classical import encode_image
    from tinify.evaluation.find_close import find_closest_quality

    parser = setup_args()
    args, unknown = parser.parse_known_args(argv)
    if args.codec in _EXTERNAL:
        raise ValueError(
            f"{args.codec} needs an external program, which tinify does not drive; "
            f"choose one of {', '.join(_CODECS)}"
        )
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    options = {"speed": getattr(args, "speed", 4), "effort": getattr(args, "effort", 7)}

    def report(quality: int, values: dict[str, float]) -> None:
        sys.stderr.write(
            f"\rtarget {args.metric}: {args.target:.4f} | "
            f"value: {values[args.metric]:.4f} | q: {quality}"
        )
        sys.stderr.flush()

    quality, values = find_closest_quality(
        args.codec, args.image, args.target, args.metric, on_probe=report, **options
    )
    sys.stderr.write("\n")
    for key, value in values.items():
        print(f"{key}: {value:.4f}")
    if args.save:
        with Image.open(args.image) as opened:
            data = encode_image(args.codec, opened.convert("RGB"), quality, **options)
        with Image.open(io.BytesIO(data)) as decoded:
            decoded.convert("RGB").save(f"output_{args.codec}_q{quality}.png")


def main(argv: Iterable[str] | None = None) -> None:
    """Runs the command on ``argv`` (default ``sys.argv[1:]``); exits non-zero on an error."""
    run(PROG, _main, argv)


if __name__ == "__main__":
    main()
