"""The training campaign's pieces: pixel-weighted crops, augmentation, warm-up, EMA export,
mixed quantization."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tinify.models.gain import GainedMeanScaleHyperprior
from tinify.train.data import ImageFolder
from tinify.train.loop import _lr_factor


@pytest.fixture
def two_sizes(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(1)
    paths = []
    for name, (h, w) in (("small.png", (64, 64)), ("large.png", (128, 192))):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(tmp_path / name)
        paths.append(tmp_path / name)
    return paths


def test_crops_are_shared_by_pixel_count(two_sizes: list[Path]) -> None:
    data = ImageFolder(two_sizes, patch_size=32, repeat=7, by_pixels=True)
    owners = data._owner.tolist()
    assert len(owners) == 14
    # 4096 against 24576 pixels: 2 of 14 crops for the small image, 12 for the large.
    assert owners.count(0) == 2 and owners.count(1) == 12
    equal = ImageFolder(two_sizes, patch_size=32, repeat=7)
    assert equal._owner.tolist().count(0) == 7


def test_scaled_and_turned_crops_stay_in_range_and_shape(two_sizes: list[Path]) -> None:
    torch.manual_seed(0)
    data = ImageFolder(two_sizes, patch_size=48, repeat=4, scale=(0.5, 1.0), rot90=True)
    crops = torch.stack([data[i] for i in range(len(data))])
    assert crops.shape == (8, 3, 48, 48)
    assert crops.dtype == torch.float32
    assert float(crops.min()) >= 0 and float(crops.max()) <= 1
    # Downscaled crops are smoothed: random noise images lose contrast, a plain crop does not.
    plain = ImageFolder(two_sizes, patch_size=48, repeat=4)
    assert float(crops.std()) < float(torch.stack([plain[i] for i in range(8)]).std())


def test_crop_arguments_are_checked(two_sizes: list[Path]) -> None:
    with pytest.raises(ValueError, match="scale"):
        ImageFolder(two_sizes, patch_size=32, scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="scale"):
        ImageFolder(two_sizes, patch_size=32, scale=(0.8, 0.6))


def test_warmup_then_milestones() -> None:
    f = _lr_factor(4, [10])
    assert [f(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert f(9) == 1.0 and f(10) == pytest.approx(0.1)
    assert _lr_factor(0, [])(123456) == 1.0
    third = _lr_factor(0, [5, 8], gamma=1 / 3)
    assert [third(s) for s in (4, 5, 8)] == pytest.approx([1.0, 1 / 3, 1 / 9])


def test_mixed_quantization_feeds_rounded_latents_to_the_synthesis() -> None:
    torch.manual_seed(0)
    net = GainedMeanScaleHyperprior(8, 8).train()
    rate = net.num_rates - 1
    seen: dict[str, torch.Tensor] = {}

    def conditional(_m, args, kwargs, output):  # type: ignore[no-untyped-def]
        seen["y"], seen["means"], seen["noisy"] = args[0], kwargs["means"], output[0]

    net.gaussian_conditional.register_forward_hook(conditional, with_kwargs=True)
    net.g_s.register_forward_pre_hook(lambda _m, args: seen.update(synthesis=args[0]))
    x = torch.rand(1, 3, 64, 64)
    gain_inv = net._row(net.y_gain_inv, rate)

    net(x, rate=rate)
    torch.testing.assert_close(seen["synthesis"], seen["noisy"] * gain_inv)
    net.mixed_quantization = True
    out = net(x, rate=rate)
    rounded = torch.round(seen["y"] - seen["means"]) + seen["means"]
    torch.testing.assert_close(seen["synthesis"], rounded * gain_inv)
    assert not torch.allclose(rounded, seen["noisy"])
    # The rate term still sees the noisy latent, and a gradient still reaches the analysis.
    out["x_hat"].sum().backward()
    assert net.g_a[0].weight.grad is not None and float(net.g_a[0].weight.grad.abs().sum()) > 0
    # Evaluation is unaffected: the flag acts in training mode only.
    net.eval()
    net(x, rate=rate)
    torch.testing.assert_close(seen["synthesis"], seen["noisy"] * gain_inv)


def test_bf16_transforms_keep_the_entropy_models_in_float32() -> None:
    from tinify.train.precision import autocast_transforms

    torch.manual_seed(0)
    net = GainedMeanScaleHyperprior(8, 8).train()
    keys = list(net.state_dict())
    dtypes: dict[str, torch.dtype] = {}
    net.g_a[0].register_forward_hook(lambda _m, _a, out: dtypes.update(conv=out.dtype))
    net.gaussian_conditional.register_forward_hook(
        lambda _m, args, out: dtypes.update(y=args[0].dtype, lk=out[1].dtype)
    )
    handles = autocast_transforms(net)
    x = torch.rand(2, 3, 64, 64)
    out = net(x, rate=0)
    assert dtypes == {"conv": torch.bfloat16, "y": torch.float32, "lk": torch.float32}
    assert out["x_hat"].dtype == torch.float32
    assert list(net.state_dict()) == keys
    out["x_hat"].mean().backward()
    assert net.g_a[0].weight.grad is not None and net.g_a[0].weight.grad.dtype == torch.float32
    for handle in handles:
        handle.remove()
    net(x, rate=0)
    assert dtypes["conv"] == torch.float32
    with pytest.raises(ValueError, match="no submodule 'h_z'"):
        autocast_transforms(net, names=("h_z",))


def test_config_checks_its_settings(tmp_path: Path) -> None:
    from tinify.train import TrainConfig

    config = TrainConfig(str(tmp_path), "bmshj2018-factorized", quality=1, out=str(tmp_path))
    assert config.data == [tmp_path] and config.out == tmp_path
    assert config.to_dict()["data"] == [str(tmp_path)]
    for bad, match in (
        ({"quality": 1, "lmbda": 0.01}, "not both"),
        ({"steps": 1, "epochs": 1}, "not both"),
        ({"metric": "psnr"}, "metric"),
        ({"batch_size": 0}, "batch_size"),
        ({"scale_min": 0}, "scale_min"),
        ({"ema_decay": 1.0}, "ema_decay"),
        ({"lr_gamma": 0.0}, "lr_gamma"),
        ({"lr_gamma": 3.0}, "lr_gamma"),
    ):
        with pytest.raises(ValueError, match=match):
            TrainConfig([tmp_path], "bmshj2018-factorized", **bad)


def test_trainer_runs_from_python_and_refuses_unsafe_checkpoints(
    image_dir: Path, tmp_path: Path
) -> None:
    from tinify.train import TrainConfig, Trainer, load_training_checkpoint

    config = TrainConfig(
        [image_dir],
        "bmshj2018-factorized",
        lmbda=0.01,
        N=8,
        M=8,
        steps=2,
        batch_size=2,
        patch_size=64,
        repeat=1,
        save_every=0,
        out=tmp_path / "run",
        progress=False,
    )
    trainer = Trainer(config)
    net = trainer.fit()
    assert trainer.step == 2 and not net.training
    state = load_training_checkpoint(tmp_path / "run" / "checkpoint.pth.tar")
    assert state["step"] == 2 and state["args"]["lmbda"] == 0.01
    # A checkpoint that needs arbitrary unpickling (here a numpy array) is refused.
    state["rng"] = [{"numpy": np.zeros(3)}]
    torch.save(state, tmp_path / "old.pth.tar")
    with pytest.raises(ValueError, match="weights_only=True"):
        load_training_checkpoint(tmp_path / "old.pth.tar")
