"""LowerBound: forward, its custom gradient, and its state_dict against CompressAI."""

import pytest
import torch

from tests.layers.compat import assert_exactly_equal, compressai
from tinify.ops import LowerBound, lower_bound

cai_ops = compressai("ops")


def _values_and_grads(module: torch.nn.Module, x: torch.Tensor, g: torch.Tensor):
    x = x.clone().requires_grad_(True)
    y = module(x)
    y.backward(g)
    return y.detach(), x.grad


def test_lower_bound_forward_is_elementwise_max_with_bound():
    x = torch.linspace(-2, 2, 41)
    assert_exactly_equal(LowerBound(0.25)(x), torch.clamp(x, min=0.25))


def test_lower_bound_gradient_passes_at_or_above_bound_or_when_negative():
    x = torch.tensor([-1.0, -1.0, 0.5, 0.5, 2.0, 2.0])
    g = torch.tensor([1.0, -1.0, 1.0, -1.0, 3.0, -3.0])
    _, grad = _values_and_grads(LowerBound(0.5), x, g)
    # Below the bound only a negative gradient (one that would raise x) gets through.
    assert_exactly_equal(grad, torch.tensor([0.0, -1.0, 1.0, -1.0, 3.0, -3.0]))


@pytest.mark.parametrize("bound", [-1.5, 0.0, 1e-9, 0.11, 3.0])
def test_lower_bound_matches_compressai_values_and_gradients(bound):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 5, 5, generator=gen)
    g = torch.randn(x.shape, generator=gen)
    y, grad = _values_and_grads(LowerBound(bound), x, g)
    y_cai, grad_cai = _values_and_grads(cai_ops.LowerBound(bound), x, g)
    assert_exactly_equal(y, y_cai)
    assert_exactly_equal(grad, grad_cai)


def test_lower_bound_function_equals_module():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, generator=gen)
    g = torch.randn(64, generator=gen)
    module = LowerBound(0.2)
    y_m, grad_m = _values_and_grads(module, x, g)
    y_f, grad_f = _values_and_grads(lambda t: lower_bound(t, module.bound), x, g)
    assert_exactly_equal(y_m, y_f)
    assert_exactly_equal(grad_m, grad_f)


def test_lower_bound_state_dict_interchangeable_with_compressai():
    ours, theirs = LowerBound(0.3), cai_ops.LowerBound(0.7)
    assert ours.state_dict().keys() == theirs.state_dict().keys() == {"bound"}
    assert ours.bound.shape == theirs.bound.shape == (1,)
    assert ours.bound.dtype == theirs.bound.dtype
    ours.load_state_dict(theirs.state_dict(), strict=True)
    assert ours.bound.item() == pytest.approx(0.7)
    theirs.load_state_dict(LowerBound(-2.0).state_dict(), strict=True)
    assert theirs.bound.item() == -2.0


def test_lower_bound_buffer_follows_module_dtype():
    module = LowerBound(0.5).double()
    x = torch.tensor([0.0, 1.0], dtype=torch.float64)
    assert module(x).dtype == torch.float64
