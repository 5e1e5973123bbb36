"""``python -m tinify.utils.*`` against ``compressai.utils.*``: the same options, the same JSON
layouts and files, on small images and a seeded small model made here."""

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tinify.models import FactorizedPrior

NAMES = ("eval_model", "update_model", "bench", "plot", "find_close")


def _modules(name: str):
    ours = importlib.import_module(f"tinify.utils.{name}.__main__")
    theirs = importlib.import_module(f"compressai.utils.{name}.__main__")
    return ours, theirs


# --- parsers -----------------------------------------------------------------------------


def _options(parser) -> set[str]:
    """Option strings and positional names of ``parser`` (sub-commands apart)."""
    found = set()
    for action in parser._actions:
        if action.option_strings:
            found.update(s for s in action.option_strings if s not in ("-h", "--help"))
        elif action.choices is None or isinstance(action.choices, (list, tuple)):
            found.add(action.dest)
    return found


def _subparsers(parser) -> dict:
    for action in parser._actions:
        if isinstance(action.choices, dict):
            return action.choices
    return {}


def _compressai_codec_parser(module, with_common: bool):
    # CompressAI's bench and find_close build their codec sub-commands inside main().
    parser, subparsers = module.setup_args()
    for codec in module.codecs:
        sub = subparsers.add_parser(codec.__name__.lower())
        if with_common:
            module.setup_common_args(sub)
        codec.setup_args(sub)
    return parser


@pytest.mark.compressai
def test_eval_model_options_equal_compressai_for_both_sources():
    ours, theirs = (m.setup_args() for m in _modules("eval_model"))
    assert _options(ours) == _options(theirs)
    for source in ("pretrained", "checkpoint"):
        assert _options(_subparsers(ours)[source]) == _options(_subparsers(theirs)[source])


@pytest.mark.compressai
@pytest.mark.parametrize("name", ["update_model", "plot"])
def test_options_equal_compressai(name):
    ours, theirs = (m.setup_args() for m in _modules(name))
    assert _options(ours) == _options(theirs)


@pytest.mark.compressai
@pytest.mark.parametrize("name", ["bench", "find_close"])
def test_codec_commands_options_equal_compressai(name):
    ours_module, theirs_module = _modules(name)
    ours = ours_module.setup_args()
    theirs = _compressai_codec_parser(theirs_module, with_common=name == "bench")
    assert _options(ours) == _options(theirs)
    for codec in ("jpeg", "webp"):
        assert _options(_subparsers(ours)[codec]) == _options(_subparsers(theirs)[codec])
    # Every CompressAI codec is a sub-command (the external-program ones refuse to run).
    assert set(_subparsers(theirs)) <= set(_subparsers(ours))


