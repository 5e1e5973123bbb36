"""N steps, save, resume, M steps == N + M steps, bit for bit (CPU, fixed seed)."""

import argparse
from pathlib import Path

import pytest
import torch

from tinify.train import add_arguments, train
from tinify.train.checkpoint import load_training_checkpoint


def _args(image_dir: Path, out: Path, steps: int, *extra: str) -> argparse.Namespace:
    argv = [
        str(image_dir),
        "-m",
        "gained-mean-scale-hyperprior",
        "--N",
        "8",
        "--M",
        "8",
        "--steps",
        str(steps),
        "--batch-size",
        "2",
        "--patch-size",
        "64",
        "--repeat",
        "2",  # 4 images x 2 / 2 = 4 steps per epoch: step 3 is mid-epoch
        "--lr",
        "1e-3",
        "--lr-milestones",
        "4",
        "--log-every",
        "1",
        "--save-every",
        "0",
        "--out",
        str(out),
        "--seed",
        "7",
        "--no-progress",
        *extra,
    ]
    return add_arguments(argparse.ArgumentParser()).parse_args(argv)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_training_checkpoint(path)["state_dict"]


CAMPAIGN = (
    "--ema-decay",
    "0.9",
    "--mixed-quantization",
    "--warmup",
    "2",
    "--by-pixels",
    "--scale-min",
    "0.7",
    "--rot90",
    "--bf16",
)


@pytest.mark.parametrize("extra", [(), CAMPAIGN], ids=["plain", "ema-mixed-augmented"])
def test_resume_is_bit_exact(image_dir: Path, tmp_path: Path, extra: tuple[str, ...]) -> None:
    train(_args(image_dir, tmp_path / "straight", 6, *extra))
    train(_args(image_dir, tmp_path / "split", 3, *extra))
    first = load_training_checkpoint(tmp_path / "split" / "checkpoint.pth.tar")
    assert first["step"] == 3
    train(
        _args(
            image_dir,
            tmp_path / "split",
            6,
            "--resume",
            str(tmp_path / "split" / "checkpoint.pth.tar"),
            *extra,
        )
    )
    a = _weights(tmp_path / "straight" / "checkpoint.pth.tar")
    b = _weights(tmp_path / "split" / "checkpoint.pth.tar")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    if extra:
        ema_a = load_training_checkpoint(tmp_path / "straight" / "checkpoint.pth.tar")
        ema_b = load_training_checkpoint(tmp_path / "split" / "checkpoint.pth.tar")
        for key, value in ema_a["ema_state_dict"].items():
            assert torch.equal(value, ema_b["ema_state_dict"][key]), key
        # The average lags the raw weights: it is not a copy of them.
        assert not torch.equal(ema_a["ema_state_dict"]["g_a.0.weight"], a["g_a.0.weight"])
    # The straight run really trained (the weights moved off their initialisation).
    fresh = _args(image_dir, tmp_path / "zero", 0)
    init = train(fresh).state_dict()
    assert not torch.equal(init["g_a.0.weight"], a["g_a.0.weight"])


def test_a_milestone_at_the_resumed_step_scales_the_rate_by_gamma(
    image_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    train(_args(image_dir, run, 3))
    ckpt = str(run / "checkpoint.pth.tar")
    train(_args(image_dir, run, 5, "--resume", ckpt, "--lr-milestones", "3", "--lr-gamma", "0.5"))
    groups = load_training_checkpoint(run / "checkpoint.pth.tar")["optimizer"]["param_groups"]
    assert groups[0]["lr"] == pytest.approx(1e-3 * 0.5)


def test_resume_rejects_a_weights_only_file(image_dir: Path, tmp_path: Path) -> None:
    train(_args(image_dir, tmp_path / "run", 1))
    with pytest.raises(ValueError, match="not a tinify training checkpoint"):
        train(
            _args(
                image_dir, tmp_path / "run", 2, "--resume", str(tmp_path / "run" / "model.pth.tar")
            )
        )


def test_quality_and_lambda_rules(image_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="every rate"):
        train(_args(image_dir, tmp_path / "run", 1, "--lambda", "0.01"))
