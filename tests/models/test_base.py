"""CompressionModel's update/aux_loss, the default scale table, and the model registry."""

import warnings

import pytest
import torch
from torch import nn

from tests.entropy_models.oracle import perturb_bottleneck_
from tinify import registry
from tinify.entropy_models import EntropyBottleneck, GaussianConditional
from tinify.models import (
    SCALES_LEVELS,
    SCALES_MAX,
    SCALES_MIN,
    CompressionModel,
    FactorizedPrior,
    FactorizedPriorReLU,
    MeanScaleHyperprior,
    ScaleHyperprior,
    get_scale_table,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import compressai.models.base as cai_base
    from compressai.registry import MODELS as CAI_MODELS


class _TwoBottlenecks(CompressionModel):
    """Entropy models nested at several depths, as composite models hold them."""

    def __init__(self) -> None:
        super().__init__()
        self.entropy_bottleneck = EntropyBottleneck(3)
        self.inner = nn.ModuleDict({"eb": EntropyBottleneck(2), "gc": GaussianConditional(None)})


class _CaiTwoBottlenecks(cai_base.CompressionModel):
    def __init__(self) -> None:
        super().__init__()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from compressai.entropy_models import EntropyBottleneck as CaiEB
            from compressai.entropy_models import GaussianConditional as CaiGC
        self.entropy_bottleneck = CaiEB(3)
        self.inner = nn.ModuleDict({"eb": CaiEB(2), "gc": CaiGC(None)})


def _twins() -> tuple[CompressionModel, nn.Module]:
    theirs = _CaiTwoBottlenecks()
    perturb_bottleneck_(theirs.entropy_bottleneck, 0)
    perturb_bottleneck_(theirs.inner["eb"], 1)
    ours = _TwoBottlenecks()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return ours, theirs


@pytest.mark.parametrize(
    "args", [(), (0.11, 256, 64), (0.5, 20.0, 7), (1.0, 1.0, 1), (0.01, 1e4, 200)], ids=str
)
def test_get_scale_table_equals_compressai(args):
    ours, theirs = get_scale_table(*args), cai_base.get_scale_table(*args)
    assert ours.dtype == theirs.dtype == torch.float32
    assert torch.equal(ours, theirs)


def test_scale_constants_equal_compressai():
    assert (SCALES_MIN, SCALES_MAX, SCALES_LEVELS) == (
        cai_base.SCALES_MIN,
        cai_base.SCALES_MAX,
        cai_base.SCALES_LEVELS,
    )


def test_update_builds_every_nested_entropy_model_like_compressai():
    ours, theirs = _twins()
    assert ours.update() is True
    theirs.update()
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in theirs_sd.items():
        assert torch.equal(ours_sd[key], value), key
    assert len(ours.inner["gc"].scale_table) == SCALES_LEVELS


def test_update_returns_false_once_built_and_true_when_forced():
    ours, _ = _twins()
    assert ours.update() is True
    assert ours.update() is False
    assert ours.update(force=True) is True


def test_update_with_a_scale_table_uses_it_for_gaussian_conditionals():
    ours, _ = _twins()
    table = get_scale_table(0.2, 10, 5)
    ours.update(scale_table=table)
    assert torch.equal(ours.inner["gc"].scale_table, table)
    assert ours.inner["gc"].quantized_cdf.size(0) == 5


def test_update_quantiles_solves_the_bottleneck_quantiles_first():
    ours, theirs = _twins()
    before = ours.aux_loss()
    ours.update(update_quantiles=True)
    theirs.update(update_quantiles=True)
    assert ours.aux_loss() < before / 100
    assert torch.equal(ours.entropy_bottleneck.quantiles, theirs.entropy_bottleneck.quantiles)
    assert torch.equal(ours.inner["eb"].quantized_cdf, theirs.inner["eb"].quantized_cdf)


def test_aux_loss_sums_the_bottleneck_losses_like_compressai():
    ours, theirs = _twins()
    loss = ours.aux_loss()
    assert torch.equal(loss, theirs.aux_loss())
    assert torch.equal(loss, ours.entropy_bottleneck.loss() + ours.inner["eb"].loss())
    loss.backward()
    grads = {name for name, p in ours.named_parameters() if p.grad is not None}
    assert grads == {"entropy_bottleneck.quantiles", "inner.eb.quantiles"}


def test_aux_loss_of_a_model_without_bottleneck_is_zero():
    assert CompressionModel().aux_loss().item() == 0


def test_deprecated_constructor_arguments_warn():
    with pytest.warns(DeprecationWarning, match="entropy_bottleneck_channels"):
        model = CompressionModel(entropy_bottleneck_channels=4)
    assert model.entropy_bottleneck.channels == 4
    with pytest.warns(DeprecationWarning, match="init_weights"):
        CompressionModel(init_weights=True)


REGISTERED = {
    "bmshj2018-factorized": FactorizedPrior,
    "bmshj2018-factorized-relu": FactorizedPriorReLU,
    "bmshj2018-hyperprior": ScaleHyperprior,
    "mbt2018-mean": MeanScaleHyperprior,
}


@pytest.mark.parametrize(("name", "cls"), REGISTERED.items())
def test_registry_resolves_compressai_model_names(name, cls):
    assert registry.resolve("model", name) is cls
    assert registry.resolve("model", name.replace("-", "_").upper()) is cls
    assert name in registry.names("model")
    # The same names, and the same classes by name, as CompressAI's registry.
    assert CAI_MODELS[name].__name__ == cls.__name__


def test_registry_refuses_a_second_class_under_a_taken_name():
    class Impostor(CompressionModel):
        pass

    for spelling in ("bmshj2018-hyperprior", "BMSHJ2018_HYPERPRIOR"):
        with pytest.raises(ValueError, match="already registered"):
            registry.register("model", spelling)(Impostor)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("model", "brand-new-model", aliases=["mbt2018-mean"])(Impostor)
    assert registry.resolve("model", "bmshj2018-hyperprior") is ScaleHyperprior
    assert "brand-new-model" not in registry.names("model")


def test_registry_rejects_unknown_names_and_kinds():
    with pytest.raises(ValueError, match="unknown model"):
        registry.resolve("model", "bmshj2019-factorized")
    with pytest.raises(ValueError, match="unknown registry kind"):
        registry.resolve("codec", "mbt2018-mean")
