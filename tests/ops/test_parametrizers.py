"""NonNegativeParametrizer: buffers, forward and init against CompressAI."""

import pytest
import torch

from tests.layers.compat import assert_exactly_equal, compressai
from tinify.ops import NonNegativeParametrizer

cai_ops = compressai("ops")

SETTINGS = [(0.0, 2**-18), (1e-6, 2**-18), (0.11, 2**-18), (2.5, 1e-3), (0.0, 0.5)]


@pytest.mark.parametrize(("minimum", "offset"), SETTINGS)
def test_nonnegative_parametrizer_state_dict_equals_compressai(minimum, offset):
    ours = NonNegativeParametrizer(minimum, offset)
    theirs = cai_ops.NonNegativeParametrizer(minimum, offset)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd) == ["pedestal", "lower_bound.bound"]
    for key in theirs_sd:
        assert_exactly_equal(ours_sd[key], theirs_sd[key])
    ours.load_state_dict(theirs_sd, strict=True)
    theirs.load_state_dict(ours.state_dict(), strict=True)


@pytest.mark.parametrize(("minimum", "offset"), SETTINGS)
def test_nonnegative_parametrizer_forward_and_init_match_compressai(minimum, offset):
    ours = NonNegativeParametrizer(minimum, offset)
    theirs = cai_ops.NonNegativeParametrizer(minimum, offset)
    gen = torch.Generator().manual_seed(0)
    p = torch.randn(6, 7, generator=gen)
    g = torch.randn(6, 7, generator=gen)
    grads = []
    for module in (ours, theirs):
        x = p.clone().requires_grad_(True)
        y = module(x)
        y.backward(g)
        grads.append((y.detach(), x.grad, module.init(p.abs())))
    for a, b in zip(*grads, strict=True):
        assert_exactly_equal(a, b)


def test_nonnegative_parametrizer_output_is_at_least_minimum():
    module = NonNegativeParametrizer(minimum=0.25)
    y = module(torch.linspace(-5, 5, 101))
    assert torch.all(y >= 0.25 - 1e-7)


def test_nonnegative_parametrizer_forward_inverts_init():
    module = NonNegativeParametrizer(minimum=1e-6)
    x = torch.tensor([1e-6, 1e-3, 0.1, 1.0, 7.0])
    torch.testing.assert_close(module(module.init(x)), x)


@pytest.mark.parametrize("minimum", [-1e-6, -1.0, float("nan")])
def test_nonnegative_parametrizer_rejects_negative_minimum(minimum):
    with pytest.raises(ValueError, match="minimum"):
        NonNegativeParametrizer(minimum=minimum)
