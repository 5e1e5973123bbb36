"""The variable-rate (VBR) entropy models, models and zoo entries against CompressAI 1.2.8's.

Models: CompressAI builds each model from a fixed seed (N=16, M=24) and its weights are then
scaled so that the latents have a realistic spread, since a randomly initialised model
quantizes almost everything to zero: ``g_a``'s last convolution x400 (``|y|`` of about 20, so
that even at the smallest gain, 0.1, most symbols are non-zero), ``h_a``'s last x10 (a
hyper-latent of a few units) and the layer giving the Gaussian scales x10 with +15 on the
scales' biases (scales comparable to ``|y|``). Its state_dict is saved with ``torch.save``
(a CompressAI-saved checkpoint) and loaded into tinify three ways.

CompressAI's ``EntropyBottleneckVbr.forward`` passes the step in the place of ``stop_gradient``,
so its likelihoods are of unit bins whatever the step: tinify gives the same by default, and
with ``step_bins = True`` the bins of the step (checked against CompressAI's own
``_likelihood_variable`` called with ``qs``). Deliberate differences checked here:
mbt2018-vbr's ``y`` strings are tinify's wavefront order (checked for an exact round trip and
CompressAI's rate), and its stage 1 codes as mbt2018 (CompressAI's stage-1 ``compress`` picks
the CDFs of the gained scales while coding ungained symbols).
"""

from __future__ import annotations

import inspect
import urllib.error
import warnings
from pathlib import Path

import pytest
import torch
import torch.hub
from torch import Tensor, nn

