"""Rate-distortion evaluation of a learned model on a folder of images, as CompressAI's
eval_model measures it (metrics on 8-bit RGB, MS-SSIM from pytorch-msssim), through tinify's
real .tfy path. Prints, or writes with -o, a results JSON in CompressAI's layout: name,
description, results {psnr-rgb, ms-ssim-rgb, bpp, bpp-file, encoding_time, decoding_time},
one value per quality. bpp counts the coded strings as CompressAI does; bpp-file the whole
.tfy file. Under torchrun the images are split across the ranks and rank 0 gathers, prints
and writes the results.
"""

from __future__ import annotations

import argparse
import json

HELP = "rate-distortion evaluation of a model on a folder of images (JSON)"

EPILOG = """examples:
  tinify eval images/                                  # the default model, all its qualities
  tinify eval images/ -m bmshj2018-hyperprior -q 1,2,3 -o hyperprior.json
  tinify eval images/ --checkpoint q1.pth.tar q2.pth.tar q3.pth.tar -o mine.json
  tinify eval images/ -m mbt2018-mean -q 3 --entropy-estimation
  torchrun --nproc_per_node=4 -m tinify eval images/ -m mbt2018 -q 1,2 -o mbt.json
"""


def qualities(text: str) -> list[int]:
    """``"1,2,3"`` → ``[1, 2, 3]``."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 1,2,3, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("no quality given")
    return values


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", nargs="+", metavar="DATASET", help="folder(s) or images")
    parser.add_argument("-m", "--model", metavar="ARCH", help="zoo architecture")
    parser.add_argument("-q", "--quality", type=qualities, help="qualities, e.g. 1,2,3")
    parser.add_argument(
        "--metric", choices=("mse", "ms-ssim"), default="mse", help="(default: %(default)s)"
    )
    parser.add_argument(
        "--checkpoint", nargs="+", metavar="PATH", help="checkpoints, one rate point each"
    )
    parser.add_argument(
        "--per-image",
        action="store_true",
        help="also each image's results (in the JSON, and one file per image beside -o)",
    )
    parser.add_argument(
        "--entropy-estimation",
        action="store_true",
        help="bpp from forward()'s likelihoods instead of coding",
    )
    parser.add_argument("--name", help="the curve's name (default: ARCH-METRIC)")
    parser.add_argument("-o", "--output", metavar="JSON", help="write the results here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no printing")


def _models(args: argparse.Namespace) -> tuple[str, list]:
    from tinify import zoo

    if args.checkpoint:
        if args.quality and len(args.quality) != len(args.checkpoint):
            raise ValueError("give one quality per checkpoint, or none")
        qs = args.quality or [None] * len(args.checkpoint)
        builds = [
            (q, lambda p=p: zoo.load_checkpoint(p, args.model))
            for q, p in zip(qs, args.checkpoint, strict=True)
        ]
        return args.name or f"{args.model or 'checkpoint'}-{args.metric}", builds
    if args.model is None:
        from tinify.zoo import default

        qs = args.quality or list(default.QUALITIES)
        return args.name or default.DEFAULT_NAME, [
            (q, lambda q=q: default.load_default(q)) for q in qs
        ]
    if not args.quality:
        raise ValueError("give the qualities to evaluate with -q, e.g. -q 1,2,3")
    arch = zoo.canonical_architecture(args.model)
    return args.name or f"{arch}-{args.metric}", [
        (q, lambda q=q: zoo.model(arch, q, args.metric, pretrained=True).eval())
        for q in args.quality
    ]


def run(args: argparse.Namespace) -> int:
    from tinify import distributed
    from tinify.evaluation.images import list_images
    from tinify.evaluation.model import evaluate_rd
    from tinify.evaluation.results import write_per_image, write_results

    images = list_images(args.dataset)
    name, models = _models(args)
    distributed.init_from_env()
    with distributed.leaving():
        doc = evaluate_rd(
            models,
            images,
            name=name,
            entropy_estimation=args.entropy_estimation,
            per_image=args.per_image,
            progress=not args.quiet,
        )
    if doc is None:
        return 0
    if args.output:
        write_results(doc, args.output)
        if args.per_image:
            write_per_image(doc, args.output)
    if not args.quiet:
        print(json.dumps(doc, indent=2))
    return 0
