"""tinify.compress / tinify.decompress and the file functions."""

from __future__ import annotations

import random
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from torch import nn

import tinify
from tinify import tfy
from tinify.codec import compress_file, decompress_file, weights_digest
from tinify.image import crop, load_image, pad

from .conftest import realistic, smooth_image

MODES = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


@pytest.mark.parametrize(
    "name", ["factorized", "mean-scale", "autoregressive", "checkerboard", "elic"]
)
@pytest.mark.parametrize("size", [(1, 1), (97, 131), (5, 2048)])
def test_decoded_image_has_the_size_and_mode_of_the_input(
    models: dict[str, nn.Module], name: str, size: tuple[int, int]
) -> None:
    net = models[name]
    for mode, channels in MODES.items():
        image = smooth_image(*size, channels)
        data = tinify.compress(image, net, quality=2)
        out = tinify.decompress(data, model=net, output="numpy")
        assert out.shape == image.shape and out.dtype == np.uint8
        if "A" in mode:
            assert np.array_equal(out[..., -1], image[..., -1])  # alpha is lossless
        pil = tinify.decompress(data, model=net)
        assert pil.mode == mode and pil.size == (size[1], size[0])


def test_file_decodes_to_what_the_model_itself_decodes(models: dict[str, nn.Module]) -> None:
    """The container adds nothing and loses nothing: the file's image is the model's own
    decompress of its own compress of the padded image, cropped back, with the engine's
    prior (what tinify's own files use), the model's own setting restored after."""
    net = models["mean-scale"]
    image = smooth_image(97, 131, 3)
    x, _ = load_image(image)
    net.prior = "engine"
    try:
        with torch.inference_mode():
            out = net.compress(pad(x, 64))
            expected = crop(net.decompress(out["strings"], out["shape"])["x_hat"], (97, 131))
    finally:
        net.prior = "torch"
    data = tinify.compress(image, net, quality=1)
    _, strings = tfy.decode(data)
    assert strings == out["strings"]
    assert sum(len(s[0]) for s in strings) > 50  # realistic latents, not all zeros
    assert tfy.read_header(data).prior == "engine" and net.prior == "torch"
    decoded = tinify.decompress(data, model=net, output="tensor")
    assert torch.equal(decoded, expected)


def test_every_input_kind_gives_the_same_file(models: dict[str, nn.Module], tmp_path) -> None:
    net = models["factorized"]
    image = smooth_image(33, 47, 3)
    path = tmp_path / "in.png"
    Image.fromarray(image).save(path)
    tensor = torch.from_numpy(image).permute(2, 0, 1).float() / 255
    files = {
        tinify.compress(kind, net, 1)
        for kind in (image, Image.fromarray(image), path, str(path), tensor, tensor[None])
    }
    assert len(files) == 1


def test_outputs_match_each_other(models: dict[str, nn.Module]) -> None:
    net = models["factorized"]
    data = tinify.compress(smooth_image(20, 30, 4), net, 1)
    array = tinify.decompress(data, model=net, output="numpy")
    tensor = tinify.decompress(data, model=net, output="tensor")
    assert tensor.shape == (1, 4, 20, 30)
    assert np.array_equal(np.asarray(tinify.decompress(data, model=net)), array)
    assert np.array_equal((tensor[0].permute(1, 2, 0) * 255).round().byte().numpy(), array)
    with pytest.raises(ValueError, match="output"):
        tinify.decompress(data, model=net, output="jpeg")


def test_greyscale_is_decoded_as_the_mean_of_the_channels(models: dict[str, nn.Module]) -> None:
    net = models["mean-scale"]
    image = smooth_image(24, 24, 1)
    data = tinify.compress(image, net, 1)
    header, strings = tfy.decode(data)
    with torch.inference_mode():
        x_hat = crop(net.decompress(strings, header.shape)["x_hat"], (24, 24))
    expected = torch.round(torch.round(x_hat[0] * 255).mean(0)).byte().numpy()
    assert np.array_equal(tinify.decompress(data, model=net, output="numpy"), expected)


def test_sixteen_bit_images_are_coded_at_eight_bits(models: dict[str, nn.Module], tmp_path) -> None:
    net = models["factorized"]
    image16 = (smooth_image(16, 20, 1).astype(np.uint16) * 257) + 3
    path = tmp_path / "deep.png"
    Image.fromarray(image16).save(path)
    for source in (image16, path):
        data = tinify.compress(source, net, 1)
        header = tfy.read_header(data)
        assert (header.mode, header.source_bit_depth, header.bit_depth) == ("L", 16, 8)
        assert tinify.decompress(data, model=net).mode == "L"


