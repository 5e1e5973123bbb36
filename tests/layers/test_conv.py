"""conv1x1, conv3x3 and subpel_conv3x3 against CompressAI."""

import pytest
import torch

from tests.layers.compat import assert_same_forward_and_backward, compressai
from tinify.layers import conv1x1, conv3x3, subpel_conv3x3

cai_layers = compressai("layers")

CASES = [
    (conv3x3, cai_layers.conv3x3, (3, 5), {}),
    (conv3x3, cai_layers.conv3x3, (3, 5), {"stride": 2}),
    (conv1x1, cai_layers.conv1x1, (3, 5), {}),
    (conv1x1, cai_layers.conv1x1, (3, 5), {"stride": 2}),
    (subpel_conv3x3, cai_layers.subpel_conv3x3, (3, 5), {}),
    (subpel_conv3x3, cai_layers.subpel_conv3x3, (3, 5), {"r": 2}),
    (subpel_conv3x3, cai_layers.subpel_conv3x3, (3, 2), {"r": 3}),
]


@pytest.mark.parametrize(("ours", "theirs", "args", "kwargs"), CASES)
def test_conv_helpers_match_compressai_for_same_state_dict(ours, theirs, args, kwargs):
    x = torch.randn(2, 3, 7, 6, generator=torch.Generator().manual_seed(0))
    assert_same_forward_and_backward(
        lambda: ours(*args, **kwargs), lambda: theirs(*args, **kwargs), x
    )


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (conv3x3(3, 8), (1, 8, 7, 6)),
        (conv3x3(3, 8, stride=2), (1, 8, 4, 3)),
        (conv1x1(3, 8, stride=2), (1, 8, 4, 3)),
        (subpel_conv3x3(3, 8, r=2), (1, 8, 14, 12)),
    ],
)
def test_conv_helpers_output_shapes(layer, shape):
    assert layer(torch.zeros(1, 3, 7, 6)).shape == shape
