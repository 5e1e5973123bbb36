"""EntropyBottleneckLatentCodec: any latent size, rate, CompressAI's bytes.

Latents are synthetic Gaussians of standard deviation 5; the density is perturbed from its
initial value and its quantiles are bisected before the tables are built.
"""

import pytest
import torch

from tinify.entropy_models import EntropyBottleneck
from tinify.latent_codecs import EntropyBottleneckLatentCodec

from .builders import (
    TINIFY,
    assert_plain_shape,
    assert_rate_matches_likelihoods,
    compressai_lib,
    gaussian_latent,
    load_twin,
    ready,
)


def _codec(lib=TINIFY, channels=6):
    return lib.lc.EntropyBottleneckLatentCodec(lib.em.EntropyBottleneck(channels))


def test_forward_gives_likelihoods_and_y_hat_of_the_latent_shape():
    codec = ready(_codec()).train()
    y = gaussian_latent((3, 6, 7, 9), seed=0)
    out = codec(y)
    assert set(out) == {"likelihoods", "y_hat"} and set(out["likelihoods"]) == {"y"}
    assert out["likelihoods"]["y"].shape == y.shape == out["y_hat"].shape


@pytest.mark.parametrize(("n", "h", "w"), [(1, 6, 8), (3, 7, 9), (3, 6, 5), (1, 1, 1)])
def test_decompress_returns_exactly_the_y_hat_of_compress(n, h, w):
    codec = ready(_codec())
    y = gaussian_latent((n, 6, h, w), seed=h * w)
    enc = codec.compress(y)
    assert enc["shape"] == (h, w)
    assert_plain_shape(enc["shape"])
    assert torch.equal(codec.decompress(enc["strings"], enc["shape"])["y_hat"], enc["y_hat"])
    assert (enc["y_hat"] - y).abs().max() <= 0.5 + 1e-4


def test_rate_estimate_matches_the_coded_size():
    codec = ready(_codec(channels=8))
    y = gaussian_latent((2, 8, 16, 16), seed=1)
    with torch.no_grad():
        out, enc = codec(y), codec.compress(y)
    assert torch.equal(out["y_hat"], enc["y_hat"])
    assert_rate_matches_likelihoods(out["likelihoods"], enc["strings"])


@pytest.mark.compressai
def test_forward_and_bytes_equal_compressai():
    ours = ready(_codec())
    theirs = load_twin(_codec(compressai_lib()), ours)
    y = gaussian_latent((2, 6, 6, 5), seed=2)
    with torch.no_grad():
        a, b = ours(y), theirs(y)
        assert torch.equal(a["y_hat"], b["y_hat"])
        assert torch.equal(a["likelihoods"]["y"], b["likelihoods"]["y"])
        a, b = ours.compress(y), theirs.compress(y)
        assert a["strings"] == b["strings"] and torch.equal(a["y_hat"], b["y_hat"])
        assert torch.equal(ours.decompress(b["strings"], a["shape"])["y_hat"], a["y_hat"])


def test_keyword_arguments_build_the_entropy_bottleneck():
    codec = EntropyBottleneckLatentCodec(channels=5, filters=(2, 2))
    assert isinstance(codec.entropy_bottleneck, EntropyBottleneck)
    assert codec.entropy_bottleneck.channels == 5 and codec.entropy_bottleneck.filters == (2, 2)
