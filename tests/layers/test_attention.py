"""AttentionBlock against CompressAI."""

import pickle

import pytest
import torch

from tests.layers.compat import (
    assert_same_forward_and_backward,
    assert_state_dicts_interchangeable,
    compressai,
)
from tinify.layers import AttentionBlock

cai_layers = compressai("layers")


@pytest.mark.parametrize("channels", [2, 4, 5])
def test_attention_block_matches_compressai_for_same_state_dict(channels):
    assert_state_dicts_interchangeable(
        AttentionBlock(channels), cai_layers.AttentionBlock(channels)
    )
    x = torch.randn(2, channels, 5, 4, generator=torch.Generator().manual_seed(channels))
    assert_same_forward_and_backward(
        lambda: AttentionBlock(channels), lambda: cai_layers.AttentionBlock(channels), x
    )


def test_attention_block_can_be_pickled():
    # CompressAI defines its residual unit inside __init__, which pickle cannot find.
    block = AttentionBlock(4)
    clone = pickle.loads(pickle.dumps(block))
    x = torch.randn(1, 4, 3, 3)
    assert torch.equal(clone(x), block(x))