def test_palette_images_with_transparency_keep_it(models: dict[str, nn.Module]) -> None:
    net = models["factorized"]
    image = Image.fromarray(smooth_image(12, 12, 3)).convert("P")
    image.info["transparency"] = 0
    data = tinify.compress(image, net, 1)
    assert tinify.decompress(data, model=net).mode == "RGBA"


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((0, 4, 3), np.uint8),
        np.zeros((4, 4, 5), np.uint8),
        torch.full((3, 4, 4), 1.5),
        torch.full((3, 4, 4), float("nan")),
        torch.zeros(2, 3, 4, 4),
    ],
)
def test_bad_images_raise_value_errors(models: dict[str, nn.Module], image: object) -> None:
    with pytest.raises(ValueError):
        tinify.compress(image, models["factorized"], 1)


def test_bad_image_kinds_raise_type_errors(models: dict[str, nn.Module]) -> None:
    for image in (np.zeros((4, 4), np.float64), [[0, 1]], 3):
        with pytest.raises(TypeError):
            tinify.compress(image, models["factorized"], 1)


def test_a_header_naming_another_model_is_refused(models: dict[str, nn.Module]) -> None:
    data = tinify.compress(smooth_image(16, 16, 3), models["mean-scale"], 1)
    torch.manual_seed(99)
    other = realistic(type(models["mean-scale"])(8, 12))
    with pytest.raises(ValueError, match=r"coded with mbt2018-mean.*not with the model given"):
        tinify.decompress(data, model=other)
    with pytest.raises(ValueError, match=r"coded with mbt2018-mean.*bmshj2018-factorized"):
        tinify.decompress(data, model=models["factorized"])


def test_a_file_of_ones_own_model_needs_the_model(models: dict[str, nn.Module]) -> None:
    data = tinify.compress(smooth_image(16, 16, 3), models["factorized"], 1)
    with pytest.raises(ValueError, match="model of the user's own"):
        tinify.decompress(data)


def test_the_weights_digest_is_cached_until_the_weights_change() -> None:
    torch.manual_seed(0)
    net = realistic(
        type(nn.Module)("X", (), {}) and __import__("tinify").models.google.FactorizedPrior(4, 6)
    )
    first = weights_digest(net)
    assert weights_digest(net) == first
    with torch.no_grad():
        net.g_a[0].weight.add_(1)
    assert weights_digest(net) != first


def test_decompress_keeps_the_model_in_its_training_mode(models: dict[str, nn.Module]) -> None:
    net = models["factorized"]
    net.train()
    try:
        data = tinify.compress(smooth_image(8, 8, 3), net, 1)
        tinify.decompress(data, model=net)
        assert net.training
    finally:
        net.eval()


# ----------------------------------------------------------------------------- files


def test_file_functions_report_sizes_and_refuse_to_overwrite(
    models: dict[str, nn.Module], tmp_path
) -> None:
    net = models["mean-scale"]
    src = tmp_path / "a.png"
    Image.fromarray(smooth_image(40, 50, 4)).save(src)
    report = compress_file(src, tmp_path / "a.tfy", net, 1)
    assert report.bytes == (tmp_path / "a.tfy").stat().st_size
    assert report.payload_bytes < report.bytes
    assert report.bpp == pytest.approx(report.bytes * 8 / 2000)
    assert (report.height, report.width, report.mode) == (40, 50, "RGBA")
    back = decompress_file(tmp_path / "a.tfy", tmp_path / "b.png", model=net)
    assert back.bytes == report.bytes
    with Image.open(tmp_path / "b.png") as img:
        assert (img.size, img.mode) == ((50, 40), "RGBA")
    with pytest.raises(FileExistsError):
        compress_file(src, tmp_path / "a.tfy", net, 1)
    with pytest.raises(FileExistsError):
        decompress_file(tmp_path / "a.tfy", tmp_path / "b.png", model=net)
    decompress_file(tmp_path / "a.tfy", tmp_path / "b.png", model=net, overwrite=True)


def test_a_failed_decompress_leaves_no_file(models: dict[str, nn.Module], tmp_path) -> None:
    net = models["factorized"]
    data = tinify.compress(smooth_image(16, 16, 3), net, 1)
    bad = tmp_path / "bad.tfy"
    bad.write_bytes(data[:-1])
    with pytest.raises(tfy.TfyError):
        decompress_file(bad, tmp_path / "out.png", model=net)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tfy"]


# ----------------------------------------------------------------------------- hostile bytes


def real_file(models: dict[str, nn.Module]) -> bytes:
    return tinify.compress(smooth_image(40, 56, 3), models["checkerboard"], 1)


