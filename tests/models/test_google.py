"""The four Ballé–Minnen models against CompressAI's: state_dicts, outputs, tables, bitstreams.

A randomly initialised model maps images to latents so small that nearly all quantize to zero,
and its hyper-synthesis predicts scales below the smallest table scale. ``_calibrate_`` rescales
the last layer of each transform on a batch of random images so that ``y`` has a standard
deviation of about 4, ``z`` about 3 and the predicted scales about 5 ± 2 (means of a few units), and
the entropy bottleneck gets perturbed parameters (tests.entropy_models.oracle): the streams then
carry hundreds of bytes per image, spread over many CDF rows, and some values are escape-coded
(the perturbed bottleneck's quantiles are narrower than y or z in some channels). The round-trip
tests also push the latents tens of thousands of steps outside the tables.
"""

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tests.entropy_models.oracle import perturb_bottleneck_
from tinify import models as tinify_models
from tinify.entropy_models import EntropyBottleneck, GaussianConditional
from tinify.layers import GDN
from tinify.models import CompressionModel
from tinify.ops import compute_padding

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from compressai import models as cai_models

NAMES = ["FactorizedPrior", "FactorizedPriorReLU", "ScaleHyperprior", "MeanScaleHyperprior"]
HYPERPRIORS = ["ScaleHyperprior", "MeanScaleHyperprior"]
N, M = 16, 24
SIZE = (64, 128)  # a multiple of 64, so every model codes it


def _has_hyperprior(model: nn.Module) -> bool:
    return hasattr(model, "h_a")


def _hyper_input(model: nn.Module, y: Tensor) -> Tensor:
    # ScaleHyperprior's h_a sees |y|; MeanScaleHyperprior's sees y.
    return y if type(model).__name__ == "MeanScaleHyperprior" else torch.abs(y)


def _rescale_(layer: nn.Module, factor: float) -> None:
    layer.weight.mul_(factor)
    layer.bias.mul_(factor)


