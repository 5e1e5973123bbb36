"""Show the header of .tfy files: the model that coded the image (architecture, name,
quality, metric, weights digest), the image's size and colour mode, the latent shapes and the
size of each coded stream. Each file is read and checked once, as the decoder checks its
container (checksum, lengths, limits), but no image is decoded: torch is not loaded."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = "show the header of a .tfy file"

EPILOG = """examples:
  tinify info photo.tfy
  tinify info photo.tfy --json | jq .quality
"""


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help=".tfy files")
    parser.add_argument("--json", action="store_true", help="print JSON (one object per file)")


def describe(path: Path) -> dict:
    """The header of ``path`` as a JSON-ready dict, with the file's and streams' sizes."""
    from tinify import tfy

    size = path.stat().st_size
    if size > tfy.MAX_FILE:
        raise tfy.TfyError(f"{path} is larger than any .tfy file ({tfy.MAX_FILE} bytes)")
    header, strings = tfy.decode(path.read_bytes())
    pixels = header.height * header.width
    payload = sum(len(s[0]) for s in strings)
    return {
        "file": str(path),
        "bytes": size,
        **header.to_dict(),
        "streams": [len(s[0]) for s in strings],
        "bpp": 8 * size / pixels,
        "payload_bpp": 8 * payload / pixels,
    }


def _text(d: dict) -> str:
    model = d["model_name"] or "a model of the user's own"
    rows = [
        ("file", f"{d['file']} ({d['bytes']:,} bytes, {d['bpp']:.4f} bpp)"),
        ("format", f"tfy version {d['format_version']}"),
        ("model", f"{model}: {d['architecture']}"),
        ("quality", d["quality"]),
        ("metric", d["metric"]),
        ("weights", d["weights_sha256"] and f"sha256 {d['weights_sha256']}"),
        (
            "image",
            f"{d['width']}x{d['height']} {d['mode']}, {d['bit_depth']} bits"
            + (
                f" (from {d['source_bit_depth']})"
                if d["source_bit_depth"] != d["bit_depth"]
                else ""
            ),
        ),
        ("padding", f"to a multiple of {d['pad_multiple']}"),
        ("shape", json.dumps(d["shape"])),
        ("streams", ", ".join(f"{n:,} B" for n in d["streams"]) + f" ({d['payload_bpp']:.4f} bpp)"),
    ]
    if d["alpha_bytes"] is not None:
        rows.append(("alpha", f"{d['alpha_bytes']:,} B (zlib)"))
    return "\n".join(f"  {k:<8} {'-' if v is None else v}" for k, v in rows)


def run(args: argparse.Namespace) -> int:
    infos = [describe(Path(f)) for f in args.files]
    if args.json:
        print(json.dumps(infos[0] if len(infos) == 1 else infos, indent=2))
    else:
        print("\n\n".join(_text(d) for d in infos))
    return 0
