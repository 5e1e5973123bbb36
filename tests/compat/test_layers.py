"""tinify.layers' QReLU and spectral convolutions against CompressAI's."""

import compressai.layers as cai_layers
import pytest
import torch
from torch.testing import assert_close

from tinify import layers


@pytest.mark.parametrize("name", ["SpectralConv2d", "SpectralConvTranspose2d"])
def test_spectral_convolutions_share_compressais_state_dict_and_outputs(name):
    torch.manual_seed(0)
    ours = getattr(layers, name)(3, 4, 5, stride=2, padding=2)
    theirs = getattr(cai_layers, name)(3, 4, 5, stride=2, padding=2)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in theirs.state_dict().items()
    }
    assert [n for n, _ in ours.named_parameters()] == ["bias", "weight_transformed"]
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 12, 12)
    assert_close(ours(x), theirs(x))
    assert_close(ours.weight, theirs.weight)
    ours(x).square().sum().backward()
    assert ours.weight_transformed.grad is not None


def test_spectral_kernel_round_trips_the_initial_weight():
    torch.manual_seed(1)
    conv = layers.SpectralConv2d(2, 2, 3)
    plain = torch.nn.Conv2d(2, 2, 3)
    plain.weight.data.copy_(conv.weight)
    plain.bias.data.copy_(conv.bias)
    x = torch.randn(1, 2, 8, 8)
    assert_close(conv(x), plain(x))


@pytest.mark.parametrize(("bit_depth", "beta"), [(8, 2.0), (4, 1.0)])
def test_qrelu_values_and_gradients_equal_compressais(bit_depth, beta):
    torch.manual_seed(2)
    x0 = torch.randn(200) * 2**bit_depth
    results = []
    for fn in (layers.QReLU, cai_layers.QReLU):
        x = x0.clone().requires_grad_()
        y = fn.apply(x, bit_depth, beta)
        (y * torch.linspace(-1, 1, 200)).sum().backward()
        results.append((y.detach(), x.grad))
    assert_close(results[0][0], results[1][0], rtol=0, atol=0)
    assert_close(results[0][1], results[1][1])
    assert results[0][0].min() >= 0 and results[0][0].max() <= 2**bit_depth - 1
