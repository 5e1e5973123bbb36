"""HyperLatentCodec: params from the decoded z, quantizers, CompressAI's bytes.

``y`` is a synthetic Gaussian of standard deviation 5; ``z = h_a(y)`` spreads over several
quantization steps, and the entropy bottleneck's tables come from a perturbed density.
"""

import numpy as np
import pytest
import torch
from torch import nn

from tinify.entropy_models import EntropyBottleneck
from tinify.latent_codecs import GainHyperLatentCodec, HyperLatentCodec
from tinify.latent_codecs.base import with_prior
from tinify.models import MeanScaleHyperprior

from .builders import (
    TINIFY,
    assert_plain_shape,
    compressai_lib,
    gaussian_latent,
    hyper_codec,
    load_twin,
    ready,
)


@pytest.mark.parametrize("quantizer", ["noise", "ste"])
def test_forward_gives_z_likelihoods_and_params(quantizer):
    codec = ready(hyper_codec(quantizer=quantizer)).train()
    y = gaussian_latent((3, 8, 7, 9), seed=0)
    out = codec(y)
    assert set(out) == {"likelihoods", "params"} and set(out["likelihoods"]) == {"z"}
    assert out["likelihoods"]["z"].shape == (3, 6, 7, 9)
    assert out["params"].shape == (3, 16, 7, 9)


def test_ste_quantizer_feeds_h_s_with_z_rounded_around_the_medians():
    codec = ready(hyper_codec(quantizer="ste")).train()
    y = gaussian_latent((2, 8, 5, 6), seed=1)
    medians = codec.entropy_bottleneck.quantiles[:, 0, 1].reshape(1, -1, 1, 1)
    with torch.no_grad():
        z = codec.h_a(y)
        expected = codec.h_s(torch.round(z - medians) + medians)
        torch.testing.assert_close(codec(y)["params"], expected)


@pytest.mark.parametrize(("n", "h", "w"), [(1, 6, 8), (3, 7, 9), (3, 5, 6)])
def test_decompress_returns_the_params_of_compress(n, h, w):
    codec = ready(hyper_codec())
    y = gaussian_latent((n, 8, h, w), seed=h * w)
    with torch.no_grad():
        enc = codec.compress(y)
        dec = codec.decompress(enc["strings"], enc["shape"])
    assert enc["shape"] == (h, w)
    assert_plain_shape(enc["shape"])
    assert torch.equal(dec["params"], enc["params"])
    assert torch.equal(codec(y)["params"], enc["params"])  # eval forward = what is coded


@pytest.mark.compressai
@pytest.mark.parametrize("quantizer", ["noise", "ste"])
def test_forward_and_bytes_equal_compressai(quantizer):
    ours = ready(hyper_codec(quantizer=quantizer))
    theirs = load_twin(hyper_codec(compressai_lib(), quantizer=quantizer), ours)
    y = gaussian_latent((2, 8, 6, 5), seed=2)
    with torch.no_grad():
        a, b = ours(y), theirs(y)
        assert torch.equal(a["params"], b["params"])
        assert torch.equal(a["likelihoods"]["z"], b["likelihoods"]["z"])
        a, b = ours.compress(y), theirs.compress(y)
        assert a["strings"] == b["strings"] and torch.equal(a["params"], b["params"])
        assert torch.equal(theirs.decompress(a["strings"], a["shape"])["params"], a["params"])


def test_unknown_quantizer_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="quantizer"):
        HyperLatentCodec(TINIFY.em.EntropyBottleneck(2), torch.nn.Identity(), None, "round")


def _engine_codec(prior: str, gain: bool = False) -> nn.Module:
    """A hyper codec whose h_s the engine runs (convolutions and ReLU)."""
    torch.manual_seed(3)
    h_a = nn.Conv2d(8, 6, 3, padding=1)
    h_s = nn.Sequential(nn.Conv2d(6, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 1))
    cls = GainHyperLatentCodec if gain else HyperLatentCodec
    return ready(with_prior(cls(EntropyBottleneck(6), h_a, h_s), prior))


@pytest.mark.parametrize("gain", [False, True])
def test_the_engine_prior_gives_the_engines_params_in_compress_and_decompress(gain):
    from tinify import engine

    codec = _engine_codec("engine", gain)
    y = torch.randn(2, 8, 5, 7) * 4
    args = (torch.full((1, 6, 1, 1), 1.5), torch.full((1, 6, 1, 1), 0.5)) if gain else ()
    out = codec.compress(y, *args)
    z_hat = codec.entropy_bottleneck.decompress(out["strings"][0], out["shape"])
    if gain:
        z_hat = z_hat * args[1]
    expected = engine.run(engine.compile(codec.h_s), z_hat.numpy())
    assert np.array_equal(out["params"].numpy(), expected)
    params = codec.decompress(out["strings"], out["shape"], *args[1:])["params"]
    assert torch.equal(params, out["params"])
    program = codec.__dict__["_prepared"]["engine_prior"]
    codec.decompress(out["strings"], out["shape"], *args[1:])
    assert codec.__dict__["_prepared"]["engine_prior"] is program  # compiled once
    codec.load_state_dict(codec.state_dict())
    assert "_prepared" not in codec.__dict__  # dropped with new weights
    torch_codec = _engine_codec("torch", gain)
    assert torch_codec.compress(y, *args)["strings"] == out["strings"]  # z is coded alike


def test_an_unknown_prior_is_refused():
    with pytest.raises(ValueError, match="unknown prior 'numpy'"):
        _engine_codec("numpy")
    net = MeanScaleHyperprior(8, 12)
    with pytest.raises(ValueError, match="unknown prior"):
        net.prior = "gpu"


def test_a_model_with_the_engine_prior_decodes_what_it_codes():
    torch.manual_seed(0)
    net = MeanScaleHyperprior(8, 12).eval()
    net.update()
    x = torch.rand(2, 3, 64, 128)
    net.prior = "engine"
    assert net["hyper"].prior == "engine"
    with torch.no_grad():
        out = net.compress(x)
        first = net.decompress(out["strings"], out["shape"])["x_hat"]
        again = net.decompress(out["strings"], out["shape"])["x_hat"]
    assert torch.equal(first, again) and first.shape == x.shape
