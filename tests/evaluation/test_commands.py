"""``tinify eval``, ``bench``, ``plot``, ``bdrate`` and ``update`` through the installed
script: CompressAI's JSON layout, one curve per file, the reference BD-rate, a loadable
checkpoint; and ``eval`` under ``torchrun`` equals a single process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import torch

from tests.cli.helpers import tinify, write_png
from tinify import zoo

METRICS = ["psnr-rgb", "ms-ssim-rgb", "bpp", "encoding_time", "decoding_time"]
ARCH = "bmshj2018-hyperprior"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    images = root / "images" / "sub"
    images.mkdir(parents=True)
    for i in range(3):
        write_png(images / f"im{i}.png", 176 + 8 * i, 192, "RGB", seed=i)
    checkpoints = []
    for q in (1, 2):
        torch.manual_seed(q)
        net = zoo.model(ARCH, q)
        with torch.no_grad():
            net.g_a[-1].weight.mul_(4 * q)  # realistic latents, more bits at q2
        path = root / f"q{q}.pth"
        torch.save(net.state_dict(), path)
        checkpoints.append(path)
    return root, root / "images", checkpoints


def _layout(doc, points):
    assert set(doc) >= {"name", "description", "results"}
    assert list(doc["results"])[: len(METRICS)] == METRICS
    assert all(len(v) == points for v in doc["results"].values())


@pytest.mark.compressai
def test_eval_writes_compressai_layout(dataset):
    root, images, checkpoints = dataset
    out = root / "eval.json"
    result = tinify(
        "eval",
        images,
        "-m",
        ARCH,
        "--checkpoint",
        *checkpoints,
        "-q",
        "1,2",
        "--per-image",
        "-o",
        out,
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    _layout(doc, 2)
    assert doc["name"] == f"{ARCH}-mse" and doc["description"] == "Inference (ans)"
    assert all(
        f > p for f, p in zip(doc["results"]["bpp-file"], doc["results"]["bpp"], strict=True)
    )
    assert [d["source"] for d in doc["per-image"]] == ["im0", "im1", "im2"]
    for entry in doc["per-image"]:
        assert set(entry) == {"source", "name", "description", "results"}
        # One file per image beside the output, as CompressAI's --per-image writes them.
        assert json.loads(out.with_name(f"{out.stem}-{entry['source']}.json").read_text()) == entry
    mean = sum(e["results"]["psnr-rgb"][0] for e in doc["per-image"]) / 3
    assert doc["results"]["psnr-rgb"][0] == pytest.approx(mean)

    estimated = tinify(
        "eval",
        images,
        "-m",
        ARCH,
        "--checkpoint",
        checkpoints[0],
        "--entropy-estimation",
        "--quiet",
        "-o",
        root / "est.json",
    )
    assert estimated.returncode == 0, estimated.stderr
    est = json.loads((root / "est.json").read_text())
    _layout(est, 1)
    assert est["description"] == "Inference (entropy estimation)"
    # The real strings cost a little more than the estimate, never much more.
    assert est["results"]["bpp"][0] <= doc["results"]["bpp"][0] * 1.2 + 0.05


def test_bench_jpeg_writes_layout_settings_and_versions(dataset):
    root, images, _ = dataset
    out = root / "jpeg.json"
    result = tinify("bench", "jpeg", images, "-q", "10,30,50,70,90", "-o", out, "--quiet")
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    _layout(doc, 5)
    assert doc["settings"]["optimize"] is True
    assert "Pillow" in doc["versions"] and "libjpeg" in doc["versions"]
    bpp = doc["results"]["bpp"]
    assert bpp == sorted(bpp)


def test_plot_draws_one_curve_per_file(dataset, tmp_path):
    from tinify.evaluation.plot import plot_rd

    files = []
    for k in range(3):
        path = tmp_path / f"r{k}.json"
        path.write_text(
            json.dumps(
                {
                    "name": f"curve{k}",
                    "description": "",
                    "results": {
                        "bpp": [0.1, 0.2, 0.4],
                        "psnr-rgb": [28 + k, 30 + k, 32 + k],
                        "ms-ssim-rgb": [0.9, 0.95, 0.97],
                    },
                }
            )
        )
        files.append(path)
    figure = plot_rd(files, None, "ms-ssim")
    lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["curve0", "curve1", "curve2"]
    assert lines[0].get_ydata()[0] == pytest.approx(10.0)  # -10 log10(1 - 0.9)
    out = tmp_path / "rd.png"
    result = tinify("plot", *files, "-o", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bdrate_command_agrees_with_the_package(tmp_path):
    import bjontegaard

    anchor = {
        "name": "a",
        "results": {
            "bpp": [9487.76, 4593.60, 2486.44, 1358.24],
            "psnr-rgb": [40.037, 38.615, 36.845, 34.851],
        },
    }
    test = {
        "name": "t",
        "results": {
            "bpp": [9787.80, 4469.00, 2451.52, 1356.24],
            "psnr-rgb": [40.121, 38.651, 36.970, 34.987],
        },
    }
    (tmp_path / "a.json").write_text(json.dumps(anchor))
    (tmp_path / "t.json").write_text(json.dumps(test))
    result = tinify("bdrate", tmp_path / "a.json", tmp_path / "t.json", "--json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)["tests"][0]
    expected = bjontegaard.bd_rate(
        *anchor["results"].values(), *test["results"].values(), method="pchip"
    )
    assert row["bd-rate"] == pytest.approx(expected, abs=1e-9)
    table = tinify("bdrate", tmp_path / "a.json", tmp_path / "t.json")
    assert f"{expected:.2f}%" in table.stdout


def test_update_writes_a_checkpoint_load_checkpoint_loads(dataset, tmp_path):
    _, _, checkpoints = dataset
    result = tinify("update", checkpoints[0], "-a", ARCH, "-o", tmp_path, "-n", "mine")
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip().splitlines()[-1]
    assert path.startswith(str(tmp_path / "mine-")) and path.endswith(".pth.tar")
    net = zoo.load_checkpoint(path)
    assert zoo.architecture_of(net) == ARCH


def test_eval_under_torchrun_equals_one_process(dataset, tmp_path):
    _, images, checkpoints = dataset
    torchrun = shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun is not installed")
    args = ["-m", ARCH, "--checkpoint", checkpoints[0], "--per-image", "--quiet"]
    single = tinify("eval", images, *args, "-o", tmp_path / "one.json")
    assert single.returncode == 0, single.stderr
    result = subprocess.run(
        [
            torchrun,
            "--nproc_per_node=2",
            "--master_port=29533",
            "-m",
            "tinify",
            "eval",
            str(images),
            *map(str, args),
            "-o",
            str(tmp_path / "two.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    one = json.loads((tmp_path / "one.json").read_text())
    two = json.loads((tmp_path / "two.json").read_text())

    def strip(doc):
        doc = json.loads(json.dumps(doc))
        for d in [doc, *doc.get("per-image", [])]:
            for key in ("encoding_time", "decoding_time"):
                d["results"].pop(key)
        return doc

    assert strip(one) == strip(two)
