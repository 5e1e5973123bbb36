"""GaussianConditional against CompressAI's: likelihoods, tables, indexes, bytes; round trips.

Latents have realistic spread: scales log-uniform over the default table's range, values
``means + scales * N(0, 1)``, plus a few far outliers so that the escape path is exercised.
"""

import math

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
    cai_get_scale_table,
)
from tinify.entropy_models import GaussianConditional
from tinify.models import get_scale_table

SPATIAL_SHAPES = [(), (7,), (5, 6), (3, 4, 5), (2, 3, 2, 3), (2, 2, 1, 3, 2)]


def _twins(scale_table=None, **kwargs):
    ours = GaussianConditional(scale_table, **kwargs)
    theirs = cai.GaussianConditional(scale_table, **kwargs)
    if scale_table is None:
        ours.update_scale_table(get_scale_table())
        theirs.update_scale_table(cai_get_scale_table())
    else:
        ours.update()
        theirs.update()
    return ours, theirs


def _latents(shape, seed, outliers=0.02):
    """(values, scales, means) of realistic spread, a few values far in the tails."""
    gen = torch.Generator().manual_seed(seed)
    scales = torch.exp(torch.empty(shape).uniform_(math.log(0.05), math.log(60), generator=gen))
    means = torch.randn(shape, generator=gen) * 4
    values = means + scales * torch.randn(shape, generator=gen)
    far = torch.rand(shape, generator=gen) < outliers
    values = torch.where(far, values + torch.randn(shape, generator=gen) * 5000, values)
    return values, scales, means


def _random_table(seed):
    gen = torch.Generator().manual_seed(seed)
    n = int(torch.randint(1, 48, (1,), generator=gen))
    table = torch.exp(torch.empty(n).uniform_(math.log(0.02), math.log(300), generator=gen))
    return sorted(table.tolist())


