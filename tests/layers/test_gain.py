"""Gain against CompressAI."""

import pytest
import torch

from tests.layers.compat import assert_exactly_equal, assert_same_forward_and_backward, compressai
from tinify.layers import Gain

cai_layers = compressai("layers")


@pytest.mark.parametrize(("shape", "factor"), [((4, 1, 1), 1.0), ((4, 1, 1), 0.25), ((1,), 3.0)])
def test_gain_matches_compressai_for_same_state_dict(shape, factor):
    x = torch.randn(2, 4, 3, 3, generator=torch.Generator().manual_seed(0))
    assert_same_forward_and_backward(
        lambda: Gain(shape, factor), lambda: cai_layers.Gain(shape, factor), x
    )


def test_gain_starts_as_factor_times_identity():
    x = torch.randn(2, 4, 3, 3)
    assert_exactly_equal(Gain((4, 1, 1), factor=2.0)(x), 2.0 * x)


def test_gain_without_shape_is_one_scalar():
    gain = Gain(factor=0.5)
    assert gain.gain.shape == ()
    x = torch.randn(3, 2)
    assert_exactly_equal(gain(x), 0.5 * x)
