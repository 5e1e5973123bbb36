"""Residual blocks against CompressAI (ResidualBottleneckBlock from compressai.models.sensetime)."""

import pytest
import torch

from tests.layers.compat import (
    assert_same_forward_and_backward,
    assert_state_dicts_interchangeable,
    compressai,
)
from tinify.layers import (
    ResidualBlock,
    ResidualBlockUpsample,
    ResidualBlockWithStride,
    ResidualBottleneckBlock,
)

cai_layers = compressai("layers")
cai_sensetime = compressai("models.sensetime")

CASES = [
    (ResidualBlock, cai_layers.ResidualBlock, (4, 4), {}),
    (ResidualBlock, cai_layers.ResidualBlock, (4, 6), {}),
    (ResidualBlockWithStride, cai_layers.ResidualBlockWithStride, (4, 6), {}),
    (ResidualBlockWithStride, cai_layers.ResidualBlockWithStride, (4, 4), {"stride": 1}),
    (ResidualBlockWithStride, cai_layers.ResidualBlockWithStride, (4, 6), {"stride": 1}),
    (ResidualBlockUpsample, cai_layers.ResidualBlockUpsample, (4, 3), {}),
    (ResidualBlockUpsample, cai_layers.ResidualBlockUpsample, (4, 4), {"upsample": 1}),
    (ResidualBottleneckBlock, cai_sensetime.ResidualBottleneckBlock, (4, 4), {}),
    (ResidualBottleneckBlock, cai_sensetime.ResidualBottleneckBlock, (6, 4), {}),
]
IDS = [f"{c[0].__name__}-{c[2]}-{c[3]}" for c in CASES]


@pytest.mark.parametrize(("ours_cls", "theirs_cls", "args", "kwargs"), CASES, ids=IDS)
def test_residual_block_state_dict_interchangeable_with_compressai(
    ours_cls, theirs_cls, args, kwargs
):
    assert_state_dicts_interchangeable(ours_cls(*args, **kwargs), theirs_cls(*args, **kwargs))


@pytest.mark.parametrize(("ours_cls", "theirs_cls", "args", "kwargs"), CASES, ids=IDS)
def test_residual_block_matches_compressai_for_same_state_dict(ours_cls, theirs_cls, args, kwargs):
    x = torch.randn(2, args[0], 6, 5, generator=torch.Generator().manual_seed(0))
    assert_same_forward_and_backward(
        lambda: ours_cls(*args, **kwargs), lambda: theirs_cls(*args, **kwargs), x
    )


def test_residual_block_with_identity_skip_has_no_skip_weights():
    assert ResidualBlock(4, 4).skip is None
    assert ResidualBlockWithStride(4, 4, stride=1).skip is None
    assert not any(k.startswith("skip") for k in ResidualBottleneckBlock(4, 4).state_dict())


def test_residual_blocks_do_not_modify_their_input():
    x = torch.randn(1, 4, 6, 6)
    before = x.clone()
    for block in (
        ResidualBlock(4, 4),
        ResidualBlockWithStride(4, 4, 1),
        ResidualBottleneckBlock(4, 4),
    ):
        block(x)
    assert torch.equal(x, before)
