"""MaskedConv2d and CheckerboardMaskedConv2d: masks, outputs and gradients against CompressAI."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from tests.layers.compat import (
    assert_exactly_equal,
    assert_state_dicts_interchangeable,
    compressai,
    forward_backward,
    load_both_ways,
)
from tinify.layers import CheckerboardMaskedConv2d, MaskedConv2d

cai_layers = compressai("layers")

KINDS = [
    (MaskedConv2d, cai_layers.MaskedConv2d),
    (CheckerboardMaskedConv2d, cai_layers.CheckerboardMaskedConv2d),
]
KERNELS = [1, 3, 5, 7, (1, 5), (5, 1), (1, 3), (3, 5), (2, 2), (4, 4), (2, 3)]


@pytest.mark.parametrize(("ours_cls", "theirs_cls"), KINDS)
@pytest.mark.parametrize("mask_type", ["A", "B"])
@pytest.mark.parametrize("kernel_size", KERNELS)
def test_mask_equals_compressai(ours_cls, theirs_cls, mask_type, kernel_size):
    ours = ours_cls(3, 4, kernel_size, mask_type=mask_type)
    theirs = theirs_cls(3, 4, kernel_size, mask_type=mask_type)
    assert_exactly_equal(ours.mask, theirs.mask)
    assert_state_dicts_interchangeable(ours, theirs)


@given(st.integers(1, 9), st.integers(1, 9), st.sampled_from("AB"), st.integers(0, 1))
def test_mask_equals_compressai_for_any_kernel_size(kh, kw, mask_type, checkerboard):
    ours_cls, theirs_cls = KINDS[checkerboard]
    ours = ours_cls(1, 2, (kh, kw), mask_type=mask_type)
    assert_exactly_equal(ours.mask, theirs_cls(1, 2, (kh, kw), mask_type=mask_type).mask)


def test_masked_conv_type_a_5x5_pattern():
    expected = torch.tensor(
        [
            [1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1],
            [1, 1, 0, 0, 0],
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
        ],
        dtype=torch.float32,
    )
    mask = MaskedConv2d(2, 3, 5, mask_type="A").mask
    assert mask.shape == (3, 2, 5, 5)
    assert_exactly_equal(mask, expected.expand(3, 2, 5, 5))
    expected[2, 2] = 1
    assert_exactly_equal(MaskedConv2d(2, 3, 5, mask_type="B").mask[0, 0], expected)


def test_masked_conv_one_row_kernel_sees_only_left_taps():
    assert MaskedConv2d(1, 1, (1, 5), mask_type="A").mask.flatten().tolist() == [1, 1, 0, 0, 0]
    assert MaskedConv2d(1, 1, (1, 5), mask_type="B").mask.flatten().tolist() == [1, 1, 1, 0, 0]
    assert MaskedConv2d(1, 1, (5, 1), mask_type="A").mask.flatten().tolist() == [1, 1, 0, 0, 0]


def test_checkerboard_type_a_5x5_pattern():
    mask = CheckerboardMaskedConv2d(1, 1, 5, mask_type="A").mask[0, 0]
    rows, cols = torch.meshgrid(torch.arange(5), torch.arange(5), indexing="ij")
    assert_exactly_equal(mask, ((rows + cols) % 2 == 1).float())
    mask_b = CheckerboardMaskedConv2d(1, 1, 5, mask_type="B").mask[0, 0]
    assert mask_b[2, 2] == 1 and torch.equal(mask_b.sum(), mask.sum() + 1)


CONV_ARGS = [
    {"kernel_size": 5, "padding": 2},
    {"kernel_size": (1, 5), "padding": (0, 2)},
    {"kernel_size": 3, "padding": 1, "bias": False},
    {"kernel_size": 3, "padding": 2, "dilation": 2, "stride": 2},
    {"kernel_size": 5, "padding": 2, "groups": 2},
]


@pytest.mark.parametrize(("ours_cls", "theirs_cls"), KINDS)
@pytest.mark.parametrize("mask_type", ["A", "B"])
@pytest.mark.parametrize("conv_args", CONV_ARGS)
def test_masked_conv_matches_compressai_for_same_state_dict(
    ours_cls, theirs_cls, mask_type, conv_args
):
    x = torch.randn(2, 4, 7, 6, generator=torch.Generator().manual_seed(0))
    pairs = load_both_ways(
        lambda: ours_cls(4, 6, mask_type=mask_type, **conv_args),
        lambda: theirs_cls(4, 6, mask_type=mask_type, **conv_args),
    )
    for ours, theirs in pairs:
        out_o, grads_o = forward_backward(ours, (x,), seed=1)
        out_t, grads_t = forward_backward(theirs, (x,), seed=1)
        assert_exactly_equal(out_o, out_t)
        assert_exactly_equal(grads_o["input0"], grads_t["input0"])
        if "bias" in grads_t:
            assert_exactly_equal(grads_o["bias"], grads_t["bias"])
        # CompressAI masks weight.data, so autograd never sees the mask and its weight
        # gradient is dense; tinify's is that gradient with the masked taps zeroed.
        assert_exactly_equal(grads_o["weight"], grads_t["weight"] * ours.mask)


@pytest.mark.parametrize("cls", [MaskedConv2d, CheckerboardMaskedConv2d])
def test_masked_conv_forward_leaves_weight_unchanged(cls):
    conv = cls(3, 3, 5, padding=2)
    before = conv.weight.detach().clone()
    conv(torch.randn(1, 3, 6, 6))
    assert_exactly_equal(conv.weight.detach(), before)
    assert bool((before * (1 - conv.mask)).abs().sum() > 0)


@pytest.mark.parametrize("cls", [MaskedConv2d, CheckerboardMaskedConv2d])
@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv_weight_gradient_is_zero_at_masked_taps(cls, mask_type):
    conv = cls(2, 3, 5, padding=2, mask_type=mask_type)
    conv(torch.randn(2, 2, 6, 6)).square().sum().backward()
    assert torch.all(conv.weight.grad[conv.mask == 0] == 0)
    assert torch.all(conv.weight.grad[conv.mask == 1] != 0)


def test_masked_weight_is_weight_times_mask_and_is_what_forward_convolves():
    conv = MaskedConv2d(2, 3, 5, padding=2, mask_type="B")
    assert_exactly_equal(conv.masked_weight(), conv.weight * conv.mask)
    plain = nn.Conv2d(2, 3, 5, padding=2)
    with torch.no_grad():
        plain.weight.copy_(conv.masked_weight())
        plain.bias.copy_(conv.bias)
    x = torch.randn(1, 2, 7, 7)
    assert_exactly_equal(conv(x), plain(x))


def test_masked_conv_output_does_not_depend_on_future_positions():
    conv = MaskedConv2d(1, 1, 5, padding=2, mask_type="A")
    x = torch.randn(1, 1, 6, 6)
    y = conv(x)
    x2 = x.clone()
    x2[0, 0, 3, 3:] += 10.0  # the current position and everything after it in raster order
    x2[0, 0, 4:] += 10.0
    assert_exactly_equal(conv(x2)[0, 0, 3, 3], y[0, 0, 3, 3])


def test_mask_buffer_follows_weight_dtype():
    conv = MaskedConv2d(1, 1, 3, dtype=torch.float64)
    assert conv.mask.dtype == torch.float64
    assert conv.double()(torch.randn(1, 1, 4, 4, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize("cls", [MaskedConv2d, CheckerboardMaskedConv2d])
@pytest.mark.parametrize("mask_type", ["C", "a", "", None])
def test_invalid_mask_type_raises_value_error(cls, mask_type):
    with pytest.raises(ValueError, match="mask_type"):
        cls(1, 1, 3, mask_type=mask_type)
