"""BD-rate and BD-PSNR agree with the reference: the classic VCEG-M33 computation (cubic fits
of log-rate against PSNR, integrated over the overlap), written out here with numpy, on the
bjontegaard package's own example curves."""

from __future__ import annotations

import numpy as np
import pytest

from tinify.evaluation.bdrate import bd_psnr, bd_rate

# bjontegaard's example_usage.py, test case 1 (x265 presets).
RATE_A = [9487.76, 4593.60, 2486.44, 1358.24]
PSNR_A = [40.037, 38.615, 36.845, 34.851]
RATE_T = [9787.80, 4469.00, 2451.52, 1356.24]
PSNR_T = [40.121, 38.651, 36.970, 34.987]


def _doc(name, rate, psnr):
    return {"name": name, "results": {"bpp": rate, "psnr-rgb": psnr}}


def _vcegm33_rate(r1, p1, r2, p2):
    c1, c2 = np.polyfit(p1, np.log10(r1), 3), np.polyfit(p2, np.log10(r2), 3)
    lo, hi = max(min(p1), min(p2)), min(max(p1), max(p2))
    i1, i2 = np.polyint(c1), np.polyint(c2)
    mean = np.polyval(i2, hi) - np.polyval(i2, lo) - np.polyval(i1, hi) + np.polyval(i1, lo)
    return (10 ** (mean / (hi - lo)) - 1) * 100


def _vcegm33_psnr(r1, p1, r2, p2):
    l1, l2 = np.log10(r1), np.log10(r2)
    c1, c2 = np.polyfit(l1, p1, 3), np.polyfit(l2, p2, 3)
    lo, hi = max(l1.min(), l2.min()), min(l1.max(), l2.max())
    i1, i2 = np.polyint(c1), np.polyint(c2)
    return (np.polyval(i2, hi) - np.polyval(i2, lo) - np.polyval(i1, hi) + np.polyval(i1, lo)) / (
        hi - lo
    )


def test_cubic_bd_rate_equals_vceg_m33():
    anchor, test = _doc("a", RATE_A, PSNR_A), _doc("t", RATE_T, PSNR_T)
    expected = _vcegm33_rate(*map(np.array, (RATE_A, PSNR_A, RATE_T, PSNR_T)))
    assert bd_rate(anchor, test, method="cubic") == pytest.approx(expected, abs=1e-9)
    expected = _vcegm33_psnr(*map(np.array, (RATE_A, PSNR_A, RATE_T, PSNR_T)))
    assert bd_psnr(anchor, test, method="cubic") == pytest.approx(expected, abs=1e-9)


def test_better_test_curve_has_negative_bd_rate_for_every_method():
    anchor, test = _doc("a", RATE_A, PSNR_A), _doc("t", RATE_T, PSNR_T)
    for method in ("pchip", "akima", "cubic"):
        assert -6 < bd_rate(anchor, test, method=method) < 0
        assert bd_psnr(anchor, test, method=method) > 0


def test_same_curve_has_zero_delta():
    anchor = _doc("a", RATE_A, PSNR_A)
    assert bd_rate(anchor, anchor) == pytest.approx(0, abs=1e-9)


def test_too_few_points_is_a_value_error():
    with pytest.raises(ValueError, match="at least 4"):
        bd_rate(_doc("a", RATE_A[:3], PSNR_A[:3]), _doc("t", RATE_T, PSNR_T))
