"""Issue 8, item 4: checkpoints saved with CompressAI load into tinify, for every zoo
architecture, and code exactly as CompressAI's models do.

Each test builds a CompressAI model (small sizes: the checks are about layouts, not
capacity), scales its analysis transforms so that the latents spread over several integers
(a random model's latents are nearly all zero), runs ``update()``, saves the state_dict three
ways (raw, wrapped in ``{"state_dict": ...}``, ``module.``-prefixed), and loads each with
:func:`tinify.zoo.load_checkpoint`, with the architecture inferred and given.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

import tinify.zoo

compressai = pytest.importorskip("compressai")
import compressai.models as cm  # noqa: E402
from compressai.models import sensetime as cs  # noqa: E402

# Architecture → (CompressAI model at a small size, autoregressive?).
SMALL: dict[str, tuple[Callable[[], nn.Module], bool]] = {
    "bmshj2018-factorized": (lambda: cm.FactorizedPrior(16, 24), False),
    "bmshj2018-factorized-relu": (lambda: cm.FactorizedPriorReLU(16, 24), False),
    "bmshj2018-hyperprior": (lambda: cm.ScaleHyperprior(16, 24), False),
    "mbt2018-mean": (lambda: cm.MeanScaleHyperprior(16, 24), False),
    "mbt2018": (lambda: cm.JointAutoregressiveHierarchicalPriors(12, 18), True),
    "cheng2020-anchor": (lambda: cm.Cheng2020Anchor(12), True),
    "cheng2020-attn": (lambda: cm.Cheng2020Attention(12), True),
    "cheng2020-anchor-checkerboard": (lambda: cs.Cheng2020AnchorCheckerboard(12), False),
    "elic2022-official": (lambda: cs.Elic2022Official(N=16, M=40, groups=[4, 4, 8, 8, 16]), False),
    "elic2022-chandelier": (
        lambda: cs.Elic2022Chandelier(N=16, M=40, groups=[4, 4, 8, 8, 16]),
        False,
    ),
}

# 64 x 128: every model's sides are multiples of its downsampling (64), non-square so that a
# transposed axis shows.
IMAGE_SHAPE = (1, 3, 64, 128)


def _last_conv(transform: nn.Module) -> nn.Conv2d:
    return [m for m in transform.children() if isinstance(m, nn.Conv2d)][-1]


def _spread(transform: nn.Module, x: torch.Tensor, target: float) -> torch.Tensor:
    """Scales the last top-level convolution of ``transform`` until its output has standard
    deviation ``target``; returns the output."""
    conv = _last_conv(transform)
    for _ in range(3):
        with torch.no_grad():
            y = transform(x)
            gain = target / float(y.std().clamp_min(1e-6))
            conv.weight.mul_(gain)
            if conv.bias is not None:
                conv.bias.mul_(gain)
    with torch.no_grad():
        return transform(x)


def _hyper_analysis(net: nn.Module) -> nn.Module | None:
    if hasattr(net, "h_a"):
        return net.h_a
    codec = getattr(net, "latent_codec", None)
    return codec["hyper"].h_a if codec is not None else None


def _realistic(net: nn.Module, x: torch.Tensor) -> nn.Module:
    """Weights whose latents spread over several units: y over about ±8, z over about ±3."""
    net.eval()
    y = _spread(net.g_a, x, 4.0)
    h_a = _hyper_analysis(net)
    if h_a is not None:
        # MeanScaleHyperprior and the latent-codec models feed y to h_a, ScaleHyperprior |y|.
        inp = y.abs() if type(net) is cm.ScaleHyperprior else y
        _spread(h_a, inp, 1.5)
    net.update(force=True)
    return net


@pytest.fixture(scope="module")
def image() -> torch.Tensor:
    g = torch.Generator().manual_seed(8)
    # A smooth image plus noise: closer to a photograph than uniform noise.
    base = torch.rand((1, 3, 4, 8), generator=g)
    smooth = nn.functional.interpolate(base, size=IMAGE_SHAPE[2:], mode="bilinear")
    return (smooth + 0.05 * torch.randn(IMAGE_SHAPE, generator=g)).clamp(0, 1)


def _save_three_ways(net: nn.Module, directory: Path) -> dict[str, Path]:
    state = net.state_dict()
    layouts = {
        "raw": state,
        "wrapped": {"state_dict": state, "epoch": 3, "loss": 0.5},
        "module": {f"module.{k}": v for k, v in state.items()},
    }
    paths = {}
    for label, contents in layouts.items():
        paths[label] = directory / f"{label}.pth.tar"
        torch.save(contents, paths[label])
    return paths


def _assert_forward_equal(ours: nn.Module, theirs: nn.Module, x: torch.Tensor) -> None:
    with torch.no_grad():
        a, b = ours(x), theirs(x)
    torch.testing.assert_close(a["x_hat"], b["x_hat"], atol=1e-5, rtol=0)
    assert a["likelihoods"].keys() == b["likelihoods"].keys()
    for key in b["likelihoods"]:
        la, lb = a["likelihoods"][key], b["likelihoods"][key]
        if isinstance(lb, list | tuple):
            assert len(la) == len(lb)
            for u, v in zip(la, lb, strict=True):
                torch.testing.assert_close(u, v, atol=1e-5, rtol=0)
        else:
            torch.testing.assert_close(la, lb, atol=1e-5, rtol=0)


@pytest.mark.parametrize("arch", list(SMALL))
def test_compressai_checkpoint_loads_and_codes_identically(
    arch: str, image: torch.Tensor, tmp_path: Path
) -> None:
    make, autoregressive = SMALL[arch]
    torch.manual_seed(0)
    theirs = _realistic(make(), image)
    with torch.no_grad():
        y = theirs.g_a(image)
    assert (y.round() != 0).float().mean() > 0.5, "latents should not be mostly zero"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CompressAI's autoregressive models warn on CPU use
        their_out = theirs.compress(image)
        their_x_hat = theirs.decompress(their_out["strings"], their_out["shape"])["x_hat"]

    cdf_keys = [k for k in theirs.state_dict() if k.endswith("_quantized_cdf")]
    assert cdf_keys
    for label, path in _save_three_ways(theirs, tmp_path).items():
        for given in (None, arch, arch.replace("-", "_").upper()):
            ours = tinify.zoo.load_checkpoint(path, given)
            assert not ours.training
            assert tinify.zoo.architecture_of(ours) == arch, (label, given)
            # The file's CDF tables, not rebuilt ones.
            state = ours.state_dict()
            for key in cdf_keys:
                assert torch.equal(state[key], theirs.state_dict()[key]), key
            _assert_forward_equal(ours, theirs, image)
            with torch.no_grad():
                out = ours.compress(image)
                x_hat = ours.decompress(out["strings"], out["shape"])["x_hat"]
            if not autoregressive:
                assert out["strings"] == their_out["strings"], (label, given)
            # Autoregressive models: tinify codes in wavefront order (other bytes, same
            # symbols), so compare what the strings decode to.
            torch.testing.assert_close(x_hat, their_x_hat, atol=1e-5, rtol=0)


@pytest.mark.parametrize("arch", list(SMALL))
def test_zoo_sizes_load_at_quality_1(arch: str, tmp_path: Path) -> None:
    """A CompressAI model at the zoo's quality-1 size: load_checkpoint reads the sizes back."""
    import compressai.zoo

    args = tinify.zoo.CONFIGS[arch][1]
    if arch in compressai.zoo.image_models and arch != "bmshj2018-factorized-relu":
        theirs = compressai.zoo.image_models[arch](quality=1)
    else:  # not in CompressAI's zoo (or, for -relu, built there as a GDN model)
        theirs = type(SMALL[arch][0]())(*args)
    path = tmp_path / "q1.pth.tar"
    torch.save(theirs.state_dict(), path)
    ours = tinify.zoo.load_checkpoint(path)
    assert tinify.zoo.architecture_of(ours) == arch
    reference = tinify.zoo.model(arch, 1).state_dict()
    loaded = ours.state_dict()
    assert loaded.keys() == reference.keys()
    for key, value in reference.items():
        if not key.endswith(("_quantized_cdf", "_offset", "_cdf_length", "scale_table")):
            assert loaded[key].shape == value.shape, key
    # Not updated in the file: load_checkpoint built the tables.
    assert all(loaded[k].numel() > 0 for k in loaded if k.endswith("_quantized_cdf"))