@torch.no_grad()
def _calibrate_(model: nn.Module, seed: int = 0) -> nn.Module:
    """Realistic latents (see the module docstring); works on either library's model."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.rand(2, 3, *SIZE, generator=gen)
    perturb_bottleneck_(model.entropy_bottleneck, seed)
    _rescale_(model.g_a[-1], 4.0 / float(model.g_a(images).std()))
    if not _has_hyperprior(model):
        return model.eval()
    y = model.g_a(images)
    _rescale_(model.h_a[-1], 3.0 / float(model.h_a(_hyper_input(model, y)).std()))
    z_hat = torch.round(model.h_a(_hyper_input(model, y)))
    last = model.h_s[4]  # the last convolution (ScaleHyperprior's ReLU follows it)
    _rescale_(last, 2.0 / float(model.h_s[:5](z_hat).std()))
    last.bias[: model.M] += 5.0  # scales mostly in 1..10, as y's spread
    return model.eval()


def _twins(name: str, seed: int = 0, n: int = N, m: int = M) -> tuple[nn.Module, nn.Module]:
    """(tinify model, CompressAI model) of the same class, size and calibrated weights."""
    torch.manual_seed(seed)
    theirs = _calibrate_(getattr(cai_models, name)(n, m), seed)
    ours = getattr(tinify_models, name)(n, m).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return ours, theirs


def _images(batch: int, seed: int = 1, size: tuple[int, int] = SIZE) -> Tensor:
    return torch.rand(batch, 3, *size, generator=torch.Generator().manual_seed(seed))


def _table_names(model: nn.Module) -> list[str]:
    names = []
    for prefix in ("entropy_bottleneck", "gaussian_conditional"):
        if hasattr(model, prefix):
            names += [f"{prefix}.{b}" for b in ("_quantized_cdf", "_offset", "_cdf_length")]
    if hasattr(model, "gaussian_conditional"):
        names.append("gaussian_conditional.scale_table")
    return names


# ---------------------------------------------------------------- architecture and state_dict


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_keys_shapes_and_dtypes_equal_compressai_and_load_both_ways(name):
    ours = getattr(tinify_models, name)(N, M)
    theirs = getattr(cai_models, name)(N, M)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in theirs_sd.items():
        assert (ours_sd[key].shape, ours_sd[key].dtype) == (value.shape, value.dtype), key
    ours.load_state_dict(theirs_sd, strict=True)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    for key, value in ours.state_dict().items():
        assert torch.equal(value, theirs_sd[key]), key


@pytest.mark.parametrize("name", NAMES)
def test_modules_and_attributes_mirror_compressai(name):
    ours = getattr(tinify_models, name)(N, M)
    theirs = getattr(cai_models, name)(N, M)
    ours_modules = [(n, type(m).__name__) for n, m in ours.named_modules()]
    theirs_modules = [(n, type(m).__name__) for n, m in theirs.named_modules()]
    assert ours_modules == theirs_modules
    assert (ours.N, ours.M) == (theirs.N, theirs.M) == (N, M)
    assert ours.downsampling_factor == theirs.downsampling_factor
    assert isinstance(ours, CompressionModel)


def test_factorized_prior_relu_uses_relu_and_no_gdn():
    model = tinify_models.FactorizedPriorReLU(N, M)
    for transform in (model.g_a, model.g_s):
        assert [type(m) for m in transform[1::2]] == [nn.ReLU] * 3
    assert not any(isinstance(m, GDN) for m in model.modules())
    assert isinstance(model, tinify_models.FactorizedPrior)


def test_class_hierarchy_matches_compressai():
    assert issubclass(tinify_models.MeanScaleHyperprior, tinify_models.ScaleHyperprior)
    assert issubclass(tinify_models.FactorizedPriorReLU, tinify_models.FactorizedPrior)


@pytest.mark.parametrize(
    ("name", "arxiv"),
    [
        ("FactorizedPrior", "1611.01704"),
        ("FactorizedPriorReLU", "1611.01704"),
        ("ScaleHyperprior", "1802.01436"),
        ("MeanScaleHyperprior", "1809.02736"),
    ],
)
def test_docstrings_cite_the_paper_and_draw_the_dataflow(name, arxiv):
    doc = getattr(tinify_models, name).__doc__
    assert f"https://arxiv.org/abs/{arxiv}" in doc
    assert ".. code-block:: none" in doc and "g_a" in doc and "Args:" in doc


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize("name", NAMES)
def test_forward_in_eval_mode_equals_compressai(name):
    ours, theirs = _twins(name)
    x = _images(2)
    with torch.no_grad():
        out_ours, out_theirs = ours(x), theirs(x)
    assert set(out_ours) == {"x_hat", "likelihoods"}
    assert set(out_ours["likelihoods"]) == set(out_theirs["likelihoods"])
    assert set(out_ours["likelihoods"]) == ({"y", "z"} if name in HYPERPRIORS else {"y"})
    torch.testing.assert_close(out_ours["x_hat"], out_theirs["x_hat"], rtol=0, atol=1e-5)
    for key, likelihood in out_theirs["likelihoods"].items():
        torch.testing.assert_close(out_ours["likelihoods"][key], likelihood, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_forward_in_training_mode_equals_compressai_with_the_same_noise(name):
    ours, theirs = _twins(name)
    ours.train()
    theirs.train()
    x = _images(2)
    torch.manual_seed(5)
    out_ours = ours(x)
    torch.manual_seed(5)
    out_theirs = theirs(x)
    torch.testing.assert_close(out_ours["x_hat"], out_theirs["x_hat"], rtol=0, atol=1e-5)
    for key, likelihood in out_theirs["likelihoods"].items():
        torch.testing.assert_close(out_ours["likelihoods"][key], likelihood, rtol=0, atol=1e-5)
    assert torch.equal(ours.aux_loss(), theirs.aux_loss())


# ---------------------------------------------------------------- tables, strings, decoding


@pytest.mark.parametrize("name", NAMES)
def test_update_builds_the_same_tables_as_compressai(name):
    ours, theirs = _twins(name, seed=3)
    assert ours.update(force=True) and theirs.update(force=True)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    for key in _table_names(theirs):
        assert ours_sd[key].dtype == theirs_sd[key].dtype, key
        assert torch.equal(ours_sd[key], theirs_sd[key]), key
    # The perturbed bottleneck gives rows of several lengths, not the initial 23-entry ones.
    assert len(set(ours.entropy_bottleneck.cdf_length.tolist())) > 3


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch", [1, 3])
def test_compress_strings_equal_compressai_and_decode_across(name, batch):
    ours, theirs = _twins(name, seed=batch)
    ours.update(force=True)
    theirs.update(force=True)
    x = _images(batch, seed=batch)
    with torch.no_grad():
        out_ours, out_theirs = ours.compress(x), theirs.compress(x)
    assert set(out_ours) == {"strings", "shape"}
    assert out_ours["strings"] == out_theirs["strings"]
    assert tuple(out_ours["shape"]) == tuple(out_theirs["shape"])
    assert [len(s) for s in out_ours["strings"]] == [batch] * (2 if name in HYPERPRIORS else 1)
    assert min(len(s) for s in out_ours["strings"][0]) > 100  # real bits, not a zero latent
    with torch.no_grad():
        ours_from_theirs = ours.decompress(out_theirs["strings"], out_theirs["shape"])
        theirs_from_ours = theirs.decompress(out_ours["strings"], out_ours["shape"])
        ours_from_ours = ours.decompress(out_ours["strings"], out_ours["shape"])
    assert set(ours_from_ours) == {"x_hat"}
    assert ours_from_ours["x_hat"].shape == x.shape
    torch.testing.assert_close(ours_from_theirs["x_hat"], theirs_from_ours["x_hat"], rtol=0, atol=0)
    torch.testing.assert_close(ours_from_ours["x_hat"], theirs_from_ours["x_hat"], rtol=0, atol=0)
    assert 0 <= ours_from_ours["x_hat"].min() and ours_from_ours["x_hat"].max() <= 1


def _spread_(model: nn.Module, y_factor: float, z_factor: float) -> None:
    """Multiplies y (and z) by large factors while keeping the predicted scales as they were,
    so most values land far outside their CDF rows."""
    with torch.no_grad():
        _rescale_(model.g_a[-1], y_factor)
        if _has_hyperprior(model):
            model.h_a[0].weight.div_(y_factor)
            _rescale_(model.h_a[-1], z_factor)
            model.h_s[0].weight.div_(z_factor)


def _symbols_outside_tables(model: nn.Module, y: Tensor, z_hat: Tensor | None) -> int:
    """How many of the encoder's symbols its CDF rows do not cover (coded by escape)."""
    outside = 0
    eb = model.entropy_bottleneck
    target = y if z_hat is None else model.h_a(_hyper_input(model, y))
    medians = eb.quantiles[:, 0, 1].reshape(1, -1, 1, 1)
    coded = eb.quantize(target, "symbols", medians) - eb.offset.reshape(1, -1, 1, 1)
    last = (eb.cdf_length - 3).reshape(1, -1, 1, 1)
    outside += int(((coded < 0) | (coded > last)).sum())
    if z_hat is not None:
        gc = model.gaussian_conditional
        scales, means = model._gaussian_params(z_hat)
        symbols = gc.quantize(y, "symbols", means)
        outside += int((symbols.abs() > -gc.offset[gc.build_indexes(scales).long()]).sum())
    return outside


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch", [1, 2, 3, 4])
@pytest.mark.parametrize("spread", ["realistic", "far"])
def test_decompress_sees_exactly_the_latents_the_encoder_quantized(name, batch, spread):
    """An odd-sized image (67x93), padded to the model's multiple: the decoder's y_hat (and
    z_hat) equal round(v - means) + means computed on the encoder side."""
    model, _ = _twins(name, seed=10 + batch)
    if spread == "far":
        _spread_(model, y_factor=2000.0, z_factor=1000.0)
    model.update(force=True)
    image = _images(batch, seed=batch, size=(67, 93))
    pad, unpad = compute_padding(67, 93, min_div=model.downsampling_factor)
    x = F.pad(image, pad, mode="replicate")

    with torch.no_grad():
        y = model.g_a(x)
        eb = model.entropy_bottleneck
        medians = eb.quantiles[:, 0, 1].reshape(1, -1, 1, 1)
        if _has_hyperprior(model):
            z = model.h_a(_hyper_input(model, y))
            z_expected = torch.round(z - medians) + medians
            _, means = model._gaussian_params(z_expected)
            y_expected = torch.round(y - means) + means if means is not None else torch.round(y)
        else:
            z_expected = None
            y_expected = torch.round(y - medians) + medians
        outside = _symbols_outside_tables(model, y, z_expected)

        seen: dict[str, Tensor] = {}
        hooks = [model.g_s.register_forward_pre_hook(lambda m, a: seen.update(y=a[0].clone()))]
        if _has_hyperprior(model):
            hook = model.h_s.register_forward_pre_hook(lambda m, a: seen.update(z=a[0].clone()))
            hooks.append(hook)
        compressed = model.compress(x)
        seen.clear()
        x_hat = model.decompress(compressed["strings"], compressed["shape"])["x_hat"]
        for hook in hooks:
            hook.remove()

    assert torch.equal(seen["y"], y_expected)
    if z_expected is not None:
        assert torch.equal(seen["z"], z_expected)
    assert F.pad(x_hat, unpad).shape == image.shape
    if spread == "far":
        assert outside > y.numel() // 2, outside  # the escape path really is exercised
        assert y.abs().max() > 1e4


