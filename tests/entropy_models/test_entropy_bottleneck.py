"""EntropyBottleneck against CompressAI's: density, aux loss, CDF tables, bytes; and round trips.

Both sides get the same perturbed parameters (tests.entropy_models.oracle), so the densities,
quantiles and tables are far from the initial ones. Values are spread widely enough that the
streams carry real bits and some fall outside the tables (the escape path).
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.entropy_models.oracle import (
    MIN_SYMBOLS_FOR_COMPRESSAI,
    assert_same_tables,
    cai,
    twin_bottlenecks,
)
from tinify.entropy_models import EntropyBottleneck

SPATIAL_SHAPES = [(), (7,), (5, 6), (3, 4, 5), (2, 3, 2, 3), (2, 2, 1, 3, 2)]


def _latents(shape, seed, spread=8.0):
    """Values around the medians, some far out in the tails."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=gen) * spread
    far = torch.rand(shape, generator=gen) < 0.05
    return torch.where(far, x * 40, x)


@pytest.mark.parametrize("spatial", SPATIAL_SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_forward_equals_compressai_for_0_to_5_spatial_dims(spatial, training):
    ours, theirs = twin_bottlenecks(3, seed=len(spatial))
    x = _latents((2, 3, *spatial), seed=1)
    torch.manual_seed(7)
    y_ours, lik_ours = ours(x, training=training)
    torch.manual_seed(7)
    y_theirs, lik_theirs = theirs(x, training=training)
    assert y_ours.shape == lik_ours.shape == x.shape
    assert torch.equal(y_ours, y_theirs)
    torch.testing.assert_close(lik_ours, lik_theirs, rtol=0, atol=0)


def test_forward_follows_the_module_mode_when_training_is_not_given():
    ours, _ = twin_bottlenecks(3, seed=0)
    x = _latents((2, 3, 4, 4), seed=2)
    ours.eval()
    y_hat, _ = ours(x)
    assert torch.equal(y_hat, ours.quantize(x, "dequantize", ours.quantiles[:, 0, 1:2, None]))
    ours.train()
    y_noisy, _ = ours(x)
    assert not torch.equal(y_noisy, y_hat)
    assert (y_noisy - x).abs().max() <= 0.5 + 1e-4


def test_forward_gradients_equal_compressai():
    ours, theirs = twin_bottlenecks(3, seed=4)
    x = _latents((2, 3, 5, 4), seed=3)
    grads = []
    for model in (ours, theirs):
        xi = x.clone().requires_grad_()
        torch.manual_seed(0)
        _, likelihood = model(xi, training=True)
        (-torch.log2(likelihood).sum()).backward()
        grads.append([xi.grad, *(p.grad for p in model.parameters())])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_forward_rejects_inputs_with_another_channel_count():
    eb = EntropyBottleneck(4)
    with pytest.raises(ValueError, match=r"\(N, 4, \.\.\.\)"):
        eb(torch.zeros(1, 3, 2, 2))
    with pytest.raises(ValueError, match=r"\(N, 4, \.\.\.\)"):
        eb(torch.zeros(4))


@pytest.mark.parametrize("seed", range(4))
def test_loss_and_its_gradient_equal_compressai(seed):
    ours, theirs = twin_bottlenecks(5, seed=seed)
    loss_ours, loss_theirs = ours.loss(), theirs.loss()
    assert torch.equal(loss_ours, loss_theirs)
    loss_ours.backward()
    loss_theirs.backward()
    assert torch.equal(ours.quantiles.grad, theirs.quantiles.grad)
    # Only the quantiles learn from the aux loss.
    assert all(p.grad is None for n, p in ours.named_parameters() if n != "quantiles")


@pytest.mark.parametrize("seed", range(8))
def test_update_builds_the_same_tables_as_compressai(seed):
    ours, theirs = twin_bottlenecks(1 + seed, seed=seed)
    assert ours.update(force=True) and theirs.update(force=True)
    assert_same_tables(ours, theirs)
    # The perturbed quantiles give rows of many lengths.
    assert len(set(ours.cdf_length.tolist())) == min(1 + seed, len(ours.cdf_length))


def test_update_with_initial_parameters_builds_the_same_tables_as_compressai():
    theirs = cai.EntropyBottleneck(6)
    ours = EntropyBottleneck(6)
    ours.load_state_dict(theirs.state_dict())
    ours.update()
    theirs.update()
    assert_same_tables(ours, theirs)


@pytest.mark.parametrize("seed", range(3))
def test_update_quantiles_bisection_matches_compressai(seed):
    ours, theirs = twin_bottlenecks(4, seed=seed)
    ours.update(update_quantiles=True)
    theirs.update(update_quantiles=True)
    assert torch.equal(ours.quantiles, theirs.quantiles)
    assert_same_tables(ours, theirs)
    # The solved quantiles are where the cumulative logits meet the target.
    logits = ours._logits_cumulative(ours.quantiles.detach(), stop_gradient=True)
    assert ours.loss() < 0.05 * ours.channels
    torch.testing.assert_close(logits[:, 0, 1], torch.zeros(4), atol=1e-2, rtol=0)


def test_update_returns_false_when_tables_exist_unless_forced():
    ours, _ = twin_bottlenecks(3, seed=0)
    assert ours.update() is True
    tables = ours.quantized_cdf.clone()
    with torch.no_grad():
        ours.quantiles.add_(5)
    assert ours.update() is False
    assert torch.equal(ours.quantized_cdf, tables)
    assert ours.update(force=True) is True
    assert not torch.equal(ours.offset, torch.zeros_like(ours.offset))


def test_update_clamps_quantiles_that_cross_the_median():
    ours, theirs = twin_bottlenecks(3, seed=1)
    for model in (ours, theirs):
        with torch.no_grad():
            model.quantiles[0, 0] = torch.tensor([2.0, 1.0, 0.5])  # both tails inverted
        model.update()
    assert_same_tables(ours, theirs)
    assert ours.cdf_length[0] == 3  # a single value, plus the escape and the final entry


def _spatial(x):
    return x.shape[2:]


@pytest.mark.parametrize("spatial", SPATIAL_SHAPES)
def test_compress_bytes_equal_compressai_and_decode_across(spatial):
    ours, theirs = twin_bottlenecks(3, seed=10 + len(spatial))
    ours.update()
    theirs.update()
    batch = 2 if int(np.prod(spatial)) * 3 >= MIN_SYMBOLS_FOR_COMPRESSAI else 1
    x = _latents((batch, 3, *spatial), seed=5, spread=4.0)
    if x[0].numel() < MIN_SYMBOLS_FOR_COMPRESSAI:
        x = _latents((batch, 3, 3, 3), seed=5, spread=4.0)
    strings = ours.compress(x)
    assert strings == theirs.compress(x)
    expected = ours.quantize(
        x, "dequantize", ours.quantiles[:, 0, 1].reshape(-1, *[1] * (x.dim() - 2))
    )
    assert torch.equal(ours.decompress(strings, _spatial(x)), expected)
    assert torch.equal(theirs.decompress(strings, _spatial(x)), expected)


def test_compressed_values_outside_the_tables_take_the_escape_path():
    ours, theirs = twin_bottlenecks(4, seed=2)
    ours.update()
    theirs.update()
    x = _latents((3, 4, 8, 8), seed=9, spread=30.0)
    symbols = ours.quantize(x, "symbols", ours.quantiles[:, 0, 1].reshape(-1, 1, 1))
    coded = symbols - ours.offset.reshape(-1, 1, 1)
    outside = (coded < 0) | (coded > (ours.cdf_length - 3).reshape(-1, 1, 1))
    assert outside.sum() > 20
    strings = ours.compress(x)
    assert strings == theirs.compress(x)
    x_hat = theirs.decompress(strings, (8, 8))
    assert torch.equal(ours.decompress(strings, (8, 8)), x_hat)
    assert torch.equal(x_hat, symbols + ours.quantiles[:, 0, 1].reshape(-1, 1, 1))


def test_compress_before_update_asks_for_update():
    eb = EntropyBottleneck(3)
    with pytest.raises(ValueError, match=r"call update\(\) first"):
        eb.compress(torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match=r"call update\(\) first"):
        eb.decompress([b"\0" * 8], (4, 4))


def test_compress_rejects_inputs_with_another_channel_count():
    eb = EntropyBottleneck(3)
    eb.update()
    with pytest.raises(ValueError, match=r"\(N, 3, \.\.\.\)"):
        eb.compress(torch.zeros(1, 4, 2, 2))


def test_decompress_rejects_strings_that_are_not_a_list():
    eb = EntropyBottleneck(3)
    eb.update()
    strings = eb.compress(torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="list of bytes"):
        eb.decompress(strings[0], (4, 4))


@st.composite
def bottleneck_inputs(draw):
    dims = draw(st.integers(0, 5))
    biggest = 3 if dims <= 2 else 2
    spatial = tuple(draw(st.lists(st.integers(1, biggest), min_size=dims, max_size=dims)))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4)), *spatial)
    values = st.one_of(
        st.floats(-40, 40, width=32),
        st.floats(-1e5, 1e5, width=32),
        st.sampled_from([-0.5, 0.5, 1.5, -2.5]),
    )
    return draw(hnp.arrays(np.float32, shape, elements=values))


@given(x=bottleneck_inputs(), seed=st.integers(0, 2**16))
@settings(max_examples=100)
def test_decompress_of_compress_equals_dequantize_for_any_input(x, seed):
    x = torch.from_numpy(x)
    eb, _ = twin_bottlenecks(x.size(1), seed=seed)
    eb.update()
    medians = eb.quantiles[:, 0, 1].detach().reshape(-1, *[1] * (x.dim() - 2))
    strings = eb.compress(x)
    assert len(strings) == x.size(0) and all(isinstance(s, bytes) for s in strings)
    assert torch.equal(eb.decompress(strings, x.shape[2:]), eb.quantize(x, "dequantize", medians))