import tinify.registry
import tinify.zoo
from tinify.entropy_models import EntropyBottleneckVbr, EntropyModelVbr, GaussianConditional
from tinify.models import (
    JointAutoregressiveHierarchicalPriorsVbr,
    MeanScaleHyperpriorVbr,
    ScaleHyperpriorVbr,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import compressai.entropy_models as cai
    import compressai.models as cm
    import compressai.zoo.image_vbr as czv

N, M = 16, 24

# -- entropy models ---------------------------------------------------------------------------


@torch.no_grad()
def _twin_bottlenecks(channels: int, seed: int) -> tuple[EntropyBottleneckVbr, nn.Module]:
    """A CompressAI EntropyBottleneckVbr with a seeded random density and quantiles, and a
    tinify one loaded from its state_dict."""
    gen = torch.Generator().manual_seed(seed)
    theirs = cai.EntropyBottleneckVbr(channels)
    for name, p in theirs.named_parameters():
        if name != "quantiles":
            p.add_(torch.randn(p.shape, generator=gen) * 0.5)
    medians = torch.randn(channels, generator=gen) * 3
    below = torch.rand(channels, generator=gen) * 20 + 1
    above = torch.rand(channels, generator=gen) * 20 + 1
    theirs.quantiles.copy_(torch.stack([medians - below, medians, medians + above], -1)[:, None])
    ours = EntropyBottleneckVbr(channels)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _latents(shape: tuple[int, ...], seed: int, spread: float = 6.0) -> Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * spread


def _unit_bin_likelihood(theirs: nn.Module, x_hat: Tensor, qs: Tensor) -> Tensor:
    """CompressAI's likelihood of bins of width ``qs`` (``_likelihood_variable`` called
    with ``qs`` by keyword), bounded and shaped like ``x_hat``."""
    c = x_hat.size(1)
    values = x_hat.transpose(0, 1).reshape(c, 1, -1)
    lik, _, _ = theirs._likelihood_variable(values, qs=qs)
    lik = theirs.likelihood_lower_bound(lik)
    return lik.reshape(c, x_hat.size(0), *x_hat.shape[2:]).transpose(0, 1)


def test_bottleneck_state_dict_keys_are_compressais_in_order():
    ours, theirs = _twin_bottlenecks(5, seed=0)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "_matrix0" in ours.state_dict() and "matrices.0" not in ours.state_dict()
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
    assert list(EntropyModelVbr().state_dict()) == list(cai.EntropyModelVbr().state_dict())


@pytest.mark.parametrize("training", [True, False])
def test_bottleneck_forward_without_step_equals_compressai(training):
    ours, theirs = _twin_bottlenecks(4, seed=1)
    x = _latents((2, 4, 5, 6), seed=2)
    torch.manual_seed(3)
    a = ours(x, training=training)
    torch.manual_seed(3)
    b = theirs(x, training=training)
    assert torch.equal(a[0], b[0])
    torch.testing.assert_close(a[1], b[1], rtol=0, atol=0)


@pytest.mark.parametrize("qs", [0.5, 0.8, 2.3])
@pytest.mark.parametrize("training", [True, False])
def test_bottleneck_forward_with_step_quantizes_like_compressai_with_bins_of_the_step(qs, training):
    ours, theirs = _twin_bottlenecks(4, seed=4)
    x = _latents((2, 4, 3, 5), seed=5)
    step = torch.tensor(qs)
    torch.manual_seed(6)
    x_ours, lik_ours = ours(x, training=training, qs=step)
    torch.manual_seed(6)
    x_theirs, lik_theirs = theirs(x, training=training, qs=step)
    assert torch.equal(x_ours, x_theirs)
    # By default, CompressAI's likelihoods (unit bins whatever the step).
    torch.testing.assert_close(lik_ours, lik_theirs, rtol=0, atol=1e-7)
    # step_bins=True: the bins of the step, those the coder uses.
    ours.step_bins = True
    torch.manual_seed(6)
    _, lik_steps = ours(x, training=training, qs=step)
    with torch.no_grad():
        expected = _unit_bin_likelihood(theirs, x_theirs, step)
    torch.testing.assert_close(lik_steps, expected, rtol=0, atol=1e-7)
    assert not torch.allclose(lik_steps, lik_theirs, atol=1e-4)


def test_bottleneck_ste_forward_equals_compressai_and_passes_gradients_straight():
    ours, theirs = _twin_bottlenecks(3, seed=7)
    x = _latents((2, 3, 4, 4), seed=8).requires_grad_(True)
    step = torch.tensor(1.7)
    x_ours, _ = ours(x, training=True, qs=step, ste=True)
    x_theirs, _ = theirs(x, training=True, qs=step, ste=True)
    assert torch.equal(x_ours, x_theirs)
    medians = ours.quantiles[:, 0, 1].detach().view(1, -1, 1, 1)
    assert torch.equal(x_ours, torch.round((x - medians) / step) * step + medians)
    (grad,) = torch.autograd.grad(x_ours.sum(), x)
    assert torch.equal(grad, torch.ones_like(x))


@pytest.mark.parametrize("mode", ["ste", "dequantize", "symbols"])
@pytest.mark.parametrize("with_means", [True, False])
@pytest.mark.parametrize("qs", [None, 0.6, 3.0])
def test_quantize_variable_equals_compressai(mode, with_means, qs):
    ours, theirs = EntropyModelVbr(), cai.EntropyModelVbr()
    x = _latents((2, 3, 4, 5), seed=9)
    means = _latents((2, 3, 4, 5), seed=10, spread=2.0) if with_means else None
    step = None if qs is None else torch.tensor(qs)
    got = ours.quantize_variable(x, mode, means, step)
    if mode == "symbols" and qs is None:
        # CompressAI truncates here (outputs.int()); tinify rounds, as every other path.
        centred = x - means if means is not None else x
        assert torch.equal(got, torch.round(centred).int())
        return
    assert torch.equal(got, theirs.quantize_variable(x, mode, means, step))


def test_quantize_variable_noise_equals_compressai_for_the_same_seed():
    ours, theirs = EntropyModelVbr(), cai.EntropyModelVbr()
    x = _latents((2, 3, 4), seed=11)
    torch.manual_seed(12)
    a = ours.quantize_variable(x, "noise", qs=torch.tensor(2.5))
    torch.manual_seed(12)
    b = theirs.quantize_variable(x, "noise", qs=torch.tensor(2.5))
    assert torch.equal(a, b)
    assert (a - x).abs().max() <= 1.25


@pytest.mark.parametrize("with_means", [True, False])
@pytest.mark.parametrize("qs", [None, 0.6, 3.0])
def test_dequantize_variable_equals_compressai(with_means, qs):
    symbols = torch.randint(-20, 20, (2, 3, 4, 5), generator=torch.Generator().manual_seed(13))
    means = _latents((2, 3, 4, 5), seed=14) if with_means else None
    step = None if qs is None else torch.tensor(qs)
    got = EntropyModelVbr.dequantize_variable(symbols.int(), means, qs=step)
    assert torch.equal(got, cai.EntropyModelVbr.dequantize_variable(symbols.int(), means, qs=step))


@pytest.mark.parametrize("qs", [0.5, 0.7, 1.0, 2.3])
def test_update_variable_tables_equal_compressai(qs):
    ours, theirs = _twin_bottlenecks(6, seed=15)
    step = torch.tensor([qs])  # the models pass a one-element step
    assert ours.update_variable(force=True, qs=step)
    theirs.update_variable(force=True, qs=step)
    for name in ("_quantized_cdf", "_cdf_length", "_offset"):
        assert torch.equal(getattr(ours, name), getattr(theirs, name)), name
    assert not ours.update_variable(qs=step)  # tables exist and force is False


@pytest.mark.parametrize("qs", [0.6, 1.0, 2.3])
def test_bottleneck_bytes_equal_compressai_and_each_decodes_the_other(qs):
    ours, theirs = _twin_bottlenecks(4, seed=16)
    step = torch.tensor(qs)
    ours.update_variable(force=True, qs=step.view(1))
    theirs.update_variable(force=True, qs=step.view(1))
    x = _latents((3, 4, 5, 6), seed=17, spread=10.0)
    strings = ours.compress(x, qs=step)
    assert strings == theirs.compress(x, qs=step)
    decoded = ours.decompress(strings, (5, 6), qs=step)
    assert torch.equal(decoded, theirs.decompress(strings, (5, 6), qs=step))
    medians = ours.quantiles[:, 0, 1].detach().view(1, -1, 1, 1)
    assert torch.equal(decoded, torch.round((x - medians) / step) * step + medians)
    # Without a step: the plain bottleneck's coding, bytes included.
    ours.update(force=True)
    theirs.update(force=True)
    assert ours.compress(x) == theirs.compress(x)


def _gaussian_tables(model: nn.Module) -> nn.Module:
    """Fills an entropy model's CDF buffers with a Gaussian conditional's tables."""
    gc = GaussianConditional([0.2, 0.5, 1.3, 3.0, 8.0])
    gc.update()
    model._quantized_cdf = gc._quantized_cdf.clone()
    model._cdf_length = gc._cdf_length.clone()
    model._offset = gc._offset.clone()
    return model


@pytest.mark.parametrize("qs", [None, 0.4, 2.0])
@pytest.mark.parametrize("with_means", [True, False])
def test_entropy_model_bytes_equal_compressai_and_each_decodes_the_other(qs, with_means):
    ours, theirs = _gaussian_tables(EntropyModelVbr()), _gaussian_tables(cai.EntropyModelVbr())
    gen = torch.Generator().manual_seed(18)
    x = torch.randn(2, 3, 4, 5, generator=gen) * 4
    indexes = torch.randint(0, 5, x.shape, generator=gen, dtype=torch.int32)
    means = torch.randn(2, 3, 4, 5, generator=gen) if with_means else None
    step = None if qs is None else torch.tensor(qs)
    strings = ours.compress(x, indexes, means, step)
    assert strings == theirs.compress(x, indexes, means, step)
    decoded = ours.decompress(strings, indexes, means=means, qs=step)
    assert torch.equal(decoded, theirs.decompress(strings, indexes, means=means, qs=step))


def test_entropy_models_reject_bad_arguments():
    model = _gaussian_tables(EntropyModelVbr())
    x = torch.zeros(2, 3, 4)
    indexes = torch.zeros(2, 3, 4, dtype=torch.int32)
    with pytest.raises(ValueError, match="quantization mode"):
        model.quantize_variable(x, "round")
    with pytest.raises(ValueError, match="0-d tensor"):
        model.quantize_variable(x, "dequantize", qs=torch.ones(2))
    with pytest.raises(TypeError, match="0-d tensor or a float"):
        model.quantize_variable(x, "dequantize", qs="1")  # type: ignore[arg-type]
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="positive"):
            model.compress(x, indexes, qs=bad)
        with pytest.raises(ValueError, match="positive"):
            model.decompress([b"", b""], indexes, qs=bad)
    with pytest.raises(ValueError, match="same shape"):
        model.compress(x, indexes[:, :2], qs=0.5)
    with pytest.raises(ValueError, match="does not fit"):
        model.decompress([b"", b""], indexes, means=torch.zeros(2, 2, 4), qs=0.5)
    with pytest.raises(ValueError, match="update"):
        EntropyModelVbr().compress(x, indexes, qs=0.5)
    eb = EntropyBottleneckVbr(3)
    with pytest.raises(ValueError, match="update"):
        eb.compress(torch.zeros(1, 3, 2, 2), qs=0.5)
    with pytest.raises(ValueError, match=r"\(N, 3, \.\.\.\)"):
        eb(torch.zeros(1, 4, 2, 2), qs=0.5)
    with pytest.raises(ValueError, match="positive"):
        eb.update_variable(force=True, qs=torch.tensor([-1.0]))
    eb.update_variable(qs=0.5)
    with pytest.raises(ValueError, match="non-empty"):
        eb.decompress([], (2, 2), qs=0.5)


