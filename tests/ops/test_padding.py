"""compute_padding against CompressAI, and the properties its (pad, unpad) pair promises."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from tests.layers.compat import compressai
from tinify.ops import compute_padding

cai_ops = compressai("ops")


@pytest.mark.parametrize("min_div", [1, 2, 3, 7, 8, 16, 64])
def test_compute_padding_matches_compressai_on_grid(min_div):
    sizes = [1, 2, 3, 5, 8, 15, 16, 17, 31, 63, 64, 65, 100, 257]
    for in_h, in_w in itertools.product(sizes, sizes):
        assert compute_padding(in_h, in_w, min_div=min_div) == cai_ops.compute_padding(
            in_h, in_w, min_div=min_div
        )


@pytest.mark.parametrize(
    ("in_h", "in_w", "out_h", "out_w", "min_div"),
    [(30, 45, 64, 64, 1), (30, 45, 64, 128, 64), (30, 45, None, 50, 1), (64, 64, 32, 32, 16)],
)
def test_compute_padding_with_explicit_output_size_matches_compressai(
    in_h, in_w, out_h, out_w, min_div
):
    kw = {"out_h": out_h, "out_w": out_w, "min_div": min_div}
    assert compute_padding(in_h, in_w, **kw) == cai_ops.compute_padding(in_h, in_w, **kw)


@given(st.integers(1, 300), st.integers(1, 300), st.integers(1, 128))
def test_compute_padding_reaches_smallest_multiple_and_unpad_inverts_pad(in_h, in_w, min_div):
    pad, unpad = compute_padding(in_h, in_w, min_div=min_div)
    left, right, top, bottom = pad
    out_h, out_w = in_h + top + bottom, in_w + left + right
    assert out_h % min_div == 0 and out_h - in_h < min_div
    assert out_w % min_div == 0 and out_w - in_w < min_div
    assert 0 <= right - left <= 1 and 0 <= bottom - top <= 1
    assert unpad == tuple(-p for p in pad)
    x = torch.arange(in_h * in_w, dtype=torch.float32).reshape(1, 1, in_h, in_w)
    assert torch.equal(F.pad(F.pad(x, pad), unpad), x)


@pytest.mark.parametrize("min_div", [0, -1, -64])
def test_compute_padding_rejects_min_div_below_one(min_div):
    with pytest.raises(ValueError, match="min_div"):
        compute_padding(32, 32, min_div=min_div)


def test_compute_padding_rejects_output_size_not_divisible_by_min_div():
    with pytest.raises(ValueError, match="min_div=16"):
        compute_padding(30, 30, out_h=40, min_div=16)
    with pytest.raises(ValueError):
        cai_ops.compute_padding(30, 30, out_h=40, min_div=16)
