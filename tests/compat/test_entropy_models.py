"""tinify's GaussianMixtureConditional against CompressAI's: likelihoods, CDF tables, strings,
round trips (tinify ↔ CompressAI) on realistic latents."""

import pytest
import torch
from compressai.entropy_models import GaussianMixtureConditional as CaiGMM
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from tinify.ans import DecodeError
from tinify.entropy_models import GaussianConditional, GaussianMixtureConditional


def _params(seed, n=1, k=3, m=8, h=6, w=5, scale=(0.5, 10.0)):
    g = torch.Generator().manual_seed(seed)
    scales = torch.rand(n, k * m, h, w, generator=g) * (scale[1] - scale[0]) + scale[0]
    means = torch.randn(n, k * m, h, w, generator=g) * 2
    logits = torch.randn(n, k, m, h, w, generator=g)
    weights = torch.softmax(logits, 1).reshape(n, k * m, h, w)
    # Latents drawn from the mixture's first component, with one all-zero channel.
    y = means[:, :m] + scales[:, :m] * torch.randn(n, m, h, w, generator=g)
    if m > 2:
        y[:, 2] = 0.2
    return y, scales, means, weights


def _copies(*tensors):
    return [t.clone() for t in tensors]


@pytest.mark.compressai
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("k", [1, 3])
def test_forward_likelihoods_equal_compressai(training, k):
    y, scales, means, weights = _params(0, k=k)
    ours, theirs = GaussianMixtureConditional(k), CaiGMM(k)
    torch.manual_seed(5)
    y_ours, lk_ours = ours(y, scales, means, weights, training=training)
    torch.manual_seed(5)
    y_theirs, lk_theirs = theirs(*_copies(y, scales, means, weights), training=training)
    assert_close(y_ours, y_theirs, rtol=0, atol=0)
    assert_close(lk_ours, lk_theirs, rtol=0, atol=1e-5)


def test_one_component_is_a_gaussian_conditional():
    y, scales, means, weights = _params(1, k=1)
    gmm, gc = GaussianMixtureConditional(1).eval(), GaussianConditional(None).eval()
    y_hat = torch.round(y)
    assert_close(
        gmm._likelihood(y_hat, scales, means, weights), gc._likelihood(y_hat, scales, means)
    )


@pytest.mark.compressai
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cdf_tables_and_strings_equal_compressais(seed):
    y, scales, means, weights = _params(seed)
    ours, theirs = GaussianMixtureConditional(), CaiGMM()
    (string, abs_max, bitmap), y_hat = ours.compress(y, scales, means, weights)
    (cai_string, cai_abs_max, cai_bitmap), cai_y_hat = theirs.compress(
        *_copies(y, scales, means, weights)
    )
    assert (abs_max, bitmap.tolist()) == (cai_abs_max, cai_bitmap.tolist())
    assert bitmap[2] == 0 and bitmap.sum() == 7
    assert torch.equal(y_hat, cai_y_hat)
    nonzero = torch.nonzero(bitmap).flatten().tolist()
    table = ours._build_cdf(
        *ours.reshape_entropy_parameters(scales, means, weights, nonzero), abs_max
    )
    cai_table = theirs._build_cdf(
        *theirs.reshape_entropy_parameters(*_copies(scales, means, weights), nonzero), abs_max
    )
    assert torch.equal(table, cai_table)
    assert string == cai_string


@pytest.mark.parametrize("seed", [3, 4])
def test_each_library_decodes_the_others_string(seed):
    y, scales, means, weights = _params(seed)
    ours, theirs = GaussianMixtureConditional(), CaiGMM()
    (string, abs_max, bitmap), y_hat = ours.compress(y, scales, means, weights)
    assert torch.equal(ours.decompress(string, abs_max, bitmap, scales, means, weights), y_hat)
    decoded = theirs.decompress(string, abs_max, bitmap, *_copies(scales, means, weights))
    assert torch.equal(decoded, y_hat)
    (cai_string, *_), _ = theirs.compress(*_copies(y, scales, means, weights))
    assert torch.equal(ours.decompress(cai_string, abs_max, bitmap, scales, means, weights), y_hat)


@settings(max_examples=25)
@given(
    n=st.integers(1, 3),
    k=st.integers(1, 4),
    m=st.integers(1, 5),
    h=st.integers(1, 5),
    w=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
    spread=st.floats(0.0, 30.0),
)
def test_decompress_inverts_compress_for_any_batch_and_mixture(n, k, m, h, w, seed, spread):
    y, scales, means, weights = _params(seed, n=n, k=k, m=m, h=h, w=w)
    y = y * spread / 10
    gmm = GaussianMixtureConditional(k)
    (string, abs_max, bitmap), y_hat = gmm.compress(y, scales, means, weights)
    assert torch.equal(gmm.decompress(string, abs_max, bitmap, scales, means, weights), y_hat)
    assert torch.equal(y_hat, torch.round(y))


def test_all_zero_latent_and_errors():
    y, scales, means, weights = _params(6)
    gmm = GaussianMixtureConditional()
    (string, abs_max, bitmap), y_hat = gmm.compress(torch.zeros_like(y), scales, means, weights)
    assert bitmap.sum() == 0
    assert torch.equal(gmm.decompress(string, abs_max, bitmap, scales, means, weights), y_hat)
    with pytest.raises(ValueError, match="weights"):
        gmm.compress(y, scales, means, weights[:, :-1])
    with pytest.raises(ValueError, match="abs_max"):
        gmm.decompress(string, 0, bitmap, scales, means, weights)
    with pytest.raises(ValueError, match="`K`"):
        GaussianMixtureConditional(0)
    (string, abs_max, bitmap), _ = gmm.compress(y, scales, means, weights)
    with pytest.raises(DecodeError):
        gmm.decompress(string[:-4], abs_max, bitmap, scales, means, weights)


def test_deprecated_quantize_names_warn_and_agree_with_compressai() -> None:
    import compressai.entropy_models as cai

    from tinify.entropy_models import EntropyBottleneck

    x = torch.rand(1, 3, 4, 4) * 8
    means = torch.rand(1, 3, 4, 4)
    for model in (EntropyBottleneck(3), cai.EntropyBottleneck(3)):
        with pytest.warns(UserWarning, match="_quantize"):
            symbols = model._quantize(x, "symbols", means)
        assert torch.equal(symbols, torch.round(x - means).int())
        with pytest.warns(UserWarning, match="_dequantize"):
            values = model._dequantize(symbols, means)
        assert torch.equal(values, symbols.float() + means)
