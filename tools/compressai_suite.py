"""Run CompressAI's own test suite against tinify, and count the outcomes per file.

Every ``import compressai...`` in the tests is answered by ``tinify...``: a pytest plugin,
written to a temporary folder and loaded with ``-p``, puts an import hook in front of
``sys.meta_path`` that aliases ``compressai.X`` to the module ``tinify.X`` (the same object, so
``compressai.X is tinify.X``). A name tinify lacks fails to import, as it would for a user.

.. code-block:: none

    python tools/compressai_suite.py /tmp/compressai-1.2.8            # the folder holding tests/
    python tools/compressai_suite.py /tmp/compressai-1.2.8 -- -k layers -x

It prints one row per test file (passed, failed, errors, skipped) and, with ``--reasons``,
the first line of each failure. The exit status is pytest's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

PLUGIN = '''"""pytest plugin: ``compressai`` and its submodules are ``tinify``'s."""

import importlib
import importlib.abc
import importlib.machinery
import sys


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "compressai" and not fullname.startswith("compressai."):
            return None
        target = "tinify" + fullname[len("compressai"):]
        if importlib.util.find_spec(target) is None:
            return None  # ModuleNotFoundError names the compressai module
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        return importlib.import_module("tinify" + spec.name[len("compressai"):])

    def exec_module(self, module):
        pass  # already executed as tinify's


for name in [n for n in sys.modules if n == "compressai" or n.startswith("compressai.")]:
    del sys.modules[name]
sys.meta_path.insert(0, _Alias())
'''


def _parse(junit: Path) -> dict[str, Counter]:
    counts: dict[str, Counter] = defaultdict(Counter)
    reasons: dict[str, list[str]] = defaultdict(list)
    for case in ET.parse(junit).getroot().iter("testcase"):
        # A collection error has no class name, only the module's.
        name = (case.get("classname") or case.get("name") or "?").split(".")[0] + ".py"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "errors"}.get(child.tag, child.tag)
                message = (child.get("message") or "").strip().splitlines()
                if not message or message[0] == "collection failure":  # the error is in text
                    message = [s for s in (child.text or "").splitlines() if s.startswith("E ")]
                    message = [" ".join(message[-1][1:].split())] if message else []
                reasons[name].append(f"{case.get('name')}: {message[0] if message else ''}"[:200])
        counts[name][outcome] += 1
    return counts, reasons


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run CompressAI's tests with every compressai import sent to tinify."
    )
    parser.add_argument("folder", type=Path, help="a folder holding CompressAI's tests/")
    parser.add_argument("--reasons", action="store_true", help="print each non-pass's message")
    parser.epilog = "Arguments after -- go to pytest."
    argv = sys.argv[1:] if argv is None else list(argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    pytest_args = argv[cut + 1 :]
    tests = args.folder / "tests" if (args.folder / "tests").is_dir() else args.folder
    if not tests.is_dir():
        parser.error(f"no tests folder in {args.folder}")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "compressai_as_tinify.py").write_text(PLUGIN)
        junit = Path(tmp) / "junit.xml"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [tmp, env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "pytest", "-p", "compressai_as_tinify", str(tests)]
        command += ["-q", "-p", "no:cacheprovider", f"--junitxml={junit}", "--rootdir", str(tests)]
        command += ["--continue-on-collection-errors"]
        command += pytest_args
        status = subprocess.run(command, env=env, cwd=tests, check=False).returncode
        if not junit.is_file():
            return status
        counts, reasons = _parse(junit)
    print(f"\n{'file':<32}{'passed':>8}{'failed':>8}{'errors':>8}{'skipped':>8}")
    total: Counter = Counter()
    for name in sorted(counts):
        c = counts[name]
        total.update(c)
        print(f"{name:<32}{c['passed']:>8}{c['failed']:>8}{c['errors']:>8}{c['skipped']:>8}")
    print(
        f"{'total':<32}{total['passed']:>8}{total['failed']:>8}{total['errors']:>8}"
        f"{total['skipped']:>8}"
    )
    if args.reasons:
        for name in sorted(reasons):
            print(f"\n{name}:")
            for line in reasons[name]:
                print(f"  {line}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
