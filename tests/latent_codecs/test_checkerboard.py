"""CheckerboardLatentCodec: forward methods, parities, any latent size, CompressAI's bytes.

Latents are synthetic: ``y = means + scales * noise`` with scales in [2, 8] (see
``builders.side_params_for``), and the side params predict those scales and means.
"""

import pytest
import torch
import torch.nn.functional as F

from tinify.latent_codecs import CheckerboardLatentCodec, embed, unembed
from tinify.latent_codecs.checkerboard import anchor_mask

from .builders import (
    assert_plain_shape,
    assert_rate_matches_likelihoods,
    checkerboard_codec,
    compressai_lib,
    load_twin,
    ready,
    side_params_for,
)

PARITIES = ("even", "odd")
METHODS = ("onepass", "twopass", "twopass_faster")
SIZES = [(1, 6, 8), (3, 7, 9), (3, 5, 6), (1, 6, 5), (2, 1, 1)]


def _codec(parity="even", method="twopass", channels=8):
    return ready(checkerboard_codec(anchor_parity=parity, forward_method=method, channels=channels))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("parity", PARITIES)
def test_forward_gives_y_likelihoods_and_y_hat_of_the_latent_shape(parity, method):
    codec = _codec(parity, method).train()
    y, side = side_params_for((3, 8, 7, 9), seed=1)
    y.requires_grad_(True)
    out = codec(y, side)
    assert set(out) == {"likelihoods", "y_hat"}
    assert set(out["likelihoods"]) == {"y"}
    assert out["likelihoods"]["y"].shape == y.shape
    assert out["y_hat"].shape == y.shape
    (out["y_hat"].sum() - out["likelihoods"]["y"].log2().sum()).backward()
    assert y.grad is not None and codec.entropy_parameters[0].weight.grad is not None


@pytest.mark.parametrize("parity", PARITIES)
@pytest.mark.parametrize(("n", "h", "w"), SIZES)
def test_decompress_returns_exactly_the_y_hat_of_compress(parity, n, h, w):
    codec = _codec(parity)
    y, side = side_params_for((n, 8, h, w), seed=h * w)
    with torch.no_grad():
        enc = codec.compress(y, side)
        dec = codec.decompress(enc["strings"], enc["shape"], side)
    assert len(enc["strings"]) == 2 and all(len(s) == n for s in enc["strings"])
    assert enc["shape"] == (8, h, w)
    assert_plain_shape(enc["shape"])
    assert torch.equal(dec["y_hat"], enc["y_hat"])
    # Quantization is rounding around the means: within half a step of y.
    assert (enc["y_hat"] - y).abs().max() <= 0.5 + 1e-4


@pytest.mark.parametrize("method", ["twopass", "twopass_faster"])
@pytest.mark.parametrize("parity", PARITIES)
def test_two_pass_rate_estimate_matches_the_coded_size(parity, method):
    """In eval mode the two-pass methods compute the decoder's parameters, so their
    likelihoods predict the coded size."""
    codec = _codec(parity, method)
    y, side = side_params_for((2, 8, 15, 13), seed=3)
    with torch.no_grad():
        out = codec(y, side)
        enc = codec.compress(y, side)
    assert torch.equal(out["y_hat"], enc["y_hat"])
    assert_rate_matches_likelihoods(out["likelihoods"], enc["strings"])


@pytest.mark.parametrize("parity", PARITIES)
def test_onepass_rate_estimate_is_close_to_the_coded_size(parity):
    """ "onepass" takes the context from y rounded without means, not the decoder's context,
    so its estimate is only close (the context's weight is small here)."""
    codec = _codec(parity, "onepass")
    y, side = side_params_for((2, 8, 15, 13), seed=3)
    with torch.no_grad():
        out = codec(y, side)
        enc = codec.compress(y, side)
    assert_rate_matches_likelihoods(out["likelihoods"], enc["strings"])


