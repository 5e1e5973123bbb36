"""The default model's recipe scripts (``recipes/default/``) run on a small checkpoint, so the
release procedure cannot rot between releases. A small gained model with perturbed weights
stands in for the campaign's (the real one takes hours); the test checks what the scripts
choose and write, not rate–distortion."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import torch
from PIL import Image

from tinify.models.gain import GainedMeanScaleHyperprior

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "default"


def _checkpoint(path: Path, step: int) -> tuple[dict, dict]:
    torch.manual_seed(0)
    raw = GainedMeanScaleHyperprior(8, 12).state_dict()
    # The moving average differs from the raw weights, so the test sees which one ships.
    ema = {
        k: v + 0.01 if v.is_floating_point() and "quantiles" not in k else v for k, v in raw.items()
    }
    torch.save({"state_dict": raw, "ema_state_dict": ema, "step": step, "train_time_s": 12.5}, path)
    return raw, ema


@pytest.fixture
def recipe_modules(monkeypatch):
    monkeypatch.syspath_prepend(str(RECIPE))
    import export
    import heldout

    return export, heldout


def test_release_model_ships_the_moving_average_with_its_tables(tmp_path, recipe_modules):
    export, _ = recipe_modules
    raw, ema = _checkpoint(tmp_path / "ck.pth.tar", step=1234)
    net, step = export.release_model(tmp_path / "ck.pth.tar")
    assert step == 1234
    assert not net.training
    torch.testing.assert_close(net.g_a[0].weight, ema["g_a.0.weight"], rtol=0, atol=0)
    raw_net, _ = export.release_model(tmp_path / "ck.pth.tar", raw=True)
    torch.testing.assert_close(raw_net.g_a[0].weight, raw["g_a.0.weight"], rtol=0, atol=0)
    x = torch.rand(1, 3, 64, 64)
    out = net.compress(x, rate=0)  # raises without the tables
    assert len(out["strings"]) == 2


def test_export_writes_weights_that_load_and_metadata_that_names_them(tmp_path, recipe_modules):
    export, _ = recipe_modules
    _checkpoint(tmp_path / "ck.pth.tar", step=77)
    meta = export.export(tmp_path / "ck.pth.tar", tmp_path / "w.pth")
    assert meta["step"] == 77 and meta["ema"] is True and meta["train_time_s"] == 12.5
    assert json.loads((tmp_path / "w.json").read_text()) == meta
    weights = torch.load(tmp_path / "w.pth", weights_only=True)
    assert GainedMeanScaleHyperprior.from_state_dict(weights).num_rates == len(meta["lambdas"])


def test_heldout_codes_every_quality_and_writes_results(tmp_path, recipe_modules):
    _, heldout = recipe_modules
    _checkpoint(tmp_path / "ck.pth.tar", step=5)
    images = tmp_path / "images"
    images.mkdir()
    generator = torch.Generator().manual_seed(1)
    pixels = (torch.rand(192, 192, 3, generator=generator) * 255).to(torch.uint8).numpy()
    Image.fromarray(pixels).save(images / "a.png")
    out = tmp_path / "r.json"
    assert heldout.main([str(tmp_path / "ck.pth.tar"), str(images), "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["name"] == f"{tmp_path.name}-step5"
    assert doc["qualities"] == [1, 2, 3, 4, 5]
    assert len(doc["results"]["bpp"]) == 5 and min(doc["results"]["bpp"]) > 0


def test_cooldown_refuses_a_missing_checkpoint(tmp_path):
    result = subprocess.run(
        ["sh", str(RECIPE / "cooldown.sh")],
        env=os.environ | {"FROM": str(tmp_path / "none.pth.tar"), "OUT": str(tmp_path / "out")},
        capture_output=True,
        text=True,
        cwd=RECIPE.parents[1],
        timeout=60,
    )
    assert result.returncode != 0
    assert "none.pth.tar" in result.stderr
    assert not (tmp_path / "out" / "checkpoint.pth.tar").exists()


def _options(script: Path) -> dict[str, str]:
    """The ``-option value`` pairs of a recipe script's command lines."""
    words = script.read_text().replace("\\\n", " ").split()
    out = {}
    for i, word in enumerate(words[:-1]):
        if word.startswith("-") and not words[i + 1].startswith("-"):
            out[word] = words[i + 1]
    return out


def test_the_gpu_session_trains_with_the_main_lines_optimiser_and_model():
    cpu, gpu = _options(RECIPE / "train.sh"), _options(RECIPE / "gpu.sh")
    shared = ("-m", "--N", "--M", "--lr", "--warmup", "--lr-milestones", "--lr-gamma")
    shared += ("--aux-lr", "--clip-max-norm", "--ema-decay", "--seed")
    for option in shared:
        assert option in cpu, option
        assert gpu.get(option) == cpu[option], option
