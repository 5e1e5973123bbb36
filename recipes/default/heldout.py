"""Held-out figures of a training checkpoint of the default model, before any release.

Usage (from the repository root)::

    python benches/eval_set.py /tmp/heldout                     # once: the 768x512 crops
    python recipes/default/heldout.py runs/default/checkpoint.pth.tar /tmp/heldout

Builds the model a release would ship from the checkpoint (:func:`export.release_model`: EMA
weights, quantiles solved, tables built), codes every crop at every quality through the real
``.tfy`` path (:func:`tinify.evaluation.evaluate_rd`, what ``tinify eval`` runs) and prints the
rate points and the BD-rate against each classical codec in ``results/heldout-768x512/``. With
``-o`` it also writes the results JSON, so a cool-down branch and the main line can be compared
(``tinify bdrate a.json b.json``) without touching the shipped weights.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from export import release_model

from tinify.evaluation import bd_rate, evaluate_rd, list_images, load_results

RESULTS = Path(__file__).resolve().parents[2] / "results" / "heldout-768x512"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="training checkpoint (runs/.../*.pth.tar)")
    parser.add_argument("images", type=Path, help="folder of the held-out crops")
    parser.add_argument("-o", "--output", type=Path, help="write the results JSON here")
    parser.add_argument("--name", default=None, help="the curve's name (default: the file's)")
    parser.add_argument(
        "--raw", action="store_true", help="the raw weights instead of their moving average"
    )
    args = parser.parse_args(argv)

    net, step = release_model(args.checkpoint, raw=args.raw)
    images = list_images(args.images)
    name = args.name or f"{args.checkpoint.parent.name}-step{step}" + ("-raw" if args.raw else "")
    doc = evaluate_rd(
        [(rate + 1, lambda: net) for rate in range(net.num_rates)],
        images,
        name=name,
        progress=True,
    )
    assert doc is not None  # a single process always gets the document
    if args.output is not None:
        args.output.write_text(json.dumps(doc, indent=2) + "\n")
    results = doc["results"]
    print(f"{name}: {len(images)} images")
    for q, bpp, psnr in zip(doc["qualities"], results["bpp"], results["psnr-rgb"], strict=True):
        print(f"  q{q}: {bpp:.3f} bpp  {psnr:.2f} dB")
    for codec in ("jpeg", "webp", "avif"):
        path = RESULTS / f"{codec}.json"
        if path.exists():
            value, note = bd_rate(load_results(path), doc, with_note=True)
            print(f"  BD-rate vs {codec}: {value:+.1f} %" + (f"  ({note})" if note else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
