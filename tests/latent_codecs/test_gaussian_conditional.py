"""GaussianConditionalLatentCodec: quantizers, chunk orders, any latent size, CompressAI's bytes.

Latents are synthetic: ``y = means + scales * noise`` with scales in [2, 8], and the
``ctx_params`` are those scales and means (``entropy_parameters`` is the identity).
"""

import pytest
import torch

from .builders import (
    TINIFY,
    assert_plain_shape,
    assert_rate_matches_likelihoods,
    compressai_lib,
    load_twin,
    ready,
)


def _latent(shape, seed, chunks=("scales", "means")):
    gen = torch.Generator().manual_seed(seed)
    scales = 2 + 6 * torch.rand(shape, generator=gen)
    means = 10 * torch.rand(shape, generator=gen) - 5
    y = means + scales * torch.randn(shape, generator=gen)
    parts = {"scales": scales, "means": means}
    return y, torch.cat([parts[name] for name in chunks], dim=1)


def _codec(lib=TINIFY, **kwargs):
    return lib.lc.GaussianConditionalLatentCodec(**kwargs)


@pytest.mark.parametrize("quantizer", ["noise", "ste"])
def test_forward_gives_likelihoods_and_y_hat_of_the_latent_shape(quantizer):
    codec = ready(_codec(quantizer=quantizer)).train()
    y, params = _latent((3, 4, 7, 9), seed=0)
    out = codec(y, params)
    assert set(out) == {"likelihoods", "y_hat"} and set(out["likelihoods"]) == {"y"}
    assert out["likelihoods"]["y"].shape == y.shape == out["y_hat"].shape
    means = params[:, 4:]
    rounded = torch.round(y - means) + means
    # "ste" rounds around the means even when training; "noise" adds noise.
    assert torch.equal(out["y_hat"], rounded) == (quantizer == "ste")


@pytest.mark.parametrize(("n", "h", "w"), [(1, 6, 8), (3, 7, 9), (3, 5, 6), (1, 1, 1)])
@pytest.mark.parametrize("chunks", [("scales", "means"), ("means", "scales"), ("scales",)])
def test_decompress_returns_exactly_the_y_hat_of_compress(n, h, w, chunks):
    codec = ready(_codec(chunks=chunks))
    y, params = _latent((n, 4, h, w), seed=h + w, chunks=chunks)
    enc = codec.compress(y, params)
    assert enc["shape"] == (h, w)
    assert_plain_shape(enc["shape"])
    assert len(enc["strings"]) == 1 and len(enc["strings"][0]) == n
    dec = codec.decompress(enc["strings"], enc["shape"], params)
    assert torch.equal(dec["y_hat"], enc["y_hat"])
    assert dec["y_hat"].dtype == enc["y_hat"].dtype == y.dtype
    assert (enc["y_hat"] - y).abs().max() <= 0.5 + 1e-4  # rounded, not decoded garbage


@pytest.mark.parametrize("chunks", [("means",), "means"])
def test_means_only_is_refused_at_construction(chunks):
    with pytest.raises(ValueError, match=r"chunks=\('means',\) gives no scales"):
        _codec(chunks=chunks)


def test_scales_only_codes_around_zero():
    codec = ready(_codec(chunks=("scales",)))
    y, params = _latent((2, 4, 5, 5), seed=1)
    scales = params[:, :4]
    enc = codec.compress(y, scales)
    assert torch.equal(enc["y_hat"], torch.round(y))
    assert torch.equal(
        codec.decompress(enc["strings"], enc["shape"], scales)["y_hat"], enc["y_hat"]
    )


def test_rate_estimate_matches_the_coded_size():
    codec = ready(_codec())
    y, params = _latent((2, 8, 16, 16), seed=2)
    with torch.no_grad():
        out, enc = codec(y, params), codec.compress(y, params)
    assert torch.equal(out["y_hat"], enc["y_hat"])
    assert_rate_matches_likelihoods(out["likelihoods"], enc["strings"])


@pytest.mark.compressai
@pytest.mark.parametrize("quantizer", ["noise", "ste"])
@pytest.mark.parametrize("chunks", [("scales", "means"), ("means", "scales")])
def test_forward_and_bytes_equal_compressai(quantizer, chunks):
    ours = ready(_codec(quantizer=quantizer, chunks=chunks))
    theirs = load_twin(_codec(compressai_lib(), quantizer=quantizer, chunks=chunks), ours)
    y, params = _latent((2, 4, 6, 7), seed=3, chunks=chunks)
    ours.train(), theirs.train()
    torch.manual_seed(0)
    a = ours(y, params)
    torch.manual_seed(0)
    b = theirs(y, params)
    assert torch.equal(a["y_hat"], b["y_hat"])
    assert torch.equal(a["likelihoods"]["y"], b["likelihoods"]["y"])
    ours.eval(), theirs.eval()
    a, b = ours.compress(y, params), theirs.compress(y, params)
    assert a["strings"] == b["strings"]
    assert torch.equal(a["y_hat"], b["y_hat"])
    assert torch.equal(theirs.decompress(a["strings"], a["shape"], params)["y_hat"], a["y_hat"])


def test_decompress_with_the_wrong_shape_raises_value_error():
    codec = ready(_codec())
    y, params = _latent((1, 4, 5, 6), seed=4)
    enc = codec.compress(y, params)
    with pytest.raises(ValueError, match="shape"):
        codec.decompress(enc["strings"], (6, 5), params)
    with pytest.raises(ValueError, match="one stream"):
        codec.decompress(enc["strings"] * 2, enc["shape"], params)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"quantizer": "round"}, "quantizer"), ({"chunks": ("scales", "scales")}, "chunks")],
)
def test_unknown_choices_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        _codec(**kwargs)


def test_keyword_arguments_build_the_gaussian_conditional():
    codec = _codec(scale_table=[0.5, 1.0, 2.0], scale_bound=0.2)
    assert codec.gaussian_conditional.scale_table.tolist() == [0.5, 1.0, 2.0]
    assert float(codec.gaussian_conditional.scale_bound) == pytest.approx(0.2)
