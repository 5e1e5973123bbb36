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


@pytest.mark.parametrize("block", _python_blocks(README))
def test_readme_python_examples_run(block):
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block, {}, "README.md", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


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
        "cargo test --profile checked",
        "ruff check .",
        "ruff format --check .",
        "python -m pytest\n",
        '-m pytest -m "not compressai"',
    ):
        assert step in checks, step
