"""tinify.registry's CompressAI API (register_* decorators, MODELS … dicts) on tinify's one
registry, against compressai.registry."""

import pytest
import torch
from compressai import registry as cai_registry

from tinify import registry
from tinify.models import CompressionModel, ScaleHyperprior

VIEWS = ["MODELS", "MODULES", "CRITERIONS", "DATASETS", "OPTIMIZERS", "SCHEDULERS", "TRANSFORMS"]
_OUT_OF_SCOPE = ("pcc", "vbr", "ssf", "Pcc", "hrtzxf", "Chamfer", "ModelNet", "S3dis", "Kitti")
_OUT_OF_SCOPE += ("ShapeNet", "VideoFolder")


def _in_scope(name):
    return not any(word in name for word in _OUT_OF_SCOPE)


@pytest.mark.parametrize("view", ["MODELS", "MODULES", "CRITERIONS", "DATASETS"])
def test_views_hold_compressais_names_with_the_same_class_names(view):
    ours, theirs = getattr(registry, view), getattr(cai_registry, view)
    for name, cls in theirs.items():
        if _in_scope(name):
            assert name in ours, name
            assert ours[name].__name__ == cls.__name__, name


def test_torch_optimisers_and_schedulers_are_compressais():
    from torch.optim import lr_scheduler

    for view, bases in (
        ("OPTIMIZERS", (torch.optim.Optimizer,)),
        ("SCHEDULERS", (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)),
    ):
        ours, theirs = getattr(registry, view), getattr(cai_registry, view)
        # CompressAI also lists whatever else starts with a capital in the torch modules
        # ("Any", "Counter", "Optimizer" among the schedulers); tinify lists the classes.
        wanted = {k for k, v in theirs.items() if isinstance(v, type) and issubclass(v, bases)}
        assert wanted, view
        assert all(ours[k] is theirs[k] for k in wanted), view


def test_torchvision_transforms_are_registered_like_compressai():
    torchvision = pytest.importorskip("torchvision")
    for name in ("ToTensor", "RandomCrop", "CenterCrop"):
        assert registry.TRANSFORMS[name] is cai_registry.TRANSFORMS[name]
        assert registry.TRANSFORMS[name] is getattr(torchvision.transforms, name)
    # CompressAI's torch_geometric entries (point clouds) override torchvision's Compose.
    assert registry.TRANSFORMS["Compose"] is torchvision.transforms.Compose
    assert registry.TRANSFORMS["RGB2YCbCr"].__name__ == "RGB2YCbCr"


@pytest.mark.parametrize(
    ("decorator", "view", "kind"),
    [
        ("register_model", "MODELS", "model"),
        ("register_module", "MODULES", "latent_codec"),
        ("register_criterion", "CRITERIONS", "criterion"),
        ("register_dataset", "DATASETS", "dataset"),
        ("register_optimizer", "OPTIMIZERS", "optimizer"),
        ("register_scheduler", "SCHEDULERS", "scheduler"),
        ("register_transform", "TRANSFORMS", "transform"),
    ],
)
def test_decorators_register_in_the_one_registry_like_compressai(decorator, view, kind):
    class Ours:
        pass

    class Theirs:
        pass

    assert getattr(registry, decorator)("Compat_Test-Entry")(Ours) is Ours
    assert getattr(cai_registry, decorator)("Compat_Test-Entry")(Theirs) is Theirs
    try:
        assert getattr(registry, view)["Compat_Test-Entry"] is Ours
        assert "Compat_Test-Entry" in list(getattr(registry, view))
        assert registry.resolve(kind, "compat-test_entry") is Ours
        assert registry.name_of(kind, Ours) == "compat-test-entry"
        # CompressAI's decorators replace an entry of the same name; so do tinify's.
        getattr(registry, decorator)("Compat_Test-Entry")(Theirs)
        assert getattr(registry, view)["Compat_Test-Entry"] is Theirs
    finally:
        del getattr(registry, view)["Compat_Test-Entry"]
        del getattr(cai_registry, view)["Compat_Test-Entry"]
    assert "Compat_Test-Entry" not in getattr(registry, view)
    with pytest.raises(ValueError, match="unknown"):
        registry.resolve(kind, "Compat_Test-Entry")


def test_assignment_registers_and_tinify_api_still_refuses_taken_names():
    class Custom(CompressionModel):
        pass

    registry.MODELS["compat-custom"] = Custom
    try:
        assert registry.resolve("model", "COMPAT_CUSTOM") is Custom
        with pytest.raises(ValueError, match="already registered"):
            registry.register("model", "compat-custom")(ScaleHyperprior)
    finally:
        del registry.MODELS["compat-custom"]
    assert registry.MODELS["bmshj2018-hyperprior"] is ScaleHyperprior
    with pytest.raises(KeyError):
        registry.MODELS["no-such-model"]