# ---------------------------------------------------------------- loading checkpoints


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [(16, 24), (8, 12)])
def test_from_state_dict_recovers_n_and_m_and_the_weights(name, size):
    _, theirs = _twins(name, n=size[0], m=size[1])
    theirs.update(force=True)
    model = getattr(tinify_models, name).from_state_dict(theirs.state_dict())
    assert type(model) is getattr(tinify_models, name)
    assert (model.N, model.M) == size
    for key, value in theirs.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    # The checkpoint's tables came along: it codes CompressAI's bytes without update().
    x = _images(1)
    with torch.no_grad():
        assert model.eval().compress(x)["strings"] == theirs.compress(x)["strings"]


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_with_other_table_sizes_loads_into_an_updated_model(name):
    source, _ = _twins(name, seed=1)
    target, _ = _twins(name, seed=2)
    source.update(force=True)
    target.update(force=True)
    target_cdf = target.entropy_bottleneck.quantized_cdf
    assert target_cdf.shape != source.entropy_bottleneck.quantized_cdf.shape
    if name in HYPERPRIORS:  # a smaller scale table too
        target.gaussian_conditional.update_scale_table([0.5, 1.0, 2.0], force=True)
    target.load_state_dict(source.state_dict(), strict=True)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    x = _images(2)
    with torch.no_grad():
        assert target.compress(x)["strings"] == source.compress(x)["strings"]