# -- models -----------------------------------------------------------------------------------

ARCHS = {
    "bmshj2018-hyperprior-vbr": (ScaleHyperpriorVbr, "ScaleHyperpriorVbr"),
    "mbt2018-mean-vbr": (MeanScaleHyperpriorVbr, "MeanScaleHyperpriorVbr"),
    "mbt2018-vbr": (
        JointAutoregressiveHierarchicalPriorsVbr,
        "JointAutoregressiveHierarchicalPriorsVbr",
    ),
}
# (architecture, vr_entbttlnck): the two hyperprior models with and without a variable-step
# hyper-latent (CompressAI's published weights have one), and mbt2018-vbr.
CASES = [
    ("bmshj2018-hyperprior-vbr", False),
    ("bmshj2018-hyperprior-vbr", True),
    ("mbt2018-mean-vbr", False),
    ("mbt2018-mean-vbr", True),
    ("mbt2018-vbr", False),
]
IDS = [f"{arch}{'-vrz' if vr else ''}" for arch, vr in CASES]


@torch.no_grad()
def _spread_(net: nn.Module) -> nn.Module:
    """Scales a randomly initialised model's weights so that its latents spread over many
    quantization bins (see the module docstring)."""
    net.g_a[6].weight.mul_(400)
    net.g_a[6].bias.mul_(400)
    net.h_a[4].weight.mul_(10)
    net.h_a[4].bias.mul_(10)
    if hasattr(net, "entropy_parameters"):
        last = net.entropy_parameters[-1]
    else:
        last = [m for m in net.h_s if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)][-1]
    last.weight.mul_(10)
    last.bias[:M].add_(15)
    return net


