"""Lambda, NamedLayer, Reshape, Transpose and Interleave against CompressAI."""

import pytest
import torch

from tests.layers.compat import assert_exactly_equal, compressai
from tinify.layers import Interleave, Lambda, NamedLayer, Reshape, Transpose

cai_basic = compressai("layers.basic")

X = torch.arange(2 * 6 * 3 * 2, dtype=torch.float32).reshape(2, 6, 3, 2)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (Lambda(torch.tanh), cai_basic.Lambda(torch.tanh)),
        (NamedLayer("probe"), cai_basic.NamedLayer("probe")),
        (Reshape((3, 12)), cai_basic.Reshape((3, 12))),
        (Reshape((-1,)), cai_basic.Reshape((-1,))),
        (Transpose(1, 3), cai_basic.Transpose(1, 3)),
        (Transpose(-1, -2), cai_basic.Transpose(-1, -2)),
        (Interleave(1), cai_basic.Interleave(1)),
        (Interleave(2), cai_basic.Interleave(2)),
        (Interleave(3), cai_basic.Interleave(3)),
    ],
    ids=lambda m: repr(m),
)
def test_basic_layer_matches_compressai(ours, theirs):
    out = ours(X)
    assert_exactly_equal(out, theirs(X))
    assert out.is_contiguous() == theirs(X).is_contiguous()


def test_interleave_moves_channel_of_group_g_to_position_k_times_groups_plus_g():
    x = torch.arange(6.0).reshape(1, 6)
    assert Interleave(2)(x).flatten().tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]


def test_interleave_rejects_bad_groups():
    with pytest.raises(ValueError, match="groups"):
        Interleave(0)
    with pytest.raises(ValueError, match="divisible by groups=4"):
        Interleave(4)(X)


def test_reshape_error_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"\(2, 6, 3, 2\) to \(2, 5\)"):
        Reshape((5,))(X)