def _legacy_keys(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    """CompressAI < 1.1 names: ``entropy_bottleneck._matrix0`` for ``...matrices.0``."""
    legacy = {"matrices": "_matrix", "biases": "_bias", "factors": "_factor"}
    renamed = {}
    for key, value in state_dict.items():
        parts = key.split(".")
        if parts[0] == "entropy_bottleneck" and parts[1] in legacy:
            key = f"entropy_bottleneck.{legacy[parts[1]]}{parts[2]}"
        renamed[key] = value
    return renamed


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("style", ["_matrix0", "module.", "both"])
def test_old_style_checkpoint_keys_load(name, style):
    ours, _ = _twins(name)
    ours.update(force=True)
    state_dict = ours.state_dict()
    old = _legacy_keys(state_dict) if style != "module." else dict(state_dict)
    if style != "_matrix0":
        old = {f"module.{k}": v for k, v in old.items()}
    assert "entropy_bottleneck.matrices.0" not in old and len(old) == len(state_dict)
    loaded = getattr(tinify_models, name)(N, M)
    loaded.load_state_dict(old, strict=True)
    built = getattr(tinify_models, name).from_state_dict(old)
    for model in (loaded, built):
        for key, value in state_dict.items():
            assert torch.equal(model.state_dict()[key], value), key


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("name", NAMES)
def test_compress_before_update_asks_for_update(name):
    model = getattr(tinify_models, name)(N, M)
    with pytest.raises(ValueError, match=r"update\(\) first"):
        model.compress(_images(1))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(3, 64, 64), (1, 1, 3, 64, 64), (1, 1, 64, 64), (1, 4, 64, 64)])
def test_images_of_the_wrong_shape_raise_value_error_naming_the_expected_shape(name, shape):
    model = getattr(tinify_models, name)(N, M)
    model.update()
    for method in (model, model.compress):
        with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
            method(torch.zeros(shape))


@pytest.mark.parametrize("name", HYPERPRIORS)
def test_hyperprior_compress_of_an_unpadded_image_asks_for_padding(name):
    ours, theirs = _twins(name)
    ours.update()
    theirs.update()
    x = _images(1, size=(64, 96))  # y is 4x6, but a decoder would rebuild 4x8 from z
    with pytest.raises(ValueError, match="multiple of 64"):
        ours.compress(x)
    # CompressAI refuses too: ScaleHyperprior with a ValueError about `indexes`, and
    # MeanScaleHyperprior with a RuntimeError from subtracting means of another shape.
    with pytest.raises((ValueError, RuntimeError)):
        theirs.compress(x)


@pytest.mark.parametrize("name", NAMES)
def test_decompress_rejects_strings_of_the_wrong_layout(name):
    model, _ = _twins(name)
    model.update()
    out = model.compress(_images(1))
    strings, shape = out["strings"], out["shape"]
    with pytest.raises(ValueError, match="strings"):
        model.decompress([*strings, strings[0]], shape)
    with pytest.raises(ValueError, match="strings"):
        model.decompress(strings[0][0], shape)
    with pytest.raises(ValueError, match="list of bytes"):
        model.decompress([s[0] for s in strings], shape)  # bytes where lists belong
    with pytest.raises(ValueError, match="shape"):
        model.decompress(strings, (*shape, 1))