def _theirs(arch: str, vr: bool) -> nn.Module:
    torch.manual_seed(0)
    cls = getattr(cm, ARCHS[arch][1])
    net = cls(N, M, vr_entbttlnck=True) if vr else cls(N, M)
    return _spread_(net).eval()


def _ours_from_file(arch: str, vr: bool, tmp_path: Path) -> tuple[nn.Module, nn.Module]:
    theirs = _theirs(arch, vr)
    path = tmp_path / f"{arch}.pth.tar"
    torch.save(theirs.state_dict(), path)
    ours = tinify.zoo.load_checkpoint(path)
    return ours, theirs


def _images(n: int = 2, size: int = 128, seed: int = 19) -> Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(("arch", "vr"), CASES, ids=IDS)
def test_compressai_checkpoint_loads_three_ways_with_the_same_keys(arch, vr, tmp_path):
    theirs = _theirs(arch, vr)
    path = tmp_path / "theirs.pth.tar"
    torch.save(theirs.state_dict(), path)
    state = torch.load(path, weights_only=True)
    cls = ARCHS[arch][0]
    direct = cls(N, M, vr_entbttlnck=True) if vr else cls(N, M)
    direct.load_state_dict(state)
    loaded = [direct, cls.from_state_dict(state), tinify.zoo.load_checkpoint(path)]
    for ours in loaded:
        assert type(ours) is cls
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for key, value in theirs.state_dict().items():
            if value.numel():  # load_checkpoint builds the CDF tables the file lacks
                assert torch.equal(ours.state_dict()[key], value), key
        assert ours.vr_entbttlnck == vr
    assert tinify.zoo.architecture_of(loaded[2]) == arch
    assert not loaded[2].training