@pytest.mark.parametrize("spatial", SPATIAL_SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("with_means", [False, True])
def test_forward_equals_compressai_for_0_to_5_spatial_dims(spatial, training, with_means):
    ours, theirs = _twins()
    x, scales, means = _latents((2, 3, *spatial), seed=len(spatial))
    means = means if with_means else None
    torch.manual_seed(3)
    y_ours, lik_ours = ours(x, scales, means, training=training)
    torch.manual_seed(3)
    y_theirs, lik_theirs = theirs(x, scales, means, training=training)
    assert torch.equal(y_ours, y_theirs)
    torch.testing.assert_close(lik_ours, lik_theirs, rtol=0, atol=0)


def test_forward_gradients_equal_compressai():
    ours, theirs = _twins()
    x, scales, means = _latents((2, 4, 5, 5), seed=1)
    grads = []
    for model in (ours, theirs):
        inputs = [t.clone().requires_grad_() for t in (x, scales, means)]
        torch.manual_seed(0)
        _, likelihood = model(*inputs, training=True)
        (-torch.log2(likelihood).sum()).backward()
        grads.append([t.grad for t in inputs])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_likelihoods_are_bounded_below_and_scales_by_scale_bound():
    ours, _ = _twins()
    x = torch.tensor([[0.0, 1e4]])
    _, likelihood = ours(x, torch.tensor([[1e-6, 1.0]]), training=False)
    _, at_bound = ours(x, torch.tensor([[0.11, 1.0]]), training=False)
    assert torch.equal(likelihood, at_bound)
    assert likelihood[0, 1] == pytest.approx(1e-9)


@pytest.mark.parametrize("table", [None, [0.11], [1.0], [5.0, 5.5], [0.3, 1.0, 2.0, 40.0]], ids=str)
def test_update_builds_the_same_tables_as_compressai(table):
    ours, theirs = _twins(table)
    assert_same_tables(ours, theirs)


@pytest.mark.parametrize("seed", range(10))
def test_update_builds_the_same_tables_as_compressai_for_random_tables(seed):
    table = _random_table(seed)
    ours, theirs = _twins(table)
    assert_same_tables(ours, theirs)
    # update_scale_table with the same table rebuilds the same rows.
    ours.update_scale_table(table, force=True)
    assert_same_tables(ours, theirs)


@pytest.mark.parametrize("tail_mass", [1e-3, 1e-6, 1e-12])
def test_update_with_other_tail_masses_equals_compressai(tail_mass):
    ours, theirs = _twins([0.2, 1.0, 7.0, 30.0], tail_mass=tail_mass)
    assert_same_tables(ours, theirs)


def test_default_tables_have_compressai_shape():
    ours, _ = _twins()
    assert ours.quantized_cdf.shape == (64, 3133)
    assert ours.offset[0] == -1 and ours.offset[-1] == -1565


def test_update_scale_table_accepts_tensors_lists_and_tuples_alike():
    table = get_scale_table(0.2, 50, 17)
    models = [GaussianConditional(None) for _ in range(3)]
    for model, given_table in zip(
        models, [table, table.tolist(), tuple(table.tolist())], strict=True
    ):
        assert model.update_scale_table(given_table) is True
    for model in models[1:]:
        assert_same_tables(model, models[0])


def test_update_scale_table_returns_false_when_tables_exist_unless_forced():
    gc = GaussianConditional(None)
    assert gc.update_scale_table(get_scale_table()) is True
    assert gc.update_scale_table([0.5, 1.0]) is False
    assert len(gc.scale_table) == 64
    assert gc.update_scale_table([0.5, 1.0], force=True) is True
    assert gc.scale_table.tolist() == [0.5, 1.0]
    assert gc.quantized_cdf.size(0) == 2


def test_scale_table_is_a_float32_buffer_like_compressai():
    ours, theirs = _twins([1, 2, 3])
    assert ours.scale_table.dtype == theirs.scale_table.dtype == torch.float32
    assert list(ours.state_dict()) == list(theirs.state_dict())


SPECIAL_SCALES = [
    math.nan,
    math.inf,
    -math.inf,
    -1.0,
    0.0,
    1e-30,
    0.11,
    0.1100001,
    1.0,
    255.99,
    256.0,
    256.01,
    1e30,
]


def _assert_same_indexes(ours, theirs, scales):
    """Equal indexes for ``scales`` as given and tiled into a larger, 3-D tensor."""
    tiled = scales.reshape(-1).repeat(2 * (5000 // scales.numel() + 1))
    for values in (scales, tiled.reshape(2, 1, -1)):
        indexes = ours.build_indexes(values)
        assert indexes.dtype == torch.int32 and indexes.shape == values.shape
        assert torch.equal(indexes, theirs.build_indexes(values))
    return indexes


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_build_indexes_equals_compressai_including_special_scales(dtype):
    ours, theirs = _twins()
    gen = torch.Generator().manual_seed(0)
    random = torch.exp(torch.empty(4000).uniform_(-5, 7, generator=gen))
    scales = torch.cat([torch.tensor(SPECIAL_SCALES), random, ours.scale_table]).to(dtype)
    indexes = _assert_same_indexes(ours, theirs, scales.reshape(1, 1, -1))
    assert indexes.min() == 0 and indexes.max() == 63


@pytest.mark.parametrize("seed", range(4))
def test_build_indexes_equals_compressai_for_random_tables(seed):
    table = _random_table(seed)
    ours, theirs = _twins(table)
    scales = torch.cat([torch.tensor(SPECIAL_SCALES), torch.tensor(table), torch.rand(500) * 400])
    _assert_same_indexes(ours, theirs, scales)


@st.composite
def tables_and_scales(draw):
    """Sorted positive tables (with duplicates, near-duplicates and wide ranges) and scales
    near and between their entries, plus special values."""
    base = draw(st.lists(st.floats(1e-3, 1e4), min_size=1, max_size=40))
    twins = draw(st.lists(st.sampled_from([0.0, 1e-7, 1e-4, 1e-2]), max_size=len(base)))
    table = sorted(b * (1 + d) for b, d in zip(base, twins + [0.0] * len(base), strict=False))
    table = sorted(float(np.float32(t)) for t in table)
    near = [t * f for t in table for f in (1 - 1e-7, 1.0, 1 + 1e-7)]
    others = draw(st.lists(st.floats(-1e5, 1e6) | st.floats(), max_size=40))
    return table, near + others + SPECIAL_SCALES


@given(case=tables_and_scales(), dtype=st.sampled_from([torch.float32, torch.float64]))
@settings(max_examples=150)
def test_build_indexes_equals_compressai_for_any_table_and_scales(case, dtype):
    table, scales = case
    ours = GaussianConditional(table)
    theirs = cai.GaussianConditional(table)
    _assert_same_indexes(ours, theirs, torch.tensor(scales, dtype=dtype).reshape(1, 1, -1))


def test_build_indexes_handles_close_and_equal_table_entries():
    table = [1.0, 1.0001, 1.0002, 2.0, 2.0, 50.0]
    ours = GaussianConditional(table)
    theirs = cai.GaussianConditional(table)
    scales = torch.tensor([0.5, 1.0, 1.00005, 1.0001, 1.00015, 1.5, 2.0, 3.0, 60.0, math.nan])
    _assert_same_indexes(ours, theirs, scales)
    assert ours.build_indexes(scales).tolist() == [0, 0, 1, 1, 2, 3, 3, 5, 5, 5]


def test_build_indexes_of_an_empty_tensor_is_empty():
    ours, _ = _twins()
    assert ours.build_indexes(torch.zeros(2, 0, 3)).shape == (2, 0, 3)


def test_build_indexes_picks_the_first_table_scale_at_least_the_scale():
    ours, _ = _twins([0.5, 1.0, 2.0])
    scales = torch.tensor([0.1, 0.5, 0.6, 1.0, 1.5, 2.0, 3.0])
    assert ours.build_indexes(scales).tolist() == [0, 0, 1, 1, 2, 2, 2]


@pytest.mark.parametrize("with_means", [False, True])
@pytest.mark.parametrize("spatial", [(16,), (5, 6), (2, 3, 4)])
def test_compress_bytes_equal_compressai_and_decode_across(with_means, spatial):
    ours, theirs = _twins()
    x, scales, means = _latents((3, 4, *spatial), seed=11)
    assert x[0].numel() >= MIN_SYMBOLS_FOR_COMPRESSAI
    means = means if with_means else None
    indexes = ours.build_indexes(scales)
    strings = ours.compress(x, indexes, means)
    assert strings == theirs.compress(x, indexes, means)
    expected = ours.quantize(x, "dequantize", means)
    assert torch.equal(ours.decompress(strings, indexes, means=means), expected)
    assert torch.equal(theirs.decompress(strings, indexes, means=means), expected)


def test_some_values_really_take_the_escape_path():
    ours, theirs = _twins()
    x, scales, means = _latents((2, 8, 16, 16), seed=5)
    indexes = ours.build_indexes(scales)
    symbols = ours.quantize(x, "symbols", means)
    centers = -ours.offset[indexes.long()]
    assert (symbols.abs() > centers).sum() > 50
    strings = ours.compress(x, indexes, means)
    assert strings == theirs.compress(x, indexes, means)
    assert torch.equal(theirs.decompress(strings, indexes, means=means), symbols + means)


def test_decompress_returns_the_requested_dtype_without_means():
    ours, _ = _twins()
    x, scales, _ = _latents((1, 2, 8, 8), seed=0)
    indexes = ours.build_indexes(scales)
    strings = ours.compress(x, indexes)
    out = ours.decompress(strings, indexes, torch.float64)
    assert out.dtype == torch.float64
    assert torch.equal(out, torch.round(x).double())


@st.composite
def conditional_inputs(draw):
    dims = draw(st.integers(0, 5))
    biggest = 3 if dims <= 2 else 2
    spatial = tuple(draw(st.lists(st.integers(1, biggest), min_size=dims, max_size=dims)))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4)), *spatial)
    values = st.one_of(st.floats(-60, 60, width=32), st.floats(-1e5, 1e5, width=32))
    x = draw(hnp.arrays(np.float32, shape, elements=values))
    means = draw(hnp.arrays(np.float32, shape, elements=st.floats(-50, 50, width=32)))
    scales = draw(hnp.arrays(np.float32, shape, elements=st.floats(0, 400, width=32)))
    return torch.from_numpy(x), torch.from_numpy(scales), torch.from_numpy(means)


