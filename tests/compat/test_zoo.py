"""tinify.zoo's CompressAI contract: load_state_dict returns the renamed dict exactly as
compressai.zoo.load_state_dict; image_models and models; the renamed dict loads into both."""

import compressai.zoo as cai_zoo
import pytest
import torch

from tinify import zoo
from tinify.models import FactorizedPrior


def _legacy(state):
    """``state`` with the key names of old CompressAI zoo files and DataParallel."""
    out = {}
    for key, value in state.items():
        for new, old in (
            ("biases.", "_biases."),
            ("matrices.", "_matrices."),
            ("factors.", "_factors."),
        ):
            key = key.replace(f"entropy_bottleneck.{new}", f"entropy_bottleneck.{old}")
        out[f"module.{key}"] = value
    return out


def test_load_state_dict_returns_compressais_dict():
    torch.manual_seed(0)
    state = _legacy(FactorizedPrior(8, 12).state_dict())
    state["module.g_a.1.downsample.weight"] = torch.zeros(1)
    assert any("_biases." in k for k in state)
    ours, theirs = zoo.load_state_dict(state), cai_zoo.load_state_dict(state)
    assert list(ours) == list(theirs)
    assert all(ours[k] is theirs[k] for k in ours)
    assert "entropy_bottleneck._bias0" in ours and "g_a.1.skip.weight" in ours


def test_the_renamed_dict_loads_into_tinify_and_compressai_models():
    from compressai.models import FactorizedPrior as CaiFactorizedPrior

    torch.manual_seed(1)
    source = FactorizedPrior(8, 12)
    renamed = zoo.load_state_dict(_legacy(source.state_dict()))
    for cls in (FactorizedPrior, CaiFactorizedPrior):
        net = cls(8, 12)
        net.load_state_dict(renamed)
        assert torch.equal(
            net.entropy_bottleneck.matrices[0], source.entropy_bottleneck.matrices[0]
        )
    assert isinstance(zoo.model_from_state_dict(renamed), FactorizedPrior)


def test_image_models_hold_compressais_entries_in_its_order():
    theirs = list(cai_zoo.image_models)
    assert list(zoo.image_models)[: len(theirs)] == theirs
    assert list(zoo.models)[: len(theirs)] == theirs
    assert set(cai_zoo.models) - set(zoo.models) == set(cai_zoo.pointcloud_models) | set(
        cai_zoo.video_models
    )


@pytest.mark.parametrize("name", ["bmshj2018-factorized", "cheng2020-anchor", "mbt2018-mean"])
def test_entry_points_build_compressais_architectures(name):
    ours, theirs = zoo.image_models[name](quality=1), cai_zoo.image_models[name](quality=1)
    assert type(ours).__name__ == type(theirs).__name__
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in theirs.state_dict().items()
    }