def _assert_forward_matches(ours, theirs, x, vr, stage, s, inputscale):
    with torch.no_grad():
        a = ours(x, stage=stage, s=s, inputscale=inputscale)
        b = theirs(x, stage=stage, s=s, inputscale=inputscale)
    assert set(a) == set(b) and set(a["likelihoods"]) == set(b["likelihoods"]) == {"y", "z"}
    torch.testing.assert_close(a["x_hat"], b["x_hat"], rtol=0, atol=1e-5)
    torch.testing.assert_close(a["likelihoods"]["y"], b["likelihoods"]["y"], rtol=0, atol=1e-5)
    z_expected = b["likelihoods"]["z"]
    torch.testing.assert_close(a["likelihoods"]["z"], z_expected, rtol=0, atol=1e-5)
    return a


SETTINGS = [(1, 1, 0), (2, 0, 0), (2, 1, 0), (2, 7, 0), (2, 11, 0), (2, 3, "0.45")]


@pytest.mark.parametrize(("arch", "vr"), CASES, ids=IDS)
def test_forward_equals_compressai_at_every_stage_rate_and_input_scale(arch, vr, tmp_path):
    ours, theirs = _ours_from_file(arch, vr, tmp_path)
    x = _images(size=64)
    for stage, s, inputscale in SETTINGS:
        scale = torch.tensor(float(inputscale)) if isinstance(inputscale, str) else inputscale
        out = _assert_forward_matches(ours, theirs, x, vr, stage, s, scale)
        if stage == 2 and scale == 0 and s == 1:
            bits = -sum(float(lik.log2().sum()) for lik in out["likelihoods"].values())
            assert bits > 1000  # the latents are not all zero


@pytest.mark.parametrize(("arch", "vr"), CASES[:4], ids=IDS[:4])
def test_training_forward_equals_compressai_for_the_same_seed(arch, vr, tmp_path):
    ours, theirs = _ours_from_file(arch, vr, tmp_path)
    ours.train()
    theirs.train()
    x = _images(1, 64)
    for stage in (1, 2):
        torch.manual_seed(20)
        a = ours(x, stage=stage, s=2)
        torch.manual_seed(20)
        b = theirs(x, stage=stage, s=2)
        torch.testing.assert_close(a["x_hat"], b["x_hat"], rtol=0, atol=1e-5)
        torch.testing.assert_close(a["likelihoods"]["y"], b["likelihoods"]["y"], rtol=0, atol=1e-5)
        if not (vr and stage == 2):
            torch.testing.assert_close(
                a["likelihoods"]["z"], b["likelihoods"]["z"], rtol=0, atol=1e-5
            )


