"""Rough edges of the models: one shape type, a clear error for integer images, the cached
autoregressive coder. No compressai needed."""

import pytest
import torch

import tinify.models as tm

SMALL = [
    (tm.FactorizedPrior, (8, 12)),
    (tm.ScaleHyperprior, (8, 12)),
    (tm.MeanScaleHyperprior, (8, 12)),
    (tm.JointAutoregressiveHierarchicalPriors, (8, 12)),
]


@pytest.mark.parametrize(("cls", "args"), SMALL)
def test_compress_shape_is_a_plain_tuple_of_ints(cls, args):
    torch.manual_seed(0)
    net = cls(*args).eval()
    net.update()
    out = net.compress(torch.rand(1, 3, 64, 64))
    assert type(out["shape"]) is tuple
    assert all(type(s) is int for s in out["shape"])


@pytest.mark.parametrize(("cls", "args"), SMALL)
def test_integer_images_raise_a_type_error_saying_what_is_expected(cls, args):
    net = cls(*args).eval()
    net.update()
    x = torch.zeros(1, 3, 64, 64, dtype=torch.uint8)
    with pytest.raises(TypeError, match=r"float images in \[0, 1\].*uint8"):
        net.compress(x)
    with pytest.raises(TypeError, match="float images"):
        net(x)


def test_mbt2018_keeps_its_rust_description_until_the_weights_change():
    torch.manual_seed(0)
    net = tm.JointAutoregressiveHierarchicalPriors(8, 12).eval()
    with torch.no_grad():
        net.g_a[6].weight.mul_(20)
    net.update()
    x = torch.rand(2, 3, 64, 64)
    out = net.compress(x)
    coder = net._y_codec()._coder()
    for _ in range(3):
        out = net.compress(x)
        x_hat = net.decompress(out["strings"], out["shape"])["x_hat"]
    assert net._y_codec()._coder() is coder
    state = {k: v.clone() for k, v in net.state_dict().items()}
    state["entropy_parameters.4.bias"][:12] += 1.0
    net.load_state_dict(state)
    assert net._y_codec()._coder() is not coder
    out2 = net.compress(x)
    assert out2["strings"][0] != out["strings"][0]
    again = net.decompress(out2["strings"], out2["shape"])["x_hat"]
    assert torch.equal(again, net.decompress(out2["strings"], out2["shape"])["x_hat"])
    assert "_y_codec_cache" not in net.state_dict()
    assert list(net.state_dict()) == list(
        tm.JointAutoregressiveHierarchicalPriors(8, 12).state_dict()
    )
    del x_hat


def test_models_register_one_way_and_errors_name_the_registered_architecture():
    from tinify import registry

    for name in registry.names("model"):
        assert registry.name_of("model", registry.resolve("model", name)) == name
    with pytest.raises(ValueError, match=r"MeanScaleHyperprior \('mbt2018-mean'\)"):
        tm.MeanScaleHyperprior.from_state_dict({})
