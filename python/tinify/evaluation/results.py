"""Results JSON in CompressAI's layout: ``{"name", "description", "results": {metric: [one
value per quality]}}``, read, averaged and written."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tinify.files import atomic_write

__all__ = [
    "METRICS",
    "average",
    "load_results",
    "results_json",
    "write_per_image",
    "write_results",
]

#: The metrics of CompressAI's results files, in their order.
METRICS = ("psnr-rgb", "ms-ssim-rgb", "bpp", "encoding_time", "decoding_time")


def average(per_image: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The mean of each metric over images (CompressAI's eval averages per image, not per
    pixel).

    Raises:
        ValueError: if ``per_image`` is empty or the images report different metrics.
    """
    if not per_image:
        raise ValueError("no results to average")
    keys = [k for k, v in per_image[0].items() if isinstance(v, (int, float))]
    for row in per_image:
        if not set(keys) <= set(row):
            raise ValueError(f"results differ in their metrics: {sorted(keys)} vs {sorted(row)}")
    return {k: math.fsum(float(row[k]) for row in per_image) / len(per_image) for k in keys}


def results_json(
    name: str, description: str, points: Sequence[Mapping[str, float]], **extra: Any
) -> dict[str, Any]:
    """A results document: one entry per metric, holding one value per rate point.

    Args:
        name: the curve's label (``"bmshj2018-hyperprior-mse"``, ``"jpeg"``).
        description: how it was measured (``"Inference (ans)"``).
        points: one mapping metric → value per rate point (quality), in order.
        **extra: further top-level keys (``qualities``, ``settings``, ``versions``, ...).

    Returns:
        ``{"name", "description", "results": {metric: [values]}, **extra}``; CompressAI's
        metrics come first, any others (``bpp-file``) after them.
    """
    keys = [k for k in METRICS if points and k in points[0]]
    keys += [k for k in (points[0] if points else {}) if k not in keys]
    results = {k: [float(p[k]) for p in points] for k in keys}
    return {"name": name, "description": description, "results": results, **extra}


def load_results(path: str | Path) -> dict[str, Any]:
    """Reads a results file (tinify's or CompressAI's) and checks its layout.

    Raises:
        ValueError: if the file is not JSON, or lacks ``name`` or ``results``, or its
            results are not lists of numbers of one length.
        OSError: if it cannot be read.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a JSON file ({err.msg} at line {err.lineno})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        raise ValueError(f'{path}: not a results file (no "results" object)')
    lengths = set()
    for key, values in doc["results"].items():
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            raise ValueError(f'{path}: "results.{key}" is not a list of numbers')
        lengths.add(len(values))
    if len(lengths) > 1:
        raise ValueError(f"{path}: the results' lists differ in length {sorted(lengths)}")
    doc.setdefault("name", path.stem)
    return doc


def write_results(doc: Mapping[str, Any], path: str | Path) -> Path:
    """Writes ``doc`` as indented JSON, atomically (a temporary file renamed into place)."""
    text = json.dumps(doc, indent=2) + "\n"
    return atomic_write(path, lambda f: f.write(text.encode()))


def write_per_image(doc: Mapping[str, Any], path: str | Path) -> list[Path]:
    """Writes each of ``doc["per-image"]`` to its own file beside ``path``, as CompressAI's
    ``--per-image`` does: ``<stem>-<source>.json``, each in CompressAI's per-image layout
    (``{"source", "name", "description", "results"}``). Returns the paths written.

    Raises:
        ValueError: if ``doc`` holds no per-image results.
    """
    entries = doc.get("per-image")
    if not entries:
        raise ValueError("the results hold no per-image entries (evaluate with per_image=True)")
    path = Path(path)
    return [
        write_results(entry, path.with_name(f"{path.stem}-{entry['source']}.json"))
        for entry in entries
    ]