@pytest.fixture(scope="module")
def default_model():
    gc = GaussianConditional(None)
    gc.update_scale_table(get_scale_table())
    return gc


@given(inputs=conditional_inputs())
@settings(max_examples=100)
def test_decompress_of_compress_equals_dequantize_for_any_input(default_model, inputs):
    x, scales, means = inputs
    indexes = default_model.build_indexes(scales)
    strings = default_model.compress(x, indexes, means)
    assert len(strings) == x.size(0)
    x_hat = default_model.decompress(strings, indexes, means=means)
    assert torch.equal(x_hat, default_model.quantize(x, "dequantize", means))


@given(inputs=conditional_inputs(), table_seed=st.integers(0, 1000))
@settings(max_examples=40)
def test_round_trip_holds_for_random_scale_tables(inputs, table_seed):
    x, scales, _ = inputs
    gc = GaussianConditional(_random_table(table_seed))
    gc.update()
    indexes = gc.build_indexes(scales)
    strings = gc.compress(x, indexes)
    assert torch.equal(gc.decompress(strings, indexes), torch.round(x))


def test_compress_and_build_indexes_before_update_ask_for_it():
    gc = GaussianConditional(None)
    with pytest.raises(ValueError, match="update_scale_table"):
        gc.build_indexes(torch.ones(1, 1, 2))
    with pytest.raises(ValueError, match="update_scale_table"):
        gc.update()
    with pytest.raises(ValueError, match=r"update\(\) first"):
        gc.compress(torch.ones(1, 1, 2), torch.zeros(1, 1, 2, dtype=torch.int32))
    # A table given to the constructor still needs update() before coding.
    gc = GaussianConditional([1.0, 2.0])
    with pytest.raises(ValueError, match=r"update\(\) first"):
        gc.compress(torch.ones(1, 1, 2), gc.build_indexes(torch.ones(1, 1, 2)))


