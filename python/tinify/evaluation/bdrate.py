"""Bjøntegaard deltas (BD-rate, BD-PSNR) between rate–distortion curves, through the
maintained ``bjontegaard`` package."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any, Literal, overload

__all__ = ["METHODS", "bd_psnr", "bd_rate", "distortion"]

#: Interpolations of the ``bjontegaard`` package: ``"pchip"`` is the JCT-VC/JVET common test
#: conditions' spreadsheet, ``"akima"`` its authors' recommendation, ``"cubic"`` the original
#: third-order polynomial fit of VCEG-M33.
METHODS = ("pchip", "akima", "cubic")

_METRIC_KEYS = {"psnr": "psnr-rgb", "ms-ssim": "ms-ssim-rgb"}


def distortion(results: Mapping[str, Any], metric: str = "psnr") -> list[float]:
    """The distortion axis of a results document: PSNR in dB, or MS-SSIM in dB as CompressAI
    plots it (−10·log10(1 − v)).

    Raises:
        ValueError: for an unknown metric or a document without it.
    """
    if metric not in _METRIC_KEYS:
        raise ValueError(f"unknown metric {metric!r}, expected one of {tuple(_METRIC_KEYS)}")
    key = _METRIC_KEYS[metric]
    values = results.get("results", {}).get(key)
    if values is None:
        raise ValueError(f"results {results.get('name', '?')!r} have no {key!r}")
    if metric == "ms-ssim":
        return [-10 * math.log10(1 - v) if v < 1 else math.inf for v in values]
    return [float(v) for v in values]


def _curves(
    anchor: Mapping[str, Any], test: Mapping[str, Any], metric: str
) -> tuple[list[float], list[float], list[float], list[float]]:
    curves = []
    for doc in (anchor, test):
        rate = [float(v) for v in doc.get("results", {}).get("bpp", [])]
        dist = distortion(doc, metric)
        if len(rate) < 4 or len(rate) != len(dist):
            raise ValueError(
                f"results {doc.get('name', '?')!r} have {len(rate)} rate points; "
                "a Bjøntegaard delta needs at least 4"
            )
        curves += [rate, dist]
    return curves[0], curves[1], curves[2], curves[3]


def _call(
    function: str, anchor: Mapping[str, Any], test: Mapping[str, Any], metric: str, method: str
) -> tuple[float, str | None]:
    import bjontegaard

    if method not in METHODS:
        raise ValueError(f"unknown interpolation {method!r}, expected one of {METHODS}")
    rate_a, dist_a, rate_t, dist_t = _curves(anchor, test, metric)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = getattr(bjontegaard, function)(
            rate_a, dist_a, rate_t, dist_t, method=method, require_matching_points=False
        )
    note = "; ".join(str(w.message) for w in caught) or None
    return float(value), note


@overload
def bd_rate(
    anchor: Mapping[str, Any],
    test: Mapping[str, Any],
    metric: str = ...,
    method: str = ...,
    *,
    with_note: Literal[False] = ...,
) -> float: ...


@overload
def bd_rate(
    anchor: Mapping[str, Any],
    test: Mapping[str, Any],
    metric: str = ...,
    method: str = ...,
    *,
    with_note: Literal[True],
) -> tuple[float, str | None]: ...


def bd_rate(
    anchor: Mapping[str, Any],
    test: Mapping[str, Any],
    metric: str = "psnr",
    method: str = "pchip",
    *,
    with_note: bool = False,
) -> float | tuple[float, str | None]:
    """Bjøntegaard delta rate of ``test`` against ``anchor``, in percent (negative: the test
    needs fewer bits for the same quality).

    Args:
        anchor: a results document (:func:`tinify.evaluation.results.load_results`).
        test: another, on the same images.
        metric: ``"psnr"`` or ``"ms-ssim"`` (in dB).
        method: one of :data:`METHODS`.
        with_note: also return the package's warning (for example too little overlap of the
            curves), or None.

    Raises:
        ValueError: for fewer than 4 points, an unknown metric or method.
    """
    value, note = _call("bd_rate", anchor, test, metric, method)
    return (value, note) if with_note else value


@overload
def bd_psnr(
    anchor: Mapping[str, Any],
    test: Mapping[str, Any],
    metric: str = ...,
    method: str = ...,
    *,
    with_note: Literal[False] = ...,
) -> float: ...


@overload
def bd_psnr(
    anchor: Mapping[str, Any],
    test: Mapping[str, Any],
    metric: str = ...,
    method: str = ...,
    *,
    with_note: Literal[True],
) -> tuple[float, str | None]: ...


def bd_psnr(
    anchor: Mapping[str, Any],
    test: Mapping[str, Any],
    metric: str = "psnr",
    method: str = "pchip",
    *,
    with_note: bool = False,
) -> float | tuple[float, str | None]:
    """Bjøntegaard delta quality of ``test`` against ``anchor`` in dB (positive: better), on
    the axis :func:`distortion` gives. Arguments as :func:`bd_rate`."""
    value, note = _call("bd_psnr", anchor, test, metric, method)
    return (value, note) if with_note else value