def test_mbt2018_vbr_training_forward_has_gradients_everywhere_it_should(tmp_path):
    ours, _ = _ours_from_file("mbt2018-vbr", False, tmp_path)
    ours.train()
    out = ours(_images(1, 64), stage=2, s=3)
    loss = out["x_hat"].square().mean() - sum(
        lik.log2().mean() for lik in out["likelihoods"].values()
    )
    loss.backward()
    for name in (
        "g_a.0.weight",
        "context_prediction.weight",
        "entropy_parameters.0.weight",
        "QuantABCD.0.weight",
        "scale_to_context.weight",
        "h_s.0.weight",
    ):
        grad = ours.get_parameter(name).grad
        assert grad is not None and bool(grad.abs().sum() > 0), name


def _update_both(ours, theirs, vr, stage, s, inputscale):
    kwargs = {}
    if vr and stage == 2:
        scale = inputscale if inputscale != 0 else theirs.Gain[s].detach()
        kwargs = {"scale": scale}
    ours.update(force=True, **kwargs)
    theirs.update(force=True, **kwargs)


CODING = [(1, 1, 0), (2, 0, 0), (2, 1, 0), (2, 6, 0), (2, 1, "0.3")]


@pytest.mark.parametrize(("arch", "vr"), CASES[:4], ids=IDS[:4])
def test_strings_equal_compressai_and_each_decodes_the_other(arch, vr, tmp_path):
    ours, theirs = _ours_from_file(arch, vr, tmp_path)
    x = _images()
    for stage, s, inputscale in CODING:
        scale = torch.tensor(float(inputscale)) if isinstance(inputscale, str) else inputscale
        _update_both(ours, theirs, vr, stage, s, scale)
        with torch.no_grad():
            a = ours.compress(x, stage=stage, s=s, inputscale=scale)
            b = theirs.compress(x, stage=stage, s=s, inputscale=scale)
            assert set(a) == set(b)
            assert a["strings"] == b["strings"], (stage, s, inputscale)
            assert tuple(a["shape"]) == tuple(b["shape"])
            assert sum(len(s) for s in a["strings"][0]) > 1000
            theirs_decoded = theirs.decompress(b["strings"], b["shape"], stage, s, scale)
            ours_decoded = ours.decompress(b["strings"], b["shape"], stage, s, scale)
            assert set(ours_decoded) == {"x_hat"}
            torch.testing.assert_close(
                ours_decoded["x_hat"], theirs_decoded["x_hat"], rtol=0, atol=1e-6
            )
            if stage == 2:
                # Decoding reproduces the forward pass's (eval) reconstruction.
                forward = ours(x, stage=stage, s=s, inputscale=scale)["x_hat"].clamp(0, 1)
                torch.testing.assert_close(ours_decoded["x_hat"], forward, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("s", "inputscale"), [(1, 0), (6, 0), (1, "0.3")])
