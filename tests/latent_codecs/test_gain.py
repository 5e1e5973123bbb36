"""GainHyperLatentCodec and GainHyperpriorLatentCodec: where the gains apply, CompressAI.

``y`` is a synthetic Gaussian of standard deviation 5; gains are per-channel in [0.5, 2].
"""

import pytest
import torch

from tinify.latent_codecs import GainHyperpriorLatentCodec

from .builders import (
    TINIFY,
    assert_plain_shape,
    assert_rate_matches_likelihoods,
    compressai_lib,
    gaussian_latent,
    hyper_codec,
    load_twin,
    ready,
)


def _codec(lib=TINIFY):
    return lib.lc.GainHyperpriorLatentCodec(
        latent_codec={
            "y": lib.lc.GaussianConditionalLatentCodec(quantizer="ste"),
            "hyper": hyper_codec(lib, gain=True),
        }
    )


def _gains(seed=0):
    gen = torch.Generator().manual_seed(seed)
    y_gain = 0.5 + 1.5 * torch.rand(1, 8, 1, 1, generator=gen)
    z_gain = 0.5 + 1.5 * torch.rand(1, 6, 1, 1, generator=gen)
    return {"y_gain": y_gain, "z_gain": z_gain, "y_gain_inv": 1 / y_gain, "z_gain_inv": 1 / z_gain}


def test_gains_scale_y_and_z_before_coding_and_their_inverses_scale_after():
    codec = ready(_codec())
    g = _gains()
    y = gaussian_latent((2, 8, 5, 7), seed=0)
    hyper, lc_y = codec["hyper"], codec["y"]
    medians = hyper.entropy_bottleneck.quantiles[:, 0, 1].reshape(1, -1, 1, 1)
    with torch.no_grad():
        z = hyper.h_a(y) * g["z_gain"]
        z_hat = torch.round(z - medians) + medians
        params = hyper.h_s(z_hat * g["z_gain_inv"])
        scales, means = params.chunk(2, 1)
        y_g = y * g["y_gain"]
        expected = (torch.round(y_g - means) + means) * g["y_gain_inv"]
        out = codec(y, g["y_gain"], g["z_gain"], g["y_gain_inv"], g["z_gain_inv"])
        torch.testing.assert_close(out["y_hat"], expected)
        _, z_lik = hyper.entropy_bottleneck(z)
        _, y_lik = lc_y.gaussian_conditional(y_g, scales, means)
    assert torch.equal(out["likelihoods"]["z"], z_lik)
    torch.testing.assert_close(out["likelihoods"]["y"], y_lik)


@pytest.mark.parametrize(("n", "h", "w"), [(1, 6, 8), (3, 7, 9), (3, 5, 6)])
def test_decompress_returns_exactly_the_y_hat_of_compress(n, h, w):
    codec = ready(_codec())
    g = _gains(seed=n)
    y = gaussian_latent((n, 8, h, w), seed=h * w)
    with torch.no_grad():
        enc = codec.compress(y, g["y_gain"], g["z_gain"], g["y_gain_inv"], g["z_gain_inv"])
        dec = codec.decompress(enc["strings"], enc["shape"], g["y_gain_inv"], g["z_gain_inv"])
        out = codec(y, g["y_gain"], g["z_gain"], g["y_gain_inv"], g["z_gain_inv"])
    assert_plain_shape(enc["shape"])
    assert torch.equal(dec["y_hat"], enc["y_hat"])
    torch.testing.assert_close(out["y_hat"], enc["y_hat"])


def test_rate_estimate_matches_the_coded_size():
    codec = ready(_codec())
    g = _gains(seed=4)
    args = (g["y_gain"], g["z_gain"], g["y_gain_inv"], g["z_gain_inv"])
    y = gaussian_latent((2, 8, 16, 15), seed=4)
    with torch.no_grad():
        out, enc = codec(y, *args), codec.compress(y, *args)
    assert_rate_matches_likelihoods(out["likelihoods"], enc["strings"])


def test_larger_gains_cost_more_bits():
    codec = ready(_codec())
    y = gaussian_latent((1, 8, 8, 8), seed=1)
    sizes = []
    for factor in (0.5, 2.0):
        g = {k: v * factor if "inv" not in k else v / factor for k, v in _gains().items()}
        enc = codec.compress(y, g["y_gain"], g["z_gain"], g["y_gain_inv"], g["z_gain_inv"])
        sizes.append(sum(len(s[0]) for s in enc["strings"]))
    assert sizes[0] < sizes[1]


@pytest.mark.compressai
def test_forward_and_bytes_equal_compressai():
    ours = ready(_codec())
    theirs = load_twin(_codec(compressai_lib()), ours)
    g = _gains(seed=2)
    args = (g["y_gain"], g["z_gain"], g["y_gain_inv"], g["z_gain_inv"])
    y = gaussian_latent((2, 8, 6, 5), seed=2)
    with torch.no_grad():
        a, b = ours(y, *args), theirs(y, *args)
        assert torch.equal(a["y_hat"], b["y_hat"])
        for key in ("y", "z"):
            assert torch.equal(a["likelihoods"][key], b["likelihoods"][key])
        a, b = ours.compress(y, *args), theirs.compress(y, *args)
        assert a["strings"] == b["strings"] and torch.equal(a["y_hat"], b["y_hat"])
        dec = theirs.decompress(a["strings"], a["shape"], g["y_gain_inv"], g["z_gain_inv"])
        assert torch.equal(dec["y_hat"], a["y_hat"])
        dec = ours.decompress(b["strings"], a["shape"], g["y_gain_inv"], g["z_gain_inv"])
        assert torch.equal(dec["y_hat"], a["y_hat"])


def test_gain_hyper_codec_returns_params_from_the_rescaled_z_hat():
    hyper = ready(hyper_codec(gain=True))
    g = _gains(seed=3)
    y = gaussian_latent((2, 8, 4, 5), seed=3)
    with torch.no_grad():
        enc = hyper.compress(y, g["z_gain"], g["z_gain_inv"])
        dec = hyper.decompress(enc["strings"], enc["shape"], g["z_gain_inv"])
        out = hyper(y, g["z_gain"], g["z_gain_inv"])
    assert set(out) == {"likelihoods", "params"} and set(out["likelihoods"]) == {"z"}
    assert torch.equal(dec["params"], enc["params"])
    assert torch.equal(out["params"], enc["params"])


@pytest.mark.compressai
def test_state_dict_keys_are_compressais():
    ours, theirs = _codec(), _codec(compressai_lib())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours, GainHyperpriorLatentCodec) and ours["hyper"] is ours.hyper
