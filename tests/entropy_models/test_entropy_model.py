"""EntropyModel: quantization, dequantization, argument checks, and models that survive copying."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

from tests.entropy_models.oracle import cai, twin_bottlenecks
from tinify.entropy_models import (
    EntropyBottleneck,
    EntropyModel,
    GaussianConditional,
    pmf_to_quantized_cdf,
)
from tinify.models import get_scale_table

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from compressai.entropy_models.entropy_models import (
        pmf_to_quantized_cdf as cai_pmf_to_quantized_cdf,
    )


@pytest.fixture
def model():
    return EntropyModel()


def test_noise_mode_adds_uniform_noise_within_half_a_step_and_ignores_means(model):
    x = torch.randn(4, 8, 16, 16) * 10
    torch.manual_seed(0)
    out = model.quantize(x, "noise")
    torch.manual_seed(0)
    out_with_means = model.quantize(x, "noise", means=torch.full_like(x, 3.7))
    assert torch.equal(out, out_with_means)
    noise = out - x
    assert noise.abs().max() <= 0.5 + 1e-5
    # The noise spans the whole step, not a corner of it.
    assert noise.min() < -0.45 and noise.max() > 0.45


def test_noise_mode_draws_the_same_noise_as_compressai(model):
    x = torch.randn(2, 3, 5, 7)
    torch.manual_seed(1)
    ours = model.quantize(x, "noise")
    torch.manual_seed(1)
    theirs = cai.EntropyModel().quantize(x, "noise")
    assert torch.equal(ours, theirs)


@pytest.mark.parametrize("with_means", [False, True])
def test_dequantize_mode_rounds_around_the_means(model, with_means):
    x = torch.randn(3, 4, 9) * 20
    means = torch.randn(3, 4, 9) * 5 if with_means else None
    expected = torch.round(x - means) + means if with_means else torch.round(x)
    out = model.quantize(x, "dequantize", means)
    assert torch.equal(out, expected)
    assert torch.equal(out, cai.EntropyModel().quantize(x, "dequantize", means))


@pytest.mark.parametrize("with_means", [False, True])
def test_symbols_mode_gives_int32_of_the_rounded_offset_values(model, with_means):
    x = torch.randn(3, 4, 9) * 20
    means = torch.randn(1, 4, 1) if with_means else None
    out = model.quantize(x, "symbols", means)
    assert out.dtype == torch.int32
    expected = torch.round(x - means) if with_means else torch.round(x)
    assert torch.equal(out, expected.int())
    assert torch.equal(out, cai.EntropyModel().quantize(x, "symbols", means))


def test_rounding_is_half_to_even(model):
    x = torch.tensor([[-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]])
    assert model.quantize(x, "symbols").tolist() == [[-2, -2, 0, 0, 2, 2]]


def test_quantize_does_not_modify_its_inputs(model):
    x = torch.randn(2, 3, 4)
    means = torch.randn(2, 3, 4)
    x_copy, means_copy = x.clone(), means.clone()
    for mode in ("noise", "dequantize", "symbols"):
        model.quantize(x, mode, means)
    assert torch.equal(x, x_copy) and torch.equal(means, means_copy)


@pytest.mark.parametrize("mode", ["round", "", "Noise", None])
def test_invalid_quantize_mode_raises_value_error(model, mode):
    with pytest.raises(ValueError, match="quantization mode"):
        model.quantize(torch.zeros(1, 1), mode)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_dequantize_casts_or_adds_means_like_compressai(dtype):
    symbols = torch.randint(-50, 50, (2, 3, 4), dtype=torch.int32)
    out = EntropyModel.dequantize(symbols, dtype=dtype)
    assert out.dtype == dtype
    assert torch.equal(out, cai.EntropyModel.dequantize(symbols, dtype=dtype))
    means = torch.randn(2, 3, 4, dtype=dtype)
    out = EntropyModel.dequantize(symbols, means)
    assert out.dtype == dtype
    assert torch.equal(out, symbols.to(dtype) + means)
    assert torch.equal(out, cai.EntropyModel.dequantize(symbols, means.clone()))


def test_dequantize_inverts_symbols_quantization(model):
    x = torch.randn(4, 5, 6) * 30
    means = torch.randn(4, 5, 6)
    symbols = model.quantize(x, "symbols", means)
    assert torch.equal(model.dequantize(symbols, means), model.quantize(x, "dequantize", means))


def test_base_forward_is_not_implemented(model):
    with pytest.raises(NotImplementedError):
        model(torch.zeros(1))


@pytest.mark.parametrize("coder", ["rangecoder", "bogus"])
def test_unknown_entropy_coder_raises_value_error(coder):
    with pytest.raises(ValueError, match="entropy coder"):
        EntropyModel(entropy_coder=coder)


@pytest.mark.parametrize("precision", [0, 17, -1])
def test_precision_outside_1_to_16_raises_value_error(precision):
    with pytest.raises(ValueError, match="precision"):
        EntropyModel(entropy_coder_precision=precision)


def test_likelihood_bound_zero_disables_the_lower_bound():
    assert not hasattr(EntropyModel(likelihood_bound=0), "likelihood_lower_bound")
    eb = EntropyBottleneck(2, likelihood_bound=0)
    eb.eval()
    _, likelihood = eb(torch.full((1, 2, 3), 1e4))
    assert (likelihood == 0).all()


def test_buffers_start_empty_with_compressai_names_behind_the_properties(model):
    for name in ("offset", "quantized_cdf", "cdf_length"):
        buffer = getattr(model, name)
        assert buffer is getattr(model, f"_{name}")
        assert buffer.numel() == 0 and buffer.dtype == torch.int32
    assert list(model.state_dict()) == list(cai.EntropyModel().state_dict())


def test_compress_and_decompress_before_update_ask_for_update(model):
    x = torch.zeros(1, 2, 3)
    indexes = torch.zeros(1, 2, 3, dtype=torch.int32)
    with pytest.raises(ValueError, match=r"update\(\) first"):
        model.compress(x, indexes)
    with pytest.raises(ValueError, match=r"update\(\) first"):
        model.decompress([b""], indexes)


@pytest.fixture
def updated():
    gc = GaussianConditional(None)
    gc.update_scale_table(get_scale_table())
    return gc


def test_compress_rejects_inputs_of_fewer_than_two_dims(updated):
    x = torch.zeros(5)
    with pytest.raises(ValueError, match="at least 2-D"):
        updated.compress(x, x.int())


def test_compress_rejects_indexes_of_another_shape(updated):
    with pytest.raises(ValueError, match="same shape"):
        updated.compress(torch.zeros(1, 2, 3), torch.zeros(1, 2, 4, dtype=torch.int32))


def test_compress_rejects_indexes_outside_the_table(updated):
    indexes = torch.full((1, 2, 3), 64, dtype=torch.int32)
    with pytest.raises(ValueError):
        updated.compress(torch.zeros(1, 2, 3), indexes)


def test_decompress_rejects_bad_strings_and_indexes(updated):
    indexes = torch.zeros(2, 3, 4, dtype=torch.int32)
    strings = updated.compress(torch.zeros(2, 3, 4), indexes)
    with pytest.raises(ValueError, match="list of bytes"):
        updated.decompress(strings[0], indexes)
    with pytest.raises(ValueError, match="strings for a batch"):
        updated.decompress(strings[:1], indexes)
    with pytest.raises(ValueError, match="at least 2-D"):
        updated.decompress(strings[:1], torch.zeros(1, dtype=torch.int32))


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4, 1), (1, 3, 4), (2, 1, 4), (2, 3, 2)])
def test_decompress_rejects_means_that_do_not_fit_the_indexes(updated, shape):
    indexes = torch.zeros(2, 3, 4, dtype=torch.int32)
    strings = updated.compress(torch.zeros(2, 3, 4), indexes)
    with pytest.raises(ValueError, match="`means`"):
        updated.decompress(strings, indexes, means=torch.zeros(shape))


def test_decompress_accepts_means_broadcast_along_spatial_dims(updated):
    indexes = torch.full((2, 3, 4, 5), 20, dtype=torch.int32)
    x = torch.randn(2, 3, 4, 5) * 3
    means = torch.randn(2, 3, 1, 5)
    strings = updated.compress(x, indexes, means)
    out = updated.decompress(strings, indexes, means=means)
    assert torch.equal(out, updated.quantize(x, "dequantize", means))


def test_corrupt_stream_raises_value_error_not_a_crash(updated):
    indexes = torch.full((1, 4, 8, 8), 30, dtype=torch.int32)
    strings = updated.compress(torch.randn(1, 4, 8, 8) * 10, indexes)
    with pytest.raises(ValueError):
        updated.decompress([strings[0][:5]], indexes)


def _coded(model, x):
    if isinstance(model, GaussianConditional):
        indexes = model.build_indexes(torch.full_like(x, 2.0))
        strings = model.compress(x, indexes)
        return strings, model.decompress(strings, indexes)
    strings = model.compress(x)
    return strings, model.decompress(strings, x.shape[2:])


@pytest.mark.parametrize("kind", ["bottleneck", "gaussian"])
@pytest.mark.parametrize("clone", ["deepcopy", "pickle"])
def test_copied_updated_models_code_identically(kind, clone):
    if kind == "bottleneck":
        model, _ = twin_bottlenecks(4, seed=3)
        model.update()
    else:
        model = GaussianConditional(None)
        model.update_scale_table(get_scale_table())
    copied = copy.deepcopy(model) if clone == "deepcopy" else pickle.loads(pickle.dumps(model))
    x = torch.randn(2, 4, 6, 5) * 8
    strings, x_hat = _coded(model, x)
    copied_strings, copied_x_hat = _coded(copied, x)
    assert copied_strings == strings
    assert torch.equal(copied_x_hat, x_hat)
    assert copied.entropy_coder == model.entropy_coder == "ans"


def test_pmf_to_quantized_cdf_tensor_helper_equals_compressai():
    gen = np.random.default_rng(0)
    for _ in range(20):
        pmf = torch.from_numpy(gen.dirichlet(np.ones(gen.integers(2, 60))).astype(np.float32))
        ours = pmf_to_quantized_cdf(pmf, 16)
        theirs = cai_pmf_to_quantized_cdf(pmf, 16)
        assert ours.dtype == theirs.dtype == torch.int32
        assert torch.equal(ours, theirs)


def test_update_prepares_the_coding_tables_once_and_loading_or_assigning_drops_them():
    gc = GaussianConditional(None)
    gc.update_scale_table(get_scale_table())
    prepared = gc.coding_tables()
    assert gc.coding_tables() is prepared  # built by update(), kept
    scales = torch.rand(1, 4, 3, 3) * 10
    indexes = gc.index_array(scales)
    assert isinstance(indexes, np.ndarray) and indexes.dtype == np.int32

    other = GaussianConditional(None)
    other.update_scale_table(get_scale_table(0.2))  # same table size: no resizing
    gc.load_state_dict(other.state_dict())
    assert gc.coding_tables() is not prepared
    assert gc.coding_tables().shape == tuple(other.quantized_cdf.shape)
    np.testing.assert_array_equal(gc.index_array(scales), other.index_array(scales))

    before = gc.coding_tables()
    gc.update_scale_table(get_scale_table(), force=True)
    assert gc.coding_tables() is not before
    np.testing.assert_array_equal(gc.index_array(scales), indexes)
