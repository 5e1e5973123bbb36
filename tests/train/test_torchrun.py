"""``torchrun --nproc_per_node=2``: two CPU processes (gloo) train one model."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tinify.train.checkpoint import load_training_checkpoint

from .conftest import smooth_image

WORKER = Path(__file__).with_name("ddp_worker.py")
STEPS = 40


@pytest.fixture(scope="module")
def run(image_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ddp")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(WORKER),
        str(image_dir),
        "-m",
        "bmshj2018-factorized",
        "--N",
        "8",
        "--M",
        "8",
        "--lambda",
        "0.01",
        "--steps",
        str(STEPS),
        "--batch-size",
        "2",
        "--patch-size",
        "32",
        "--repeat",
        "4",
        "--lr",
        "3e-3",
        "--log-every",
        "4",  # one epoch: 4 images x 4 crops / 2 ranks / batch 2
        "--save-every",
        "20",
        "--log-indices",
        "--no-progress",
        "--out",
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    # The ranks' own output comes first, torchrun's report of a failed rank last: show both.
    assert proc.returncode == 0, proc.stderr[:3000] + "\n[...]\n" + proc.stderr[-3000:]
    return out


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_ranks_see_different_samples(run: Path) -> None:
    for record in _log(run):
        rank0, rank1 = record["indices"]
        # One epoch per record: the ranks split the 16 crops between them.
        assert len(rank0) == len(rank1) == 8
        assert sorted(rank0 + rank1) == list(range(16))


def test_ranks_end_with_identical_weights(run: Path) -> None:
    ranks = json.loads((run / "ranks.json").read_text())
    assert ranks == {"world": 2, "max_abs_difference": 0.0}


def test_loss_goes_down(run: Path) -> None:
    losses = [r["loss"] for r in _log(run)]
    assert len(losses) == STEPS // 4
    assert losses[-1] < 0.5 * losses[0]


def test_only_rank_0_wrote_and_the_checkpoint_round_trips(run: Path) -> None:
    assert sorted(p.name for p in run.iterdir()) == [
        "checkpoint.pth.tar",
        "log.jsonl",
        "model.pth.tar",
        "ranks.json",
    ]
    state = load_training_checkpoint(run / "checkpoint.pth.tar")
    assert state["step"] == STEPS and len(state["rng"]) == 2
    try:
        from tinify.zoo import load_checkpoint
    except ImportError:
        from tinify.models import FactorizedPrior

        net = FactorizedPrior.from_state_dict(torch.load(run / "model.pth.tar")["state_dict"])
    else:
        net = load_checkpoint(run / "model.pth.tar")
    x = torch.from_numpy(smooth_image(np.random.default_rng(3), 48, 64)).permute(2, 0, 1)
    x = x.float().div(255).unsqueeze(0)
    with torch.no_grad():
        enc = net.compress(x)
        dec = net.decompress(enc["strings"], enc["shape"])
    assert dec["x_hat"].shape == x.shape
    assert float((dec["x_hat"] - x).pow(2).mean()) < float((0.5 - x).pow(2).mean())