def test_mbt2018_vbr_round_trip_is_exact_and_rate_is_compressais(s, inputscale, tmp_path):
    ours, theirs = _ours_from_file("mbt2018-vbr", False, tmp_path)
    ours.update(force=True)
    theirs.update(force=True)
    scale = torch.tensor(float(inputscale)) if isinstance(inputscale, str) else inputscale
    x = _images()
    with torch.no_grad():
        out = ours.compress(x, stage=2, s=s, inputscale=scale)
        # The encoder's y_hat and the decoder's are the same floats.
        gain = ours._coding_scale(s, scale)
        coder = ours._coder(gain)
        z_hat = ours.entropy_bottleneck.decompress(out["strings"][1], out["shape"])
        y = ours.g_a(x)
        y_strings, y_hat = coder.encode(y, ours.h_s(z_hat))
        assert y_strings == out["strings"][0]
        assert torch.equal(coder.decode(y_strings, ours.h_s(z_hat)), y_hat)
        x_hat = ours.decompress(out["strings"], out["shape"], stage=2, s=s, inputscale=scale)
        assert torch.equal(x_hat["x_hat"], ours.g_s(y_hat).clamp_(0, 1))
        forward = ours(x, stage=2, s=s, inputscale=scale)["x_hat"].clamp(0, 1)
        torch.testing.assert_close(x_hat["x_hat"], forward, rtol=0, atol=1e-5)
        theirs_out = theirs.compress(x, stage=2, s=s, inputscale=scale)
    assert out["strings"][1] == theirs_out["strings"][1]  # z: the same bottleneck bytes
    ours_bytes = sum(len(b) for b in out["strings"][0])
    theirs_bytes = sum(len(b) for b in theirs_out["strings"][0])
    assert ours_bytes > 1000
    assert abs(ours_bytes / theirs_bytes - 1) < 0.01, (ours_bytes, theirs_bytes)


def test_mbt2018_vbr_stage_1_codes_as_mbt2018(tmp_path):
    """Stage 1 is mbt2018 coded by the Rust loop: its rate is CompressAI mbt2018's for the
    same weights (CompressAI's own stage-1 compress indexes the CDFs by gained scales)."""
    ours, theirs = _ours_from_file("mbt2018-vbr", False, tmp_path)
    plain = cm.JointAutoregressiveHierarchicalPriors(N, M).eval()
    plain.load_state_dict({k: v for k, v in theirs.state_dict().items() if k in plain.state_dict()})
    ours.update(force=True)
    plain.update(force=True)
    x = _images()
    with torch.no_grad():
        out = ours.compress(x, stage=1)
        reference = plain.compress(x)
        decoded = ours.decompress(out["strings"], out["shape"], stage=1)["x_hat"]
        expected = plain.decompress(reference["strings"], reference["shape"])["x_hat"]
    ours_bytes = sum(len(b) for b in out["strings"][0])
    theirs_bytes = sum(len(b) for b in reference["strings"][0])
    assert abs(ours_bytes / theirs_bytes - 1) < 0.01, (ours_bytes, theirs_bytes)
    # The Rust loop's floats are its own (fixed order), not torch's: means of a few hundred
    # (the scaled weights) differ in their last bits, which g_s carries into a few pixels.
    torch.testing.assert_close(decoded, expected, rtol=0, atol=1e-2)
    assert float((decoded - expected).abs().mean()) < 1e-5


def test_models_reject_bad_arguments(tmp_path):
    ours, _ = _ours_from_file("mbt2018-mean-vbr", False, tmp_path)
    ours.update(force=True)
    x = _images(1, 64)
    with pytest.raises(ValueError, match="stage"):
        ours(x, stage=3)
    with pytest.raises(ValueError, match="stage"):
        ours.compress(x, stage=0)
    with pytest.raises(ValueError, match="0-7"):
        ours.compress(x, s=8)
    with pytest.raises(ValueError, match="positive"):
        ours.compress(x, inputscale=-0.5)
    with pytest.raises(ValueError, match="one number"):
        ours.compress(x, inputscale=torch.ones(2))
    with pytest.raises(ValueError, match="list of 2"):
        ours.decompress([[b""]], (1, 1))
    with pytest.raises(ValueError, match="multiple of 64"):
        ours.compress(_images(1, 48))
    with pytest.raises(TypeError, match="float images"):
        ours(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))
    ar, _ = _ours_from_file("mbt2018-vbr", False, tmp_path)
    ar.update(force=True)
    ar.ste_recursive = False
    with pytest.raises(ValueError, match="ste_recursive"):
        ar(x)
    with pytest.raises(ValueError, match="ste_recursive"):
        ar.compress(x)
    with pytest.raises(ValueError, match="not a"):
        ScaleHyperpriorVbr.from_state_dict(ar.state_dict())


