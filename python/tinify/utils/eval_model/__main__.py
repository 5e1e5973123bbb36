"""Rate–distortion evaluation of a model on a folder of images, with CompressAI's
``eval_model`` arguments and JSON, measured by :func:`tinify.evaluation.model.evaluate_rd`
(tinify's real coding path, as ``tinify eval``).

.. code-block:: none

    python -m tinify.utils.eval_model pretrained DATASET -a ARCH -q 1,2,3 [-m mse|ms-ssim]
    python -m tinify.utils.eval_model checkpoint DATASET -a ARCH -p A.pth.tar B.pth.tar

It prints ``{"name": "ARCH-METRIC", "description": "Inference (ans)", "results": {psnr-rgb,
ms-ssim-rgb, bpp, encoding_time, decoding_time}}``, one value per quality or checkpoint, and
with ``-d DIR`` writes it to ``DIR/(OUTPUT_FILE or ARCH-ans).json``; ``--per-image`` writes
``DIR/<subfolder>/<image>-<run>.json`` per image and run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from tinify.utils._shell import run

__all__ = ["main", "setup_args"]

PROG = "python -m tinify.utils.eval_model"

#: The results CompressAI's eval_model reports, in its order.
_METRICS = ("psnr-rgb", "ms-ssim-rgb", "bpp", "encoding_time", "decoding_time")

_SUFFIXES = (".pth.tar", ".tar.pth", ".pth", ".pt", ".tar", ".ckpt")


def _architectures() -> list[str]:
    from tinify import zoo

    names = list(zoo.ARCHITECTURES)
    names += [n for n in getattr(zoo, "image_models", {}) if n not in names]
    return names


def setup_args() -> argparse.ArgumentParser:
    """CompressAI's parser: sub-commands ``pretrained`` and ``checkpoint``, shared options."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("dataset", type=str, help="folder of images (searched recursively)")
    common.add_argument(
        "-a",
        "--architecture",
        type=str,
        choices=_architectures(),
        required=True,
        help="model architecture",
    )
    common.add_argument(
        "-c",
        "--entropy-coder",
        choices=["ans"],
        default="ans",
        help="entropy coder (default: %(default)s, tinify's only one)",
    )
    common.add_argument("--cuda", action="store_true", help="run the model on the GPU")
    common.add_argument(
        "--half", action="store_true", help="fp16 model (not supported: tinify codes in fp32)"
    )
    common.add_argument(
        "--entropy-estimation",
        action="store_true",
        help="bpp from forward()'s likelihoods instead of coding",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    common.add_argument(
        "-m",
        "--metric",
        type=str,
        choices=["mse", "ms-ssim"],
        default="mse",
        help="metric the model was trained for (default: %(default)s)",
    )
    common.add_argument(
        "-d",
        "--output_directory",
        type=str,
        default="",
        help="write the JSON (and --per-image files) here; default: print only",
    )
    common.add_argument(
        "-o",
        "--output-file",
        type=str,
        default="",
        help="JSON file name in -d (default: ARCH-ans.json)",
    )
    common.add_argument(
        "--per-image", action="store_true", help="also one JSON per image and run (needs -d)"
    )
    common.add_argument(
        "--vbr_quantstep",
        dest="vbr_quantstepsizes",
        type=str,
        default="10.0000,7.1715,5.1832,3.7211,2.6833,1.9305,1.3897,1.0000",
        help="quantization steps of a variable-rate model (not supported yet)",
    )
    common.add_argument(
        "--vbr_tr_stage",
        type=int,
        choices=[1, 2],
        default=2,
        help="training stage of a variable-rate model (not supported yet)",
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Evaluate a model on an image dataset (CompressAI's eval_model).",
    )
    sources = parser.add_subparsers(help="model source", dest="source")
    pretrained = sources.add_parser(
        "pretrained", parents=[common], help="CompressAI's published weights"
    )
    pretrained.add_argument(
        "-q",
        "--quality",
        dest="qualities",
        type=str,
        default="1",
        help="qualities, e.g. 1,2,3 (default: %(default)s)",
    )
    checkpoint = sources.add_parser("checkpoint", parents=[common], help="checkpoint files")
    checkpoint.add_argument(
        "-p",
        "--path",
        dest="checkpoint_paths",
        type=str,
        nargs="*",
        required=True,
        help="checkpoints, one rate point each",
    )
    checkpoint.add_argument(
        "--no-update",
        action="store_true",
        help="keep the checkpoint's CDF tables (default: rebuild them, update(force=True))",
    )
    return parser


def _stem(path: str) -> str:
    name = Path(path).name
    return next((name[: -len(s)] for s in _SUFFIXES if name.endswith(s)), Path(name).stem)


def _runs(args: argparse.Namespace) -> list[tuple[str, int | None, Callable[[], Any]]]:
    """``(run name, quality, build)`` per rate point, in CompressAI's order."""
    import torch

    from tinify import zoo

    device = "cuda" if args.cuda and torch.cuda.is_available() else "cpu"
    desc = "entropy-estimation" if args.entropy_estimation else args.entropy_coder

    def pretrained(quality: int) -> Any:
        net = zoo.model(args.architecture, quality, args.metric, pretrained=True)
        return net.eval().to(device)

    def checkpoint(path: str) -> Any:
        net = zoo.load_checkpoint(path, args.architecture)
        if not args.no_update:
            net.update(force=True)
        return net.eval().to(device)

    if args.source == "pretrained":
        qualities = sorted(int(q) for q in args.qualities.split(",") if q)
        if not qualities:
            raise ValueError("give the qualities with -q, e.g. -q 1,2,3")
        return [
            (f"{args.architecture}-{args.metric}-{q}-{desc}", q, partial(pretrained, q))
            for q in qualities
        ]
    if not args.checkpoint_paths:
        raise ValueError("give the checkpoints with -p PATH [PATH ...]")
    return [(f"{_stem(p)}-{desc}", None, partial(checkpoint, p)) for p in args.checkpoint_paths]


def _write_per_image(
    doc: dict[str, Any], args: argparse.Namespace, images: list[Path], runs: list[str]
) -> None:
    # CompressAI's layout: one file per image and run, scalar results, in the image's
    # subfolder of the dataset mirrored under -d.
    desc = "entropy-estimation" if args.entropy_estimation else args.entropy_coder
    root = Path(args.dataset)
    for image, entry in zip(images, doc["per-image"], strict=True):
        folder = Path(args.output_directory) / image.parent.relative_to(root)
        folder.mkdir(parents=True, exist_ok=True)
        for k, run_name in enumerate(runs):
            one = {
                "source": image.stem,
                "name": args.architecture,
                "description": f"Inference ({desc})",
                "results": {m: entry["results"][m][k] for m in _METRICS},
            }
            (folder / f"{image.stem}-{run_name}.json").write_text(json.dumps(one, indent=2))


def _main(argv: list[str]) -> None:
    from tinify.evaluation.images import list_images
    from tinify.evaluation.model import evaluate_rd

    parser = setup_args()
    args = parser.parse_args(argv)
    if args.source not in ("pretrained", "checkpoint"):
        parser.error("missing 'checkpoint' or 'pretrained' source")
    if args.half:
        raise ValueError("--half is not supported: tinify's models code in float32")
    if args.architecture.endswith("-vbr"):
        raise ValueError(
            f"{args.architecture}: variable-rate models are not evaluated by this command yet"
        )
    if args.per_image and not args.output_directory:
        raise ValueError("--per-image needs an output directory (-d DIR)")
    if not Path(args.dataset).is_dir():
        raise FileNotFoundError(f"no such directory: {args.dataset}")
    images = list_images(args.dataset)
    runs = _runs(args)
    for run_name, _, _ in runs:
        print(f"Using trained model {run_name}", file=sys.stderr)
    doc = evaluate_rd(
        [(quality, build) for _, quality, build in runs],
        images,
        name=f"{args.architecture}-{args.metric}",
        entropy_estimation=args.entropy_estimation,
        per_image=args.per_image,
        progress=args.verbose,
    )
    assert doc is not None  # a single process is rank 0
    output = {
        "name": doc["name"],
        "description": doc["description"],
        "results": {m: doc["results"][m] for m in _METRICS},
    }
    if args.output_directory:
        folder = Path(args.output_directory)
        folder.mkdir(parents=True, exist_ok=True)
        desc = "entropy estimation" if args.entropy_estimation else args.entropy_coder
        stem = args.output_file or f"{args.architecture}-{desc}"
        (folder / stem).with_suffix(".json").write_text(json.dumps(output, indent=2))
        if args.per_image:
            _write_per_image(doc, args, images, [r for r, _, _ in runs])
    print(json.dumps(output, indent=2))


def main(argv: Iterable[str] | None = None) -> None:
    """Runs the command on ``argv`` (default ``sys.argv[1:]``); exits non-zero on an error."""
    run(PROG, _main, argv)


if __name__ == "__main__":
    main()
