"""The documentation runs: README examples, docstring examples and the CI command."""

import doctest
import re
from pathlib import Path

import pytest

import tinify.ans
import tinify.layers.ramp
import tinify.ops.padding

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _is_doctest(block: str) -> bool:
    return block.lstrip().startswith(">>>")


@pytest.mark.parametrize("block", [b for b in _python_blocks(README) if _is_doctest(b)])
def test_readme_doctests_pass(block):
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block, {}, "README.md", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0 and result.failed == 0


@pytest.fixture(scope="module")
def readme_files(tmp_path_factory):
    """The files README's script examples name: the sample photograph and checkpoints (a
    CompressAI-style ``{"state_dict": ...}`` and a raw state_dict, seeded weights)."""
    import shutil

    import torch

    from tinify import zoo

    root = tmp_path_factory.mktemp("readme")
    shutil.copy(ROOT / "assets" / "seeding.png", root / "photo.png")
    torch.manual_seed(0)
    mean = zoo.model("mbt2018-mean", 4)
    torch.save(mean.state_dict(), root / "mbt.pth.tar")
    torch.save({"state_dict": mean.state_dict()}, root / "checkpoint_best_loss.pth.tar")
    torch.save(zoo.model("mbt2018", 1).state_dict(), root / "ckpt.pth.tar")
    return root


@pytest.mark.parametrize("block", [b for b in _python_blocks(README) if not _is_doctest(b)])
def test_readme_scripts_run(block, readme_files, monkeypatch):
    from PIL import Image
    from torch import nn

    monkeypatch.chdir(readme_files)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    checked = 0
    if "data" in namespace:
        from tinify import tfy

        with Image.open("photo.png") as photo:
            assert tfy.read_header(namespace["data"]).width == photo.width
        checked += 1
    if "image" in namespace:
        with Image.open("photo.png") as photo:
            assert namespace["image"].size == photo.size
        checked += 1
    if "model" in namespace:
        assert isinstance(namespace["model"], nn.Module) and not namespace["model"].training
        checked += 1
    assert checked > 0, "a README script whose results this test does not check"


@pytest.mark.parametrize("module", [tinify.ans, tinify.ops.padding, tinify.layers.ramp])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_ci_runs_exactly_the_readme_test_command():
    commands = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    test_command = next(c for c in commands if ".ci/checks" in c)
    ci_lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci_lines == [test_command]


def test_the_checks_run_every_suite():
    checks = (ROOT / ".ci" / "checks").read_text()
    for step in (
        "cargo fmt --check",
        "cargo clippy --all-targets -- -D warnings",
        "cargo clippy --all-targets --features python -- -D warnings",
        "cargo test --profile checked",
        "ruff check .",
        "ruff format --check .",
        "python -m pytest\n",
        '-m pytest -m "not compressai"',
    ):
        assert step in checks, step