def test_inputscale_may_be_a_float():
    net = MeanScaleHyperpriorVbr(N, M).eval()
    x = _images(1, 64)
    with torch.no_grad():
        a = net(x, inputscale=0.5)
        b = net(x, inputscale=torch.tensor(0.5))
    assert torch.equal(a["x_hat"], b["x_hat"])


# -- zoo and registry -------------------------------------------------------------------------


def _parameters(fn: object) -> list[tuple[str, object, object]]:
    return [(p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values()]


def test_zoo_tables_match_compressai():
    assert tinify.zoo.VBR_ARCHITECTURES == tuple(czv.model_architectures)
    assert tinify.zoo.VBR_URLS == czv.model_urls
    assert tinify.zoo.VBR_CONFIGS == czv.cfgs
    for arch in tinify.zoo.VBR_ARCHITECTURES:
        ours = getattr(tinify.zoo, arch.replace("-", "_"))
        theirs = getattr(czv, arch.replace("-", "_"))
        assert _parameters(ours) == _parameters(theirs)
        assert tinify.zoo.image_models[arch] is ours
        assert tinify.registry.resolve("model", arch) is ARCHS[arch][0]
        assert czv.model_architectures[arch].__name__ == ARCHS[arch][0].__name__


@pytest.mark.parametrize("arch", list(ARCHS))
def test_zoo_constructors_build_compressais_shapes(arch):
    fn = arch.replace("-", "_")
    ours = getattr(tinify.zoo, fn)().state_dict()
    theirs = getattr(czv, fn)().state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}


def test_zoo_metric_and_pretrained_arguments():
    with pytest.raises(ValueError, match="'mse' only"):
        tinify.zoo.mbt2018_vbr(metric="ms-ssim")
    with pytest.raises(ValueError, match="cannot apply to pretrained"):
        tinify.zoo.mbt2018_vbr(pretrained=True, N=8)
    assert tinify.zoo.mbt2018_mean_vbr(metric="MSE", vr_entbttlnck=True).vr_entbttlnck


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch.hub cache, and no network: any download fails as offline."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(url: str, *args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    return tmp_path / "hub" / "checkpoints"


@pytest.mark.parametrize(("arch", "vr"), [CASES[1], CASES[3], CASES[4]], ids=["b", "m", "ar"])
def test_pretrained_from_torch_hub_cache_with_zoo_key_names(arch, vr, hub):
    """A file named like CompressAI's published one, in torch.hub's cache, with the zoo
    files' ``_matrices.0`` names: loaded without a download, with the variable-step
    hyper-latent inferred, as CompressAI loads it."""
    theirs = _theirs(arch, vr)
    theirs.update(force=True)
    legacy = {
        k.replace("entropy_bottleneck.matrices.", "entropy_bottleneck._matrices.").replace(
            "entropy_bottleneck._matrix", "entropy_bottleneck._matrices."
        ): v
        for k, v in theirs.state_dict().items()
    }
    assert any("._matrices." in k for k in legacy)
    url = tinify.zoo.VBR_URLS[arch]["mse"]
    hub.mkdir(parents=True)
    torch.save(legacy, hub / url.rsplit("/", 1)[1])
    ours = getattr(tinify.zoo, arch.replace("-", "_"))(pretrained=True, progress=False)
    assert type(ours) is ARCHS[arch][0] and ours.vr_entbttlnck == vr and not ours.training
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key


def test_pretrained_offline_error_names_the_url(hub):
    with pytest.raises(OSError, match="name resolution") as info:
        tinify.zoo.bmshj2018_hyperprior_vbr(pretrained=True)
    assert tinify.zoo.VBR_URLS["bmshj2018-hyperprior-vbr"]["mse"] in str(info.value)
