"""tinify.transforms against compressai.transforms: the same numbers, shapes and errors."""

import pytest
import torch
from compressai import transforms as cai_transforms
from compressai.transforms import functional as cai_functional
from hypothesis import given
from hypothesis import strategies as st
from torch.testing import assert_close

from tinify import transforms
from tinify.transforms import functional


@pytest.mark.parametrize("shape", [(3, 8, 6), (2, 3, 5, 7)])
@pytest.mark.parametrize("name", ["rgb2ycbcr", "ycbcr2rgb"])
def test_colour_conversions_equal_compressai(name, shape):
    torch.manual_seed(0)
    x = torch.rand(shape)
    assert_close(getattr(functional, name)(x), getattr(cai_functional, name)(x), rtol=0, atol=0)


@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_ycbcr_round_trip_returns_the_rgb_image(n, h, w, seed):
    x = torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    assert_close(functional.ycbcr2rgb(functional.rgb2ycbcr(x)), x)


@pytest.mark.parametrize(
    "bad", [torch.rand(4, 8, 8), torch.rand(8, 8), torch.randint(0, 2, (3, 4, 4))]
)
def test_bad_images_raise_value_error_like_compressai(bad):
    for module in (functional, cai_functional):
        with pytest.raises(ValueError, match="3D or 4D"):
            module.rgb2ycbcr(bad)


def test_444_to_420_equals_compressai_for_tensor_and_tuple():
    torch.manual_seed(1)
    x = torch.rand(2, 3, 8, 10)
    for arg in (x, tuple(x.chunk(3, 1))):
        ours, theirs = functional.yuv_444_to_420(arg), cai_functional.yuv_444_to_420(arg)
        assert [t.shape for t in ours] == [(2, 1, 8, 10), (2, 1, 4, 5), (2, 1, 4, 5)]
        for a, b in zip(ours, theirs, strict=True):
            assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match="downsampling"):
        functional.yuv_444_to_420(x, mode="nearest")


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("return_tuple", [False, True])
def test_420_to_444_equals_compressai(mode, return_tuple):
    torch.manual_seed(2)
    yuv = (torch.rand(1, 1, 8, 8), torch.rand(1, 1, 4, 4), torch.rand(1, 1, 4, 4))
    ours = functional.yuv_420_to_444(yuv, mode, return_tuple)
    theirs = cai_functional.yuv_420_to_444(yuv, mode, return_tuple)
    if return_tuple:
        for a, b in zip(ours, theirs, strict=True):
            assert_close(a, b, rtol=0, atol=0)
    else:
        assert ours.shape == (1, 3, 8, 8)
        assert_close(ours, theirs, rtol=0, atol=0)


def test_420_to_444_errors_as_compressai():
    yuv = (torch.rand(1, 1, 8, 8), torch.rand(1, 1, 4, 4), torch.rand(1, 1, 4, 4))
    for module in (functional, cai_functional):
        with pytest.raises(ValueError, match="tuple of 3"):
            module.yuv_420_to_444(yuv[:2])
        with pytest.raises(ValueError, match="upsampling"):
            module.yuv_420_to_444(yuv, mode="area")


def test_transform_classes_equal_compressai_and_repr():
    torch.manual_seed(3)
    x = torch.rand(1, 3, 8, 8)
    for name in ("RGB2YCbCr", "YCbCr2RGB"):
        ours, theirs = getattr(transforms, name)(), getattr(cai_transforms, name)()
        assert_close(ours(x), theirs(x), rtol=0, atol=0)
        assert repr(ours) == repr(theirs)
    planes = transforms.YUV444To420()(x)
    for a, b in zip(planes, cai_transforms.YUV444To420()(x), strict=True):
        assert_close(a, b, rtol=0, atol=0)
    up, cai_up = transforms.YUV420To444(), cai_transforms.YUV420To444()
    assert_close(up(planes), cai_up(planes), rtol=0, atol=0)
    assert repr(transforms.YUV420To444(return_tuple=True)) == repr(
        cai_transforms.YUV420To444(return_tuple=True)
    )


def test_420_to_444_transform_uses_its_mode():
    # CompressAI 1.2.8 stores `mode` and ignores it; tinify uses it.
    planes = (torch.rand(1, 1, 8, 8), torch.rand(1, 1, 4, 4), torch.rand(1, 1, 4, 4))
    assert_close(
        transforms.YUV420To444("nearest")(planes),
        functional.yuv_420_to_444(planes, mode="nearest"),
    )
