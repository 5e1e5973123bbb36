"""Bjøntegaard deltas of each TEST curve against the ANCHOR: BD-rate (percent of bits saved
at equal quality; negative is better) and BD-PSNR (dB gained at equal rate), computed by the
bjontegaard package (pchip interpolation by default, as the JVET/JCT-VC common test
conditions' spreadsheet).
"""

from __future__ import annotations

import argparse
import json

HELP = "Bjøntegaard delta rate and PSNR of results against an anchor"

EPILOG = """examples:
  tinify bdrate jpeg.json default.json webp.json
  tinify bdrate jpeg.json default.json --metric ms-ssim --method akima --json
"""


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("anchor", metavar="ANCHOR.json")
    parser.add_argument("tests", nargs="+", metavar="TEST.json")
    parser.add_argument(
        "--metric", choices=("psnr", "ms-ssim"), default="psnr", help="(default: %(default)s)"
    )
    parser.add_argument(
        "--method",
        choices=("pchip", "akima", "cubic"),
        default="pchip",
        help="interpolation (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from tinify.evaluation.bdrate import bd_psnr, bd_rate
    from tinify.evaluation.results import load_results

    anchor = load_results(args.anchor)
    rows = []
    for path in args.tests:
        test = load_results(path)
        rate, note = bd_rate(anchor, test, args.metric, args.method, with_note=True)
        quality, _ = bd_psnr(anchor, test, args.metric, args.method, with_note=True)
        rows.append(
            {"name": test["name"], "file": path, "bd-rate": rate, "bd-psnr": quality, "note": note}
        )
    if args.json:
        print(
            json.dumps(
                {
                    "anchor": anchor["name"],
                    "metric": args.metric,
                    "method": args.method,
                    "tests": rows,
                },
                indent=2,
            )
        )
        return 0
    unit = "BD-PSNR" if args.metric == "psnr" else "BD-MS-SSIM"
    width = max(len(r["name"]) for r in rows)
    print(f"anchor: {anchor['name']} ({args.metric}, {args.method})")
    print(f"{'test':<{width}}  {'BD-rate':>9}  {unit:>10}")
    for r in rows:
        print(
            f"{r['name']:<{width}}  {r['bd-rate']:>8.2f}%  {r['bd-psnr']:>7.3f} dB"
            + (f"  ({r['note']})" if r["note"] else "")
        )
    return 0