# --- inputs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Two 256x192 images, one in a subfolder: more than 160 pixels a side (MS-SSIM) and
    multiples of 64, so that CompressAI's padding and tinify's (to the model's multiple) agree."""
    root = tmp_path_factory.mktemp("images")
    (root / "sub").mkdir()
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:192, 0:256]
    for i, path in enumerate([root / "a.png", root / "sub" / "b.png"]):
        image = np.stack([(x + 40 * i) % 256, (2 * y) % 256, (x + y) // 2 % 256], -1)
        image = image + rng.normal(0, 8, image.shape)
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(path)
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A training checkpoint ({"state_dict", "epoch"}) of a seeded small factorized model."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "model.pth.tar"
    torch.save({"state_dict": FactorizedPrior(8, 12).state_dict(), "epoch": 0}, path)
    return path


def _run(module, argv, capsys) -> tuple[str, str]:
    capsys.readouterr()
    module.main(argv)
    captured = capsys.readouterr()
    return captured.out, captured.err


# --- update_model ------------------------------------------------------------------------


@pytest.mark.compressai
def test_update_model_writes_hashed_file_silently_with_compressai_tables(trained, tmp_path, capsys):
    ours, theirs = _modules("update_model")
    argv = [str(trained), "-a", "bmshj2018-factorized", "-n", "fact"]
    assert _run(ours, [*argv, "-d", str(tmp_path / "ours")], capsys) == ("", "")
    _run(theirs, [*argv, "-d", str(tmp_path / "theirs")], capsys)
    (mine,) = (tmp_path / "ours").iterdir()
    (reference,) = (tmp_path / "theirs").iterdir()
    assert re.fullmatch(r"fact-[0-9a-f]{8}\.pth\.tar", mine.name)
    a = torch.load(mine, weights_only=True)
    b = torch.load(reference, weights_only=True)
    assert list(a) == list(b)
    for key in ("_quantized_cdf", "_cdf_length", "_offset"):
        torch.testing.assert_close(a[f"entropy_bottleneck.{key}"], b[f"entropy_bottleneck.{key}"])


def test_update_model_no_update_keeps_the_tables_and_defaults_to_the_current_folder(
    trained, tmp_path, capsys, monkeypatch
):
    ours, _ = _modules("update_model")
    monkeypatch.chdir(tmp_path)
    _run(ours, [str(trained), "-a", "factorized-prior", "--no-update"], capsys)
    (written,) = tmp_path.glob("model-*.pth.tar")
    state = torch.load(written, weights_only=True)
    assert state["entropy_bottleneck._cdf_length"].numel() == 0


def test_update_model_error_is_one_line_and_status_1(tmp_path, capsys):
    ours, _ = _modules("update_model")
    with pytest.raises(SystemExit) as exit_info:
        ours.main([str(tmp_path)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m tinify.utils.update_model: error:")


# --- eval_model --------------------------------------------------------------------------


@pytest.mark.compressai
def test_eval_model_checkpoint_json_and_per_image_files_as_compressai(
    dataset, trained, tmp_path, capsys
):
    ours, theirs = _modules("eval_model")
    _run(_modules("update_model")[0], [str(trained), "-n", "fact", "-d", str(tmp_path)], capsys)
    (checkpoint,) = tmp_path.glob("fact-*.pth.tar")
    argv = ["checkpoint", str(dataset), "-a", "bmshj2018-factorized", "-p", str(checkpoint)]
    out, err = _run(ours, [*argv, "-d", str(tmp_path / "ours"), "--per-image"], capsys)
    assert f"Using trained model {checkpoint.name[: -len('.pth.tar')]}-ans" in err
    mine = json.loads(out)
    reference = json.loads(
        _run(theirs, [*argv, "-d", str(tmp_path / "theirs"), "--per-image"], capsys)[0]
    )
    assert list(mine) == ["name", "description", "results"] == list(reference)
    assert mine["name"] == reference["name"] == "bmshj2018-factorized-mse"
    assert mine["description"] == reference["description"] == "Inference (ans)"
    assert sorted(mine["results"]) == sorted(reference["results"])
    # The same model and the same coder: the same bytes and the same pixels.
    for key in ("bpp", "psnr-rgb", "ms-ssim-rgb"):
        np.testing.assert_allclose(mine["results"][key], reference["results"][key], rtol=1e-5)
    files = sorted(p.relative_to(tmp_path / "ours") for p in (tmp_path / "ours").rglob("*.json"))
    expected = sorted(
        p.relative_to(tmp_path / "theirs") for p in (tmp_path / "theirs").rglob("*.json")
    )
    assert files == expected
    for relative in files:
        a = json.loads((tmp_path / "ours" / relative).read_text())
        b = json.loads((tmp_path / "theirs" / relative).read_text())
        assert list(a) == list(b)
        assert sorted(a["results"]) == sorted(b["results"])
        assert {k: v for k, v in a.items() if k != "results"} == {
            k: v for k, v in b.items() if k != "results"
        }


def test_eval_model_entropy_estimation_description(dataset, trained, tmp_path, capsys):
    ours, _ = _modules("eval_model")
    argv = ["checkpoint", str(dataset), "-a", "bmshj2018-factorized", "-p", str(trained)]
    doc = json.loads(_run(ours, [*argv, "--entropy-estimation"], capsys)[0])
    assert doc["description"] == "Inference (entropy estimation)"
    assert all(len(v) == 1 for v in doc["results"].values())


@pytest.mark.parametrize(
    "argv",
    [
        ["pretrained", "no/such/dir", "-a", "bmshj2018-factorized"],
        ["checkpoint", ".", "-a", "bmshj2018-factorized", "-p", "missing.pth.tar", "--half"],
    ],
)
def test_eval_model_errors_are_one_line(argv, capsys):
    ours, _ = _modules("eval_model")
    with pytest.raises(SystemExit) as exit_info:
        ours.main(argv)
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.count("\n") == 1


# --- bench, find_close, plot -------------------------------------------------------------


@pytest.mark.compressai
def test_bench_json_layout_as_compressai(dataset, capsys):
    ours, theirs = _modules("bench")
    argv = ["jpeg", str(dataset), "-q", "30,60"]
    mine = json.loads(_run(ours, argv, capsys)[0])
    reference = json.loads(_run(theirs, argv, capsys)[0])
    assert list(mine) == ["name", "description", "results"] == list(reference)
    assert mine["name"] == reference["name"] == "JPEG"
    assert sorted(mine["results"]) == sorted(reference["results"])
    assert all(len(v) == 2 for v in mine["results"].values())
    # The decoded pixels of both encoders at one quality match closely; the sizes differ
    # (tinify's JPEG is optimize=True).
    np.testing.assert_allclose(
        mine["results"]["psnr-rgb"], reference["results"]["psnr-rgb"], atol=0.1
    )


def test_bench_metrics_option_and_python_m(dataset):
    done = subprocess.run(
        [sys.executable, "-m", "tinify.utils.bench", "webp", str(dataset), "--metrics", "psnr-rgb"],
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(done.stdout)
    assert sorted(doc["results"]) == ["bpp", "decoding_time", "encoding_time", "psnr-rgb"]


def test_bench_external_codec_refused_in_one_line(dataset, capsys):
    ours, _ = _modules("bench")
    with pytest.raises(SystemExit) as exit_info:
        ours.main(["bpg", str(dataset), "--encoder-path", "bpgenc"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.compressai
def test_find_close_prints_compressai_lines_near_the_target(dataset, tmp_path, capsys, monkeypatch):
    ours, _ = _modules("find_close")
    monkeypatch.chdir(tmp_path)
    out, _ = _run(ours, ["jpeg", str(dataset / "a.png"), "1.0", "-m", "bpp", "--save"], capsys)
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "bpp",
        "encoding_time",
        "decoding_time",
        "psnr-rgb",
    ]
    assert all(re.fullmatch(r"[\w-]+: -?\d+\.\d{4}", line) for line in lines)
    assert abs(float(lines[0].split()[1]) - 1.0) < 0.1
    (saved,) = tmp_path.glob("output_jpeg_q*.png")
    with Image.open(saved) as image:
        assert image.size == (256, 192)


def test_find_close_library_picks_the_closest_probe(dataset):
    from tinify.evaluation import find_closest_quality

    probes = {}
    quality, values = find_closest_quality(
        "webp", dataset / "a.png", 30.0, "psnr-rgb", on_probe=probes.__setitem__
    )
    assert len(probes) <= 7 and quality in probes
    assert values == probes[quality]
    assert all(abs(v["psnr-rgb"] - 30) >= abs(values["psnr-rgb"] - 30) for v in probes.values())


@pytest.mark.compressai
@pytest.mark.parametrize("metric", ["psnr", "ms-ssim"])
def test_plot_draws_compressai_and_tinify_results(dataset, trained, tmp_path, capsys, metric):
    ours, _ = _modules("plot")
    results = tmp_path / "r.json"
    results.write_text(
        json.dumps(
            {
                "name": "x",
                "description": "Inference (ans)",
                "results": {
                    "psnr-rgb": [30.0, 33.0],
                    "ms-ssim-rgb": [0.95, 0.97],
                    "bpp": [0.2, 0.4],
                },
            }
        )
    )
    figure = tmp_path / "rd.png"
    _run(
        ours,
        [
            "-f",
            str(results),
            "-m",
            metric,
            "-t",
            "t",
            "-o",
            str(figure),
            "--axes",
            "0",
            "1",
            "0",
            "40",
        ],
        capsys,
    )
    assert figure.stat().st_size > 0
    with pytest.raises(SystemExit):
        ours.main(["-f", str(results), "--backend", "plotly"])
