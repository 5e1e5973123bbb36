"""mbt2018 and cheng2020: CompressAI's weights and forward pass, and the Rust serial loop.

Random weights quantize almost every latent to zero, so these tests scale the last analysis
layer (``realistic``) until the y stream carries well over 0.3 bits per pixel.
"""

import math
import warnings

import pytest
import torch
from torch import nn

import tinify.models as tm
from tinify.ans import DecodeError
from tinify.autoregressive import RasterScanCoder, SlowPathWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import compressai.models as cm

MODELS = [
    ("JointAutoregressiveHierarchicalPriors", {"N": 32, "M": 48}, "g_a.6"),
    ("Cheng2020Anchor", {"N": 32}, "g_a.6"),
    ("Cheng2020Attention", {"N": 32}, "g_a.7"),
]


def _twins(name, kwargs, last_layer, gain=12.0, seed=0):
    """A CompressAI model and tinify's with the same weights (latents scaled by ``gain``)."""
    torch.manual_seed(seed)
    theirs = getattr(cm, name)(**kwargs).eval()
    with torch.no_grad():
        layer = dict(theirs.named_modules())[last_layer]
        layer.weight.mul_(gain)
        layer.bias.mul_(gain)
    theirs.update(force=True)
    ours = getattr(tm, name)(**kwargs).eval()
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def _image(n=1, height=128, width=192, seed=0):
    """Smooth random images: low-frequency content plus a little noise, like photographs."""
    gen = torch.Generator().manual_seed(seed)
    base = torch.rand(n, 3, height // 16, width // 16, generator=gen)
    smooth = nn.functional.interpolate(
        base, size=(height, width), mode="bicubic", align_corners=False
    )
    return (smooth + 0.03 * torch.randn(n, 3, height, width, generator=gen)).clamp(0, 1)


def _psnr(x, x_hat):
    return 10 * math.log10(1 / torch.mean((x - x_hat) ** 2).item())


@pytest.mark.parametrize(("name", "kwargs", "last_layer"), MODELS)
def test_forward_equals_compressai_with_its_state_dict_both_ways(name, kwargs, last_layer):
    theirs, ours = _twins(name, kwargs, last_layer)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = _image(2, 64, 128)
    with torch.no_grad():
        a, b = theirs(x), ours(x)
    torch.testing.assert_close(b["x_hat"], a["x_hat"], atol=1e-5, rtol=0)
    for key in ("y", "z"):
        torch.testing.assert_close(b["likelihoods"][key], a["likelihoods"][key], atol=1e-5, rtol=0)
    back = getattr(cm, name)(**kwargs).eval()
    back.load_state_dict(ours.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(back(x)["x_hat"], a["x_hat"], atol=1e-5, rtol=0)
    assert type(ours).from_state_dict(theirs.state_dict()).N == kwargs["N"]


def _encoder_side(model, x):
    """What compress() codes: y and the hyper params decoded from the z strings."""
    with torch.no_grad():
        y = model.g_a(x)
        z = model.h_a(y)
        z_hat = model.entropy_bottleneck.decompress(
            model.entropy_bottleneck.compress(z), z.shape[-2:]
        )
        return y, model.h_s(z_hat)


@pytest.mark.parametrize(("name", "kwargs", "last_layer"), MODELS)
@pytest.mark.parametrize("batch", [1, 2, 3])
def test_decoder_reproduces_the_encoders_y_hat_bit_for_bit(name, kwargs, last_layer, batch):
    _, model = _twins(name, kwargs, last_layer)
    x = _image(batch, 64, 192, seed=batch)
    y, params = _encoder_side(model, x)
    coder = RasterScanCoder(
        model.context_prediction, model.entropy_parameters, model.gaussian_conditional
    )
    strings, y_hat = coder.encode(y, params)
    assert (y - y_hat).abs().max() <= 0.5 + 1e-4

    seen = {}
    handle = model.g_s.register_forward_pre_hook(
        lambda module, args: seen.setdefault("y_hat", args[0])
    )
    try:
        out = model.compress(x)
        dec = model.decompress(out["strings"], out["shape"])
    finally:
        handle.remove()
    assert out["strings"][0] == strings
    assert torch.equal(seen["y_hat"], y_hat)
    assert seen["y_hat"].is_contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        # g_s runs channels-last in decompress (CompressionModel._synthesize): the same sums
        # in another order for some layers, so float32 rounding apart.
        torch.testing.assert_close(dec["x_hat"], model.g_s(y_hat).clamp(0, 1), atol=1e-5, rtol=0)
        assert torch.equal(dec["x_hat"], model._synthesize(y_hat))
        assert dec["x_hat"].is_contiguous()


@pytest.mark.parametrize("threads", [2, 3])
def test_strings_and_decode_do_not_depend_on_the_thread_count(threads):
    _, model = _twins(*MODELS[0])
    x = _image(3, 64, 128, seed=7)
    reference = model.compress(x, threads=1)
    out = model.compress(x, threads=threads)
    assert out["strings"] == reference["strings"]
    a = model.decompress(out["strings"], out["shape"], threads=threads)["x_hat"]
    b = model.decompress(reference["strings"], reference["shape"], threads=1)["x_hat"]
    assert torch.equal(a, b)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kwargs", "last_layer"), MODELS[:2])
def test_rate_and_psnr_match_compressai(name, kwargs, last_layer):
    """Same weights, same image: CompressAI's raster order and tinify's wavefront order code
    the same symbols with the same probabilities (up to float rounding of the means)."""
    theirs, ours = _twins(name, kwargs, last_layer)
    x = _image(1, 256, 256, seed=3)
    a = theirs.compress(x)
    b = ours.compress(x)
    assert a["strings"][1] == b["strings"][1]  # z: the same entropy bottleneck bytes
    y_bits = 8 * len(b["strings"][0][0])
    assert y_bits / (256 * 256) >= 0.3, "latents too small to test the rate"
    size_a = sum(len(s[0]) for s in a["strings"])
    size_b = sum(len(s[0]) for s in b["strings"])
    assert abs(size_b - size_a) <= 0.005 * size_a
    psnr_a = _psnr(x, theirs.decompress(a["strings"], a["shape"])["x_hat"])
    psnr_b = _psnr(x, ours.decompress(b["strings"], b["shape"])["x_hat"])
    assert abs(psnr_a - psnr_b) <= 0.01


def test_entropy_parameters_the_rust_loop_cannot_describe_run_on_the_torch_path():
    theirs, model = _twins(*MODELS[0])
    model.entropy_parameters[1] = nn.Tanh()
    theirs.entropy_parameters[1] = nn.Tanh()
    x = _image(1, 64, 64)
    with pytest.warns(SlowPathWarning, match=r"entropy_parameters\.1 \(Tanh\)"):
        out = model.compress(x)
    x_hat = model.decompress(out["strings"], out["shape"])["x_hat"]
    # CompressAI's raster-order loop with the same network decodes the same image (its stream
    # order differs, its latents do not).
    reference = theirs.compress(x)
    theirs_hat = theirs.decompress(reference["strings"], reference["shape"])["x_hat"]
    torch.testing.assert_close(x_hat, theirs_hat, atol=1e-5, rtol=0)
    assert abs(len(out["strings"][0][0]) - len(reference["strings"][0][0])) <= 8


def test_images_not_a_multiple_of_64_raise_value_error():
    _, model = _twins(*MODELS[0])
    with pytest.raises(ValueError, match="multiple of 64"):
        model.compress(_image(1, 64, 80))


def test_a_damaged_y_stream_raises_decode_error():
    _, model = _twins(*MODELS[0])
    out = model.compress(_image(1, 64, 128))
    y_string = out["strings"][0][0]
    with pytest.raises(DecodeError):
        model.decompress([[y_string[: len(y_string) // 2]], out["strings"][1]], out["shape"])
    with pytest.raises(DecodeError):
        model.decompress([[y_string + b"\0\0\0\0"], out["strings"][1]], out["shape"])


def test_registry_names_resolve_to_the_autoregressive_models():
    from tinify.registry import resolve

    assert resolve("model", "mbt2018") is tm.JointAutoregressiveHierarchicalPriors
    assert resolve("model", "cheng2020-anchor") is tm.Cheng2020Anchor
    assert resolve("model", "cheng2020_attn") is tm.Cheng2020Attention


@pytest.mark.parametrize("kernel_size", [1, 2, (3, 5)])
def test_a_context_kernel_the_rust_loop_would_refuse_is_refused_by_the_one_python_check(
    kernel_size,
):
    from tinify.autoregressive import TorchRasterScanCoder, check_context_prediction
    from tinify.entropy_models import GaussianConditional
    from tinify.layers import MaskedConv2d

    if isinstance(kernel_size, int):
        padding: int | tuple[int, int] = kernel_size // 2
    else:
        padding = (kernel_size[0] // 2, kernel_size[1] // 2)
    conv = MaskedConv2d(4, 8, kernel_size=kernel_size, padding=padding)
    gaussian = GaussianConditional(None)
    gaussian.update_scale_table(torch.exp(torch.linspace(math.log(0.11), math.log(256), 8)))
    with pytest.raises(ValueError, match="square, odd kernel of side 3 or more"):
        check_context_prediction(conv)
    with pytest.raises(ValueError, match="square, odd kernel of side 3 or more"):
        TorchRasterScanCoder(conv, nn.Conv2d(12, 8, 1), gaussian)
