"""HyperLatentCodec: params from the decoded z, quantizers, CompressAI's bytes.

``y`` is a synthetic Gaussian of standard deviation 5; ``z = h_a(y)`` spreads over several
quantization steps, and the entropy bottleneck's tables come from a perturbed density.
"""

import pytest
import torch

from tinify.latent_codecs import HyperLatentCodec

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
