"""tinify.models.google/priors/utils against CompressAI's: re-exports, buffers, key renaming,
Gaussian helpers."""

import warnings

import compressai.models.google as cai_google
import compressai.models.utils as cai_utils
import pytest
import torch
from torch import nn
from torch.testing import assert_close

import tinify.models.google as google
from tinify.entropy_models import EntropyBottleneck
from tinify.models import utils


def test_google_reexports_the_scale_table_helpers():
    for name in ("SCALES_MIN", "SCALES_MAX", "SCALES_LEVELS"):
        assert getattr(google, name) == getattr(cai_google, name)
    assert_close(google.get_scale_table(), cai_google.get_scale_table(), rtol=0, atol=0)
    assert set(cai_google.__all__) <= set(google.__all__)


def test_priors_is_a_deprecated_alias_of_google():
    import sys

    sys.modules.pop("tinify.models.priors", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import tinify.models.priors as priors
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    assert priors.MeanScaleHyperprior is google.MeanScaleHyperprior
    assert priors.get_scale_table is google.get_scale_table


def test_find_named_module_and_buffer_equal_compressais():
    net = google.ScaleHyperprior(8, 12)
    for query in ("entropy_bottleneck", "g_a.1", "nothing"):
        assert utils.find_named_module(net, query) is cai_utils.find_named_module(net, query)
    for query in ("entropy_bottleneck._offset", "gaussian_conditional.scale_table", "x"):
        assert utils.find_named_buffer(net, query) is cai_utils.find_named_buffer(net, query)


@pytest.mark.parametrize("policy", ["resize_if_empty", "resize"])
def test_update_registered_buffers_resizes_as_compressai(policy):
    state = {
        "eb._quantized_cdf": torch.zeros(4, 9, dtype=torch.int32),
        "eb._offset": torch.zeros(4, dtype=torch.int32),
        "eb._cdf_length": torch.zeros(4, dtype=torch.int32),
    }
    ours, theirs = EntropyBottleneck(4), EntropyBottleneck(4)
    ours._offset.resize_(2)  # not empty: only "resize" resizes it
    theirs._offset.resize_(2)
    names = ["_quantized_cdf", "_offset", "_cdf_length"]
    utils.update_registered_buffers(ours, "eb", names, state, policy)
    cai_utils.update_registered_buffers(theirs, "eb", names, state, policy)
    for name in names:
        assert getattr(ours, name).shape == getattr(theirs, name).shape


def test_update_registered_buffers_errors_as_compressai():
    module = EntropyBottleneck(4)
    state = {"eb._offset": torch.zeros(4, dtype=torch.int32)}
    for fn in (utils.update_registered_buffers, cai_utils.update_registered_buffers):
        with pytest.raises(ValueError, match="Invalid buffer name"):
            fn(module, "eb", ["_nothing"], state)
        with pytest.raises(ValueError, match="Invalid policy"):
            fn(module, "eb", ["_offset"], state, policy="grow")
        with pytest.raises(RuntimeError, match="already registered"):
            fn(module, "eb", ["_offset"], state, policy="register")
        with pytest.raises(KeyError):
            fn(module, "other", ["_offset"], state)


def test_remap_old_keys_equals_compressai_on_flat_names():
    state = {
        "entropy_bottleneck._bias0": 0,
        "entropy_bottleneck._matrix3": 1,
        "entropy_bottleneck._factor2": 2,
        "entropy_bottleneck.quantiles": 3,
        "g_a.0.weight": 4,
        "h_a.entropy_bottleneck._bias1": 5,
    }
    ours = utils.remap_old_keys("entropy_bottleneck", state)
    theirs = cai_utils.remap_old_keys("entropy_bottleneck", state)
    assert list(ours.items()) == list(theirs.items())
    assert type(ours) is type(theirs)


def test_remap_old_keys_also_renames_the_list_form():
    # CompressAI turns "_biases.0" into "biases.es.0"; tinify into "biases.0".
    state = {"eb._biases.0": 0, "eb._matrices.1": 1, "eb._factors.2": 2}
    assert list(utils.remap_old_keys("eb", state)) == [
        "eb.biases.0",
        "eb.matrices.1",
        "eb.factors.2",
    ]


def test_remap_legacy_keys_and_rename_key_share_one_rule():
    expected = ["g_a.1.skip.weight", "entropy_bottleneck.biases.0", "module.x"]
    state = {"module.g_a.1.downsample.weight": 0, "entropy_bottleneck._bias0": 1, "module.x": 2}
    assert list(utils.remap_legacy_keys(state, expected)) == expected
    assert utils.rename_key("_orig_mod.module.entropy_bottleneck._matrices.3") == (
        "entropy_bottleneck.matrices.3"
    )
    assert utils.rename_key("entropy_bottleneck._matrices.3", flat=True) == (
        "entropy_bottleneck._matrix3"
    )
    assert utils.rename_key("entropy_bottleneck.matrices.3", flat=True) == (
        "entropy_bottleneck.matrices.3"
    )


def test_conv_deconv_equal_compressais():
    for ours, theirs in ((utils.conv, cai_utils.conv), (utils.deconv, cai_utils.deconv)):
        a, b = ours(3, 5, 3, 2), theirs(3, 5, 3, 2)
        assert type(a) is type(b) and repr(a) == repr(b)


def test_gaussian_helpers_equal_compressais():
    torch.manual_seed(0)
    for name in ("gaussian_kernel1d", "gaussian_kernel2d"):
        args = (7, 1.5, torch.device("cpu"), torch.float32)
        assert_close(getattr(utils, name)(*args), getattr(cai_utils, name)(*args), rtol=0, atol=0)
    x = torch.rand(2, 3, 9, 11)
    assert_close(
        utils.gaussian_blur(x, kernel_size=5, sigma=1.2),
        cai_utils.gaussian_blur(x, kernel_size=5, sigma=1.2),
        rtol=0,
        atol=0,
    )
    kernel = utils.gaussian_kernel2d(3, 0.7, "cpu", torch.float32)
    assert_close(utils.gaussian_blur(x, kernel), cai_utils.gaussian_blur(x, kernel))
    for fn in (utils.gaussian_blur, cai_utils.gaussian_blur):
        with pytest.raises(RuntimeError, match="Missing kernel_size or sigma"):
            fn(x, sigma=1.0)
    assert_close(utils.meshgrid2d(2, 3, 4, 5, "cpu"), cai_utils.meshgrid2d(2, 3, 4, 5, "cpu"))


def test_key_map_equals_compressais():
    assert utils.KEY_MAP == cai_utils.KEY_MAP
    assert isinstance(utils.conv(1, 1), nn.Conv2d)


def test_private_helpers_third_party_code_imports_behave_as_compressais() -> None:
    """``models.utils._update_registered_buffer`` and ``zoo.image._load_model``: private in
    CompressAI, imported by its own tests and by third-party code."""
    import compressai.models.utils as cai_utils
    import compressai.zoo.image as cai_image
    from torch import nn

    import tinify.models.utils as ours
    import tinify.zoo.image as our_image

    for lib in (ours, cai_utils):
        conv = nn.Conv2d(1, 1, 1)
        conv.register_buffer("table", torch.empty(0))
        state = {"conv.table": torch.zeros(3, 4)}
        lib._update_registered_buffer(conv, "table", "conv.table", state)
        assert conv.table.shape == (3, 4)
        with pytest.raises(RuntimeError):
            lib._update_registered_buffer(conv, "absent", "conv.table", state, policy="resize")
        with pytest.raises(RuntimeError):
            lib._update_registered_buffer(conv, "table", "conv.table", state, policy="register")
        with pytest.raises(ValueError):
            lib._update_registered_buffer(conv, "table", "conv.table", state, policy="grow")
    for load in (our_image._load_model, cai_image._load_model):
        with pytest.raises(ValueError):
            load("yolo", "mse", 1)
        with pytest.raises(ValueError):
            load("mbt2018", "mse", 0)
    ours_net = our_image._load_model("bmshj2018-hyperprior", "mse", 2)
    theirs_net = cai_image._load_model("bmshj2018-hyperprior", "mse", 2)
    assert list(ours_net.state_dict()) == list(theirs_net.state_dict())