def test_truncated_and_flipped_files_raise_tfy_errors(models: dict[str, nn.Module]) -> None:
    data = real_file(models)
    net = models["checkerboard"]
    for end in range(0, len(data), 97):
        with pytest.raises(tfy.TfyError):
            tinify.decompress(data[:end], model=net)
    rng = random.Random(5)
    for position in rng.sample(range(len(data) * 8), 200):
        flipped = bytearray(data)
        flipped[position // 8] ^= 1 << (position % 8)
        with pytest.raises(tfy.TfyError):
            tinify.decompress(bytes(flipped), model=net)


@settings(max_examples=150)
@given(st.data())
def test_mutated_files_raise_only_value_errors(models: dict[str, nn.Module], data) -> None:
    """Mutations with the CRC recomputed reach the header, the shapes and the decoders."""
    name = data.draw(st.sampled_from(sorted(models)))
    net = models[name]
    body = bytearray(tinify.compress(smooth_image(20, 36, 3), net, 1)[:-4])
    for _ in range(data.draw(st.integers(1, 4))):
        body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
    mutated = bytes(body) + zlib.crc32(body).to_bytes(4, "little")
    try:
        tinify.decompress(mutated, model=net)
    except ValueError:
        pass


@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_value_errors(models: dict[str, nn.Module], data: bytes) -> None:
    with pytest.raises(ValueError):
        tinify.decompress(data, model=models["factorized"])


# ----------------------------------------------------------------------------- named models


@pytest.fixture
def gained(monkeypatch: pytest.MonkeyPatch) -> nn.Module:
    """A small variable-rate model standing in for the shipped default."""
    from tinify.codec import resolve
    from tinify.models.gain import GainedMeanScaleHyperprior
    from tinify.zoo import default

    torch.manual_seed(3)
    net = realistic(GainedMeanScaleHyperprior(8, 12, lambdas=[0.001, 0.01, 0.1]))

    def load_default(quality: int | None = None) -> nn.Module:
        net.rate = (quality or default.DEFAULT_QUALITY) - 1
        return net

    monkeypatch.setattr(default, "load_default", load_default)
    monkeypatch.setattr(default, "DEFAULT_QUALITY", 2)
    monkeypatch.setattr(resolve, "_MODEL_CACHE", {})
    return net


def test_the_default_model_is_rebuilt_from_the_header(gained: nn.Module) -> None:
    from tinify.zoo import default

    image = smooth_image(30, 40, 3)
    files = {q: tinify.compress(image, quality=q) for q in (1, 3)}
    for q, data in files.items():
        header = tfy.read_header(data)
        assert (header.model_name, header.quality) == (default.DEFAULT_NAME, q)
        assert header.architecture == "gained-mean-scale-hyperprior"
        gained.rate = 0  # the decoder sets the rate from the header, whatever the model's
        assert tinify.decompress(data).size == (40, 30)
    assert len(files[1]) < len(files[3])  # quality 1 is the lowest rate
    assert tfy.read_header(tinify.compress(image)).quality == 2  # DEFAULT_QUALITY


def test_one_default_network_serves_every_quality(gained: nn.Module) -> None:
    from tinify.codec import resolve

    image = smooth_image(30, 40, 3)
    files = [tinify.compress(image, quality=q) for q in (1, 3, 2)]
    assert len(resolve._MODEL_CACHE) == 1
    for q, data in zip((1, 3, 2), files, strict=True):
        assert tfy.read_header(data).quality == q
        assert tinify.decompress(data).size == (40, 30)
    assert len(resolve._MODEL_CACHE) == 1


def test_a_variable_rate_model_object_codes_at_the_quality_given(gained: nn.Module) -> None:
    image = smooth_image(30, 40, 3)
    low, high = (tinify.compress(image, gained, q) for q in (1, 3))
    assert len(low) < len(high)
    gained.rate = 1
    assert tfy.read_header(tinify.compress(image, gained)).quality == 2  # its own rate
    gained.rate = 2
    assert tinify.decompress(low, model=gained, output="numpy").shape == (30, 40, 3)


def test_pretrained_models_are_rebuilt_by_name(
    models: dict[str, nn.Module], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tinify.zoo
    from tinify.codec import resolve

    calls = []

    def model(arch: str, quality: int, metric: str = "mse", pretrained: bool = False) -> nn.Module:
        calls.append((arch, quality, metric, pretrained))
        return models["mean-scale"]

    monkeypatch.setattr(tinify.zoo, "model", model, raising=False)
    monkeypatch.setattr(resolve, "_MODEL_CACHE", {})
    data = tinify.compress(smooth_image(16, 16, 3), "mbt2018-mean", 4, metric="ms-ssim")
    header = tfy.read_header(data)
    assert (header.model_name, header.quality, header.metric) == (
        "compressai-pretrained",
        4,
        "ms-ssim",
    )
    monkeypatch.setattr(resolve, "_MODEL_CACHE", {})
    assert tinify.decompress(data).size == (16, 16)
    assert calls == [("mbt2018-mean", 4, "ms-ssim", True)] * 2
