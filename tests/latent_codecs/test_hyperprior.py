"""HyperpriorLatentCodec: layout of strings and shapes, children, round trips, CompressAI.

``y`` is a synthetic Gaussian of standard deviation 5; the hyper branch predicts scales of at
least 3, so values rarely leave the CDF tables.
"""

import pytest
import torch

from tinify.latent_codecs import HyperpriorLatentCodec

from .builders import (
    TINIFY,
    assert_plain_shape,
    assert_rate_matches_likelihoods,
    checkerboard_codec,
    compressai_lib,
    gaussian_latent,
    hyper_codec,
    hyperprior_codec,
    load_twin,
    ready,
)


def _gaussian_y(lib):
    return lib.lc.GaussianConditionalLatentCodec(quantizer="ste")


def _checkerboard_y(lib):
    return checkerboard_codec(lib, side_channels=16)


Y_CODECS = {"gaussian": _gaussian_y, "checkerboard": _checkerboard_y}


@pytest.mark.parametrize("y_codec", Y_CODECS)
def test_forward_gives_y_and_z_likelihoods(y_codec):
    codec = ready(hyperprior_codec(Y_CODECS[y_codec])).train()
    y = gaussian_latent((3, 8, 7, 9), seed=0)
    out = codec(y)
    assert set(out) == {"likelihoods", "y_hat"} and set(out["likelihoods"]) == {"y", "z"}
    assert out["likelihoods"]["y"].shape == y.shape == out["y_hat"].shape
    assert out["likelihoods"]["z"].shape == (3, 6, 7, 9)


@pytest.mark.parametrize(("n", "h", "w"), [(1, 6, 8), (3, 7, 9), (3, 5, 6), (1, 6, 5)])
@pytest.mark.parametrize("y_codec", Y_CODECS)
def test_decompress_returns_exactly_the_y_hat_of_compress(y_codec, n, h, w):
    codec = ready(hyperprior_codec(Y_CODECS[y_codec]))
    y = gaussian_latent((n, 8, h, w), seed=h * w)
    with torch.no_grad():
        enc = codec.compress(y)
        dec = codec.decompress(enc["strings"], enc["shape"])
    assert set(enc["shape"]) == {"y", "hyper"}
    assert_plain_shape(enc["shape"])
    assert all(len(s) == n for s in enc["strings"])
    assert torch.equal(dec["y_hat"], enc["y_hat"])


@pytest.mark.parametrize("y_codec", Y_CODECS)
def test_rate_estimate_matches_the_coded_size(y_codec):
    codec = ready(hyperprior_codec(Y_CODECS[y_codec]))
    y = gaussian_latent((2, 8, 16, 15), seed=1)
    with torch.no_grad():
        out, enc = codec(y), codec.compress(y)
    assert torch.equal(out["y_hat"], enc["y_hat"])
    assert_rate_matches_likelihoods(out["likelihoods"], enc["strings"])


def test_z_strings_come_last():
    codec = ready(hyperprior_codec(_checkerboard_y))
    y = gaussian_latent((2, 8, 6, 6), seed=2)
    with torch.no_grad():
        enc = codec.compress(y)
        hyper = codec["hyper"].compress(y)
    assert len(enc["strings"]) == 3
    assert enc["strings"][-1] == hyper["strings"][0]
    assert enc["shape"] == {"y": (8, 6, 6), "hyper": (6, 6)}


@pytest.mark.compressai
@pytest.mark.parametrize("y_codec", Y_CODECS)
def test_forward_and_bytes_equal_compressai(y_codec):
    ours = ready(hyperprior_codec(Y_CODECS[y_codec]))
    theirs = load_twin(hyperprior_codec(Y_CODECS[y_codec], compressai_lib()), ours)
    y = gaussian_latent((2, 8, 6, 8), seed=3)
    with torch.no_grad():
        a, b = ours(y), theirs(y)
        assert torch.equal(a["y_hat"], b["y_hat"])
        for key in ("y", "z"):
            assert torch.equal(a["likelihoods"][key], b["likelihoods"][key])
        a, b = ours.compress(y), theirs.compress(y)
        assert a["strings"] == b["strings"] and torch.equal(a["y_hat"], b["y_hat"])
        assert torch.equal(theirs.decompress(a["strings"], b["shape"])["y_hat"], a["y_hat"])
        assert torch.equal(ours.decompress(b["strings"], a["shape"])["y_hat"], a["y_hat"])


@pytest.mark.compressai
def test_children_are_attributes_y_and_hyper_and_reachable_by_key():
    codec = hyperprior_codec(_gaussian_y)
    assert codec["y"] is codec.y and codec["hyper"] is codec.hyper
    assert codec.latent_codec == {"y": codec.y, "hyper": codec.hyper}
    prefixes = {key.split(".")[0] for key in codec.state_dict()}
    assert prefixes == {"y", "hyper"}
    theirs = hyperprior_codec(_gaussian_y, compressai_lib())
    assert list(codec.state_dict()) == list(theirs.state_dict())


def test_missing_child_raises_value_error():
    with pytest.raises(ValueError, match="hyper"):
        HyperpriorLatentCodec({"y": _gaussian_y(TINIFY)})


def test_streams_of_unequal_batch_raise_value_error():
    codec = ready(hyperprior_codec(_gaussian_y))
    enc = codec.compress(gaussian_latent((2, 8, 4, 4), seed=4))
    strings = [enc["strings"][0][:1], enc["strings"][1]]
    with pytest.raises(ValueError, match="one string per batch element"):
        codec.decompress(strings, enc["shape"])


def test_hyper_codec_of_other_quantizer_round_trips():
    codec = ready(HyperpriorLatentCodec({"y": _gaussian_y(TINIFY), "hyper": hyper_codec()}))
    y = gaussian_latent((1, 8, 3, 3), seed=5)
    enc = codec.compress(y)
    assert torch.equal(codec.decompress(enc["strings"], enc["shape"])["y_hat"], enc["y_hat"])
