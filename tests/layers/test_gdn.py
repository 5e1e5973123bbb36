"""GDN and GDN1 against CompressAI: parameters, outputs and gradients."""

import pytest
import torch

from tests.layers.compat import (
    assert_exactly_equal,
    assert_same_forward_and_backward,
    assert_state_dicts_interchangeable,
    compressai,
)
from tinify.layers import GDN, GDN1

cai_layers = compressai("layers")

KINDS = [(GDN, cai_layers.GDN), (GDN1, cai_layers.GDN1)]


@pytest.mark.parametrize(("ours_cls", "theirs_cls"), KINDS)
@pytest.mark.parametrize("kwargs", [{}, {"beta_min": 1e-3, "gamma_init": 0.5}])
def test_gdn_initial_state_dict_equals_compressai(ours_cls, theirs_cls, kwargs):
    ours, theirs = ours_cls(5, **kwargs), theirs_cls(5, **kwargs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == [
        "beta",
        "gamma",
        "beta_reparam.pedestal",
        "beta_reparam.lower_bound.bound",
        "gamma_reparam.pedestal",
        "gamma_reparam.lower_bound.bound",
    ]
    assert list(ours_sd) == list(theirs_sd)
    for key in theirs_sd:
        assert_exactly_equal(ours_sd[key], theirs_sd[key])
    assert_state_dicts_interchangeable(ours, theirs)


@pytest.mark.parametrize(("ours_cls", "theirs_cls"), KINDS)
@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("channels", [1, 3, 8])
def test_gdn_matches_compressai_for_same_state_dict(ours_cls, theirs_cls, inverse, channels):
    x = torch.randn(2, channels, 5, 4, generator=torch.Generator().manual_seed(channels))
    assert_same_forward_and_backward(
        lambda: ours_cls(channels, inverse=inverse),
        lambda: theirs_cls(channels, inverse=inverse),
        x,
    )


def test_gdn_and_igdn_at_init_compute_the_documented_formula():
    x = torch.randn(1, 4, 3, 3, generator=torch.Generator().manual_seed(3))
    norm = torch.sqrt(1.0 + 0.1 * x**2)
    torch.testing.assert_close(GDN(4)(x), x / norm)
    torch.testing.assert_close(GDN(4, inverse=True)(x), x * norm)
    torch.testing.assert_close(GDN1(4)(x), x / (1.0 + 0.1 * x.abs()))


@pytest.mark.parametrize("cls", [GDN, GDN1])
def test_gdn_with_wrong_channel_count_raises_torch_conv_error(cls):
    with pytest.raises(RuntimeError, match="channels"):
        cls(4)(torch.zeros(1, 3, 2, 2))


def test_gdn_rejects_nonpositive_channels_and_negative_beta_min():
    with pytest.raises(ValueError, match="in_channels"):
        GDN(0)
    with pytest.raises(ValueError, match="minimum"):
        GDN(3, beta_min=-1.0)