@pytest.mark.parametrize("parity", PARITIES)
def test_twopass_likelihoods_equal_an_independent_two_step_computation(parity):
    """Anchors are quantized around means predicted with zero context; the non-anchors'
    parameters come from the decoded anchors through the checkerboard-masked kernel."""
    codec = _codec(parity, "twopass")
    ep, cp = codec.entropy_parameters, codec.context_prediction
    y, side = side_params_for((2, 8, 7, 6), seed=5)
    n, c, h, w = y.shape
    rows, cols = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    anchors = (rows + cols) % 2 == (0 if parity == "even" else 1)
    k = torch.arange(5)
    kernel_mask = ((k[:, None] + k[None, :]) % 2 == 1).float()
    with torch.no_grad():
        scales_a, means_a = ep(torch.cat([torch.zeros(n, 2 * c, h, w), side], 1)).chunk(2, 1)
        y_hat_a = torch.where(anchors, torch.round(y - means_a) + means_a, 0)
        ctx = F.conv2d(y_hat_a, cp.weight * kernel_mask, cp.bias, padding=2)
        scales_n, means_n = ep(torch.cat([ctx, side], 1)).chunk(2, 1)
        scales = torch.where(anchors, scales_a, scales_n).clamp_min(0.11)
        means = torch.where(anchors, means_a, means_n)
        values = (torch.round(y - means) + means - means).abs()
        normal = torch.distributions.Normal(0.0, 1.0)
        expected = normal.cdf((0.5 - values) / scales) - normal.cdf((-0.5 - values) / scales)
        expected = expected.clamp_min(1e-9)
        out = codec(y, side)
    torch.testing.assert_close(out["likelihoods"]["y"], expected, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(out["y_hat"], torch.round(y - means) + means)


@pytest.mark.compressai
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("parity", PARITIES)
def test_forward_equals_compressai(parity, method):
    ours = _codec(parity, method)
    lib = compressai_lib()
    theirs = load_twin(checkerboard_codec(lib, anchor_parity=parity, forward_method=method), ours)
    y, side = side_params_for((2, 8, 7, 9), seed=7)  # forward works at odd sizes in both
    with torch.no_grad():
        a, b = ours(y, side), theirs(y, side)
    assert torch.equal(a["y_hat"], b["y_hat"])
    assert torch.equal(a["likelihoods"]["y"], b["likelihoods"]["y"])


@pytest.mark.compressai
@pytest.mark.parametrize("parity", PARITIES)
@pytest.mark.parametrize(("n", "h", "w"), [(1, 6, 8), (3, 5, 4)])
def test_bytes_equal_compressai_and_streams_decode_across(parity, n, h, w):
    """CompressAI needs an even width; there the strings are identical."""
    ours = _codec(parity)
    theirs = load_twin(checkerboard_codec(compressai_lib(), anchor_parity=parity), ours)
    y, side = side_params_for((n, 8, h, w), seed=11)
    with torch.no_grad():
        a, b = ours.compress(y, side), theirs.compress(y, side)
        assert a["strings"] == b["strings"]
        assert torch.equal(a["y_hat"], b["y_hat"])
        assert tuple(b["shape"]) == a["shape"]
        assert torch.equal(ours.decompress(b["strings"], a["shape"], side)["y_hat"], a["y_hat"])
        assert torch.equal(theirs.decompress(a["strings"], b["shape"], side)["y_hat"], a["y_hat"])


@pytest.mark.compressai
@pytest.mark.parametrize("parity", PARITIES)
def test_unembed_and_embed_match_compressai_and_invert_each_other(parity):
    lib = compressai_lib()
    theirs = checkerboard_codec(lib, anchor_parity=parity)
    y = torch.randn(2, 3, 5, 8)
    chunks = unembed(y, parity)
    assert torch.equal(chunks, theirs.unembed(y))
    assert torch.equal(embed(chunks, parity), y)
    assert torch.equal(theirs.embed(chunks), y)
    codec = _codec(parity)
    assert torch.equal(codec.unembed(y), chunks) and torch.equal(codec.embed(chunks), y)


@pytest.mark.parametrize("parity", PARITIES)
def test_gathered_positions_are_unembed_order_for_even_widths(parity):
    """The codec codes each step's positions in row-major order: for even widths, the order
    of CompressAI's unembed, so the streams coincide."""
    y = torch.randn(2, 3, 5, 6)
    mask = anchor_mask(5, 6, parity)
    assert torch.equal(y[:, :, mask], unembed(y, parity)[0].reshape(2, 3, -1))
    assert torch.equal(y[:, :, ~mask], unembed(y, parity)[1].reshape(2, 3, -1))


def test_unembed_rejects_odd_widths():
    with pytest.raises(ValueError, match="even width"):
        unembed(torch.zeros(1, 1, 4, 5))


def test_anchor_masks_of_the_two_parities_are_complementary_checkerboards():
    even, odd = anchor_mask(3, 4, "even"), anchor_mask(3, 4, "odd")
    assert even[0, 0] and not even[0, 1] and even[1, 1]
    assert torch.equal(even, ~odd)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"forward_method": "threepass"}, "forward_method"), ({"anchor_parity": "red"}, "parity")],
)
def test_unknown_choices_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        checkerboard_codec(**kwargs)


def test_forward_method_set_after_construction_is_checked():
    codec = _codec()
    codec.forward_method = "fast"
    with pytest.raises(ValueError, match="forward_method"):
        codec(*side_params_for((1, 8, 4, 4), seed=0))


def test_side_params_of_another_size_raise_value_error():
    codec = _codec()
    y, side = side_params_for((1, 8, 4, 4), seed=0)
    with pytest.raises(ValueError, match="side_params"):
        codec.compress(y, side[:, :, :3])


def test_child_is_reachable_by_key_and_registered_as_y():
    codec = _codec()
    assert codec["y"] is codec.y
    assert isinstance(codec, CheckerboardLatentCodec)
    assert {k.split(".")[0] for k in codec.state_dict()} == {
        "entropy_parameters",
        "context_prediction",
        "y",
    }
    with pytest.raises(KeyError, match="hyper"):
        codec["hyper"]
