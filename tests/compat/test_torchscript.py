"""torch.jit.script on the layers and ops CompressAI 1.2.8 can script (and tinify's masked
convolutions, which CompressAI cannot): scripted outputs equal eager ones and CompressAI's."""

import warnings
from collections.abc import Callable

import compressai.layers
import compressai.ops
import pytest
import torch

import tinify.layers
import tinify.ops

# name → (constructor arguments, input shape). Every module CompressAI 1.2.8 scripts, found by
# trying torch.jit.script on each class of compressai.layers and compressai.ops.
SCRIPTABLE_IN_COMPRESSAI: dict[str, tuple[tuple, dict, tuple[int, ...]]] = {
    "LowerBound": ((0.5,), {}, (2, 3, 5, 4)),
    "NonNegativeParametrizer": ((), {"minimum": 0.1}, (2, 3, 5, 4)),
    "GDN": ((6,), {}, (2, 6, 5, 4)),
    "GDN1": ((6,), {}, (2, 6, 5, 4)),
    "Gain": (((1, 6, 1, 1),), {"factor": 2.0}, (2, 6, 5, 4)),
    "NamedLayer": (("latent",), {}, (2, 3, 5, 4)),
    "Transpose": ((1, 2), {}, (2, 3, 5, 4)),
    "AttentionBlock": ((6,), {}, (1, 6, 8, 8)),
    "ResidualBlock": ((6, 4), {}, (1, 6, 8, 8)),
    "ResidualBlockUpsample": ((6, 4), {}, (1, 6, 4, 4)),
    "ResidualBlockWithStride": ((6, 4), {}, (1, 6, 8, 8)),
    "SpectralConv2d": ((6, 4, 3), {"padding": 1}, (1, 6, 8, 8)),
    "SpectralConvTranspose2d": ((6, 4, 3), {"padding": 1}, (1, 6, 8, 8)),
}

# Scripted by tinify only: CompressAI's masked convolutions assign ``weight.data`` in forward.
SCRIPTABLE_IN_TINIFY_ONLY: dict[str, tuple[tuple, dict, tuple[int, ...]]] = {
    "MaskedConv2d": ((6, 4, 5), {"padding": 2}, (1, 6, 8, 8)),
    "CheckerboardMaskedConv2d": ((6, 4, 5), {"padding": 2, "mask_type": "B"}, (1, 6, 8, 8)),
}


def _cls(package: str, name: str) -> Callable[..., torch.nn.Module]:
    layers, ops = (
        (tinify.layers, tinify.ops) if package == "tinify" else (compressai.layers, compressai.ops)
    )
    return getattr(layers, name, None) or getattr(ops, name)


def _script(module: torch.nn.Module) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "torch.jit.script is deprecated"
        return torch.jit.script(module)


def _pair(name: str, args: tuple, kwargs: dict) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    ours = _cls("tinify", name)(*args, **kwargs)
    theirs = _cls("compressai", name)(*args, **kwargs)
    theirs.load_state_dict(ours.state_dict())
    return ours.eval(), theirs.eval()


@pytest.mark.parametrize("name", sorted(SCRIPTABLE_IN_COMPRESSAI))
def test_compressai_scriptable_layer_scripts_and_matches_eager_and_compressai(name):
    args, kwargs, shape = SCRIPTABLE_IN_COMPRESSAI[name]
    ours, theirs = _pair(name, args, kwargs)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    scripted = _script(ours)
    eager = ours(x)
    torch.testing.assert_close(scripted(x), eager, rtol=0, atol=0)
    torch.testing.assert_close(eager, theirs(x), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(scripted(x), _script(theirs)(x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(SCRIPTABLE_IN_TINIFY_ONLY))
def test_masked_convolution_scripts_and_matches_eager_and_compressai(name):
    args, kwargs, shape = SCRIPTABLE_IN_TINIFY_ONLY[name]
    ours, theirs = _pair(name, args, kwargs)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    scripted = _script(ours)
    torch.testing.assert_close(scripted(x), ours(x), rtol=0, atol=0)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-6, atol=1e-6)


def test_every_layer_compressai_scripts_is_covered():
    missing = []
    for module in (compressai.layers, compressai.ops):
        for name in getattr(module, "__all__", dir(module)):
            obj = getattr(module, name)
            if not (isinstance(obj, type) and issubclass(obj, torch.nn.Module)):
                continue
            if name in SCRIPTABLE_IN_COMPRESSAI or name in SCRIPTABLE_IN_TINIFY_ONLY:
                continue
            if not hasattr(tinify.layers, name) and not hasattr(tinify.ops, name):
                continue  # a layer tinify does not have is another test's concern
            try:
                _script(_build_any(obj))
            except Exception:
                continue
            missing.append(name)
    assert missing == [], f"CompressAI scripts these, the table above lacks them: {missing}"


def _build_any(cls: type) -> torch.nn.Module:
    for args in ((), (6,), (6, 4), (6, 4, 3)):
        try:
            return cls(*args)
        except Exception:
            pass
    raise TypeError(f"cannot build {cls.__name__}")


def _lower_bound_grads(module: torch.nn.Module, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    module(x).backward(g)
    assert x.grad is not None
    return x.grad


def test_lower_bound_gradient_equals_compressai_eager_and_scripted():
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(4, 3, 7, 5, generator=gen)
    g = torch.randn(4, 3, 7, 5, generator=gen)
    ours, theirs = tinify.ops.LowerBound(0.1), compressai.ops.LowerBound(0.1)
    eager = _lower_bound_grads(ours, x, g)
    # Below the bound, a negative upstream gradient passes (the straight-through rule).
    assert bool(((x < 0.1) & (g < 0) & (eager != 0)).any())
    torch.testing.assert_close(eager, _lower_bound_grads(theirs, x, g), rtol=0, atol=0)
    torch.testing.assert_close(
        _lower_bound_grads(_script(ours), x, g),
        _lower_bound_grads(_script(theirs), x, g),
        rtol=0,
        atol=0,
    )


@pytest.mark.parametrize("name", ["GDN", "GDN1"])
def test_scripted_gdn_gradients_equal_scripted_compressai(name):
    # Scripted, both libraries bound with a plain max, so the gradients agree everywhere
    # (eager, the straight-through rule differs from max at the clamped off-diagonal gammas).
    ours, theirs = _pair(name, (6,), {})
    x = torch.randn(2, 6, 5, 4, generator=torch.Generator().manual_seed(3))
    _script(ours)(x).sum().backward()
    _script(theirs)(x).sum().backward()
    for ours_p, theirs_p in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(ours_p.grad, theirs_p.grad, rtol=1e-6, atol=1e-7)