def test_compress_rejects_mismatched_shapes(default_model):
    x = torch.zeros(1, 2, 3, 3)
    with pytest.raises(ValueError, match="same shape"):
        default_model.compress(x, torch.zeros(1, 2, 3, 4, dtype=torch.int32))


def test_decompress_rejects_means_of_the_wrong_shape(default_model):
    x, scales, means = _latents((2, 3, 4, 4), seed=0)
    indexes = default_model.build_indexes(scales)
    strings = default_model.compress(x, indexes, means)
    with pytest.raises(ValueError, match="`means`"):
        default_model.decompress(strings, indexes, means=means[:, :2])
    with pytest.raises(ValueError, match="`means`"):
        default_model.decompress(strings, indexes, means=means[..., :3])


@pytest.mark.parametrize(
    "table",
    [[], [2.0, 1.0], [0.0, 1.0], [-1.0], torch.tensor([1.0, 2.0]), np.array([1.0]), 3.0],
    ids=["empty", "decreasing", "zero", "negative", "tensor", "ndarray", "scalar"],
)
def test_invalid_scale_tables_raise_value_error_like_compressai(table):
    with pytest.raises(ValueError, match="scale_table"):
        GaussianConditional(table)
    with pytest.raises(ValueError):
        cai.GaussianConditional(table)


@pytest.mark.parametrize("bound", [0.0, -0.1])
def test_non_positive_scale_bound_raises_value_error(bound):
    with pytest.raises(ValueError, match="scale_bound"):
        GaussianConditional(None, scale_bound=bound)


def test_scale_bound_none_takes_the_first_table_scale_where_compressai_crashes():
    with pytest.raises(AttributeError):  # CompressAI reads its buffer before registering it
        cai.GaussianConditional([0.2, 0.5], scale_bound=None)
    gc = GaussianConditional([0.2, 0.5], scale_bound=None)
    assert gc.scale_bound.tolist() == pytest.approx([0.2])
    assert gc.lower_bound_scale.bound.tolist() == pytest.approx([0.2])
    gc.update()
    assert gc.build_indexes(torch.tensor([0.01, 0.3, 9.0])).tolist() == [0, 1, 1]
    _, likelihood = gc(torch.zeros(1, 1), torch.full((1, 1), 0.01), training=False)
    _, at_bound = gc(torch.zeros(1, 1), torch.full((1, 1), 0.2), training=False)
    assert torch.equal(likelihood, at_bound)


def test_scale_bound_none_without_a_table_raises_value_error():
    with pytest.raises(ValueError, match="scale_bound"):
        GaussianConditional(None, scale_bound=None)
