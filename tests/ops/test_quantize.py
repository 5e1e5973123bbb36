"""quantize_ste: rounding forward, identity backward, as CompressAI's."""

import torch

from tests.layers.compat import assert_exactly_equal, compressai
from tinify.ops import quantize_ste

cai_ops = compressai("ops")


def test_quantize_ste_rounds_half_to_even_like_torch_round():
    x = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51, 3.7])
    assert_exactly_equal(quantize_ste(x), torch.round(x))
    assert_exactly_equal(quantize_ste(x)[:6], torch.tensor([-2.0, -2.0, -0.0, 0.0, 2.0, 2.0]))


def test_quantize_ste_gradient_is_identity():
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(0), requires_grad=True)
    g = torch.randn(3, 4, generator=torch.Generator().manual_seed(1))
    quantize_ste(x).backward(g)
    assert_exactly_equal(x.grad, g)


def test_quantize_ste_matches_compressai():
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(2)) * 10
    assert_exactly_equal(quantize_ste(x), cai_ops.quantize_ste(x))
