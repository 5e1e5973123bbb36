"""tinify.ops and tinify.layers offer CompressAI's names, with the same signatures."""

import inspect

import pytest

import tinify.layers
import tinify.ops
from tests.layers.compat import compressai

cai_ops = compressai("ops")
cai_layers = compressai("layers")
cai_sensetime = compressai("models.sensetime")

# Not ported yet: spectral convolutions and the integer-network QReLU.
NOT_PORTED = {"SpectralConv2d", "SpectralConvTranspose2d", "QReLU"}
CAI_LAYER_NAMES = {
    name for sub in ("basic", "gdn", "layers") for name in compressai(f"layers.{sub}").__all__
}
LAYER_NAMES = sorted((CAI_LAYER_NAMES - NOT_PORTED) | {"ResidualBottleneckBlock"})


@pytest.mark.parametrize("name", cai_ops.__all__)
def test_ops_exports_compressai_name_with_same_signature(name):
    assert name in tinify.ops.__all__
    _assert_same_parameters(getattr(tinify.ops, name), getattr(cai_ops, name))


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layers_exports_compressai_name_with_same_signature(name):
    assert name in tinify.layers.__all__
    theirs = getattr(cai_layers, name, None) or getattr(cai_sensetime, name)
    _assert_same_parameters(getattr(tinify.layers, name), theirs)


@pytest.mark.parametrize("package", [tinify.ops, tinify.layers])
def test_every_module_has_docstring_and_all(package):
    for name in package.__all__:
        obj = getattr(package, name)
        assert obj.__doc__, name
        module = inspect.getmodule(obj)
        assert module.__doc__ and "\n" not in module.__doc__.strip(), module.__name__
        assert name in module.__all__


def _assert_same_parameters(ours: object, theirs: object) -> None:
    def params(obj):
        sig = inspect.signature(obj)
        return [(p.name, p.kind, p.default) for p in sig.parameters.values()]

    assert params(ours) == params(theirs)