ARCHITECTURE_MIXUPS = [
    ("FactorizedPrior", "FactorizedPriorReLU", "missing keys: g_a.1.beta"),
    ("FactorizedPriorReLU", "FactorizedPrior", "unexpected keys: g_a.1.beta"),
    ("FactorizedPrior", "ScaleHyperprior", "unexpected keys: h_a.0.weight"),
    ("ScaleHyperprior", "MeanScaleHyperprior", "wrong shapes: h_s.0.weight"),
    ("MeanScaleHyperprior", "FactorizedPrior", "missing keys: h_a.0.weight"),
    ("ScaleHyperprior", "FactorizedPriorReLU", "missing keys: g_a.1.beta"),
]


@pytest.mark.parametrize(("name", "other", "problem"), ARCHITECTURE_MIXUPS)
def test_from_state_dict_of_another_architecture_names_it_and_the_keys(name, other, problem):
    state_dict = getattr(cai_models, other)(N, M).state_dict()
    cls = getattr(tinify_models, name)
    with pytest.raises(ValueError, match=name) as info:
        cls.from_state_dict(state_dict)
    assert problem in str(info.value)
    registered = {
        "FactorizedPrior": "bmshj2018-factorized",
        "FactorizedPriorReLU": "bmshj2018-factorized-relu",
        "ScaleHyperprior": "bmshj2018-hyperprior",
        "MeanScaleHyperprior": "mbt2018-mean",
    }[name]
    assert f"'{registered}'" in str(info.value)


def test_from_state_dict_of_the_autoregressive_model_names_its_extra_modules():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state_dict = cai_models.JointAutoregressiveHierarchicalPriors(N, M).state_dict()
    with pytest.raises(ValueError, match=r"unexpected keys: .*context_prediction\.weight"):
        tinify_models.MeanScaleHyperprior.from_state_dict(state_dict)


@pytest.mark.parametrize("name", NAMES)
def test_from_state_dict_without_an_analysis_transform_raises_value_error(name):
    cls = getattr(tinify_models, name)
    with pytest.raises(ValueError, match=r"g_a\.0\.weight"):
        cls.from_state_dict({})
    with pytest.raises(ValueError, match=r"g_a\.6\.weight"):
        cls.from_state_dict({"g_a.0.weight": torch.zeros(N, 3, 5, 5)})


@pytest.mark.parametrize("name", NAMES)
def test_invalid_channel_counts_raise_value_error(name):
    with pytest.raises(ValueError, match="positive"):
        getattr(tinify_models, name)(0, M)


@pytest.mark.parametrize("name", NAMES)
def test_update_and_aux_loss_cover_every_entropy_model(name):
    ours, theirs = _twins(name)
    assert torch.equal(ours.aux_loss(), theirs.aux_loss())
    assert ours.update() is True and ours.update() is False
    entropy_models = [
        m for m in ours.modules() if isinstance(m, EntropyBottleneck | GaussianConditional)
    ]
    assert len(entropy_models) == (2 if name in HYPERPRIORS else 1)
    assert all(m.quantized_cdf.numel() > 0 for m in entropy_models)


@pytest.mark.parametrize(
    "cls",
    [
        tinify_models.ScaleHyperprior,
        tinify_models.MeanScaleHyperprior,
        tinify_models.JointAutoregressiveHierarchicalPriors,
        tinify_models.Cheng2020Anchor,
        tinify_models.GainedMeanScaleHyperprior,
    ],
)
def test_the_latent_codec_is_composed_over_the_models_flat_modules_by_its_key_map(cls):
    net = cls(8, 12) if cls is not tinify_models.Cheng2020Anchor else cls(8)
    flat = net.state_dict(keep_vars=True)
    codec = net.latent_codec.state_dict(keep_vars=True)
    mapped = {}
    for key, tensor in codec.items():
        (part,) = [p for p in net.LATENT_CODEC_KEYS if key.startswith(p + ".")]
        mapped[net.LATENT_CODEC_KEYS[part] + key[len(part) :]] = tensor
    assert mapped and all(flat[key] is tensor for key, tensor in mapped.items())
    assert not any(name.startswith("latent_codec") for name, _ in net.named_modules())
    net.h_s = nn.Sequential(nn.Identity())  # replacing a part composes the codec anew
    assert net["hyper"].h_s is net.h_s
