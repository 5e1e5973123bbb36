"""The engine against torch (within float tolerance) and against itself across kernels and
thread counts (bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tinify import engine
from tinify.layers import (
    GDN,
    GDN1,
    CheckerboardMaskedConv2d,
    MaskedConv2d,
    conv3x3,
    subpel_conv3x3,
)
from tinify.models import MeanScaleHyperprior, ScaleHyperprior
from tinify.models.utils import conv, deconv

KERNELS = [*engine.available_kernels(), "auto"]


def _randomize_gdn(module: nn.Module, gen: torch.Generator) -> None:
    """Non-trivial GDN parameters (the initial ones make gamma diagonal)."""
    for m in module.modules():
        if isinstance(m, GDN):
            with torch.no_grad():
                beta = 0.5 + torch.rand(m.beta.shape, generator=gen)
                gamma = 0.1 * torch.rand(m.gamma.shape, generator=gen)
                m.beta.copy_(m.beta_reparam.init(beta))
                m.gamma.copy_(m.gamma_reparam.init(gamma))


def _layers() -> dict[str, nn.Module]:
    return {
        "conv3x3": conv3x3(12, 20),
        "conv3x3-stride2": conv3x3(12, 20, stride=2),
        "conv5x5-stride2": conv(12, 20),
        "conv1x1-no-bias": nn.Conv2d(12, 20, 1, bias=False),
        "deconv5x5": deconv(12, 20),
        "deconv3x3": deconv(12, 20, kernel_size=3),
        "subpel_conv3x3": subpel_conv3x3(12, 5, 2),
        "masked-A": MaskedConv2d(12, 20, 5, padding=2, mask_type="A"),
        "masked-B": MaskedConv2d(12, 20, 5, padding=2, mask_type="B"),
        "checkerboard": CheckerboardMaskedConv2d(12, 20, 5, padding=2),
        "gdn": GDN(12),
        "igdn": GDN(12, inverse=True),
        "relu": nn.ReLU(),
        "leaky_relu": nn.LeakyReLU(0.2),
        "gelu": nn.GELU(),
        "sequential": nn.Sequential(conv3x3(12, 16), nn.LeakyReLU(), nn.Sequential(deconv(16, 8))),
    }


@pytest.fixture(scope="module")
def inputs() -> np.ndarray:
    gen = torch.Generator().manual_seed(0)
    return (3 * torch.randn(2, 12, 9, 10, generator=gen)).numpy()


@pytest.mark.parametrize("name", list(_layers()))
def test_each_layer_matches_torch_within_float_tolerance(name, inputs):
    torch.manual_seed(1)
    layer = _layers()[name].eval()
    _randomize_gdn(layer, torch.Generator().manual_seed(2))
    got = engine.run(engine.compile(layer), inputs)
    with torch.no_grad():
        expected = layer(torch.from_numpy(inputs.copy())).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("name", ["conv5x5-stride2", "deconv5x5", "checkerboard", "igdn", "gelu"])
def test_each_layer_gives_the_same_bits_on_every_kernel_and_thread_count(name, inputs):
    torch.manual_seed(3)
    layer = _layers()[name]
    _randomize_gdn(layer, torch.Generator().manual_seed(4))
    program = engine.compile(layer)
    reference = engine.run(program, inputs, threads=1, kernel="portable")
    for kernel in KERNELS:
        for threads in (1, 2, 3):
            got = engine.run(program, inputs, threads=threads, kernel=kernel)
            assert got.tobytes() == reference.tobytes(), (kernel, threads)


def _z_hat(channels: int, seed: int = 5) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(-4, 5, (1, channels, 6, 8), generator=gen).float().numpy()


@pytest.mark.parametrize("cls", [ScaleHyperprior, MeanScaleHyperprior])
def test_h_s_of_the_hyperpriors_matches_torch_and_itself(cls):
    torch.manual_seed(6)
    net = cls(64, 96).eval()
    z_hat = _z_hat(64)
    split = [96, 96] if cls is MeanScaleHyperprior else None
    program = engine.compile(net.h_s, split=split)
    with torch.no_grad():
        expected = net.h_s(torch.from_numpy(z_hat)).numpy()
    got = engine.run(program, z_hat)
    got = np.concatenate(got, axis=1) if split else got
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    other = engine.run(program, z_hat, threads=2, kernel=engine.available_kernels()[0])
    other = np.concatenate(other, axis=1) if split else other
    assert other.tobytes() == got.tobytes()


def test_h_s_and_gains_of_the_default_model_match_torch_and_itself():
    from tinify.zoo.default import load_default

    net = load_default()
    z_hat = _z_hat(net.N, seed=7)
    rate = net.rate
    program = engine.compile(net.h_s, input_gain=net.z_gain_inv[rate], split=[net.M, net.M])
    with torch.no_grad():
        z = torch.from_numpy(z_hat) * net.z_gain_inv[rate].reshape(1, -1, 1, 1)
        expected = net.h_s(z).chunk(2, 1)
    scales, means = engine.run(program, z_hat, threads=1)
    for got, want in zip((scales, means), expected, strict=True):
        want = want.numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    for kernel in KERNELS:
        other = engine.run(program, z_hat, threads=2, kernel=kernel)
        assert other[0].tobytes() == scales.tobytes() and other[1].tobytes() == means.tobytes()


def test_a_batch_is_its_images_and_a_single_image_keeps_its_rank(inputs):
    program = engine.compile(conv(12, 7))
    batch = engine.run(program, inputs)
    for i in range(len(inputs)):
        assert engine.run(program, inputs[i]).tobytes() == batch[i].tobytes()


def test_compile_copies_the_weights():
    layer = conv3x3(4, 4)
    program = engine.compile(layer)
    x = np.ones((1, 4, 5, 5), np.float32)
    before = engine.run(program, x)
    with torch.no_grad():
        layer.weight.add_(1.0)
    assert engine.run(program, x).tobytes() == before.tobytes()


@pytest.mark.parametrize(
    "module, fragment",
    [
        (nn.Sequential(conv3x3(3, 3), nn.BatchNorm2d(3)), "Sequential.1 (BatchNorm2d)"),
        (GDN1(3), "GDN1"),
        (nn.Conv2d(4, 4, 3, groups=2), "grouped"),
        (nn.Conv2d(4, 4, 3, dilation=2), "dilated"),
        (nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"), "padding_mode"),
        (nn.GELU(approximate="tanh"), "GELU"),
    ],
)
def test_unsupported_layers_are_a_type_error_naming_them(module, fragment):
    with pytest.raises(TypeError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        engine.compile(module)


def test_bad_inputs_are_value_or_type_errors_never_panics(inputs):
    program = engine.compile(conv3x3(12, 4))
    with pytest.raises(TypeError, match="float32"):
        engine.run(program, inputs.astype(np.float64))
    with pytest.raises(ValueError, match="12 input channels"):
        engine.run(program, inputs[:, :5])
    with pytest.raises(ValueError, match="shape"):
        engine.run(program, inputs[0, 0])
    with pytest.raises(ValueError, match="kernel"):
        engine.run(program, inputs, kernel="avx9")
    with pytest.raises(ValueError, match="threads"):
        engine.run(program, inputs, threads=-1)
    with pytest.raises(TypeError, match="threads"):
        engine.run(program, inputs, threads=1.5)
    with pytest.raises(ValueError, match="split"):
        engine.run(engine.compile(conv3x3(12, 4), split=[3, 3]), inputs)
    with pytest.raises(ValueError):
        engine.run(engine.compile(conv(12, 4, kernel_size=5, stride=1)), inputs[:, :, :0])
    with pytest.raises(TypeError):
        engine.compile("h_s")
    with pytest.raises(ValueError, match="step 0"):
        from tinify import _core

        _core.EngineProgram([("warp", [0], [1])], [0], [1])
