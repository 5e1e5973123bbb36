"""MkDocs hook: the parts of the site generated from the code at build time.

- ``<!-- cli-reference -->`` in a page becomes the help of ``tinify`` and of each of its
  commands, built from the argparse parsers themselves (``tinify.cli.main``), so the guide
  cannot drift from the command line.
- ``<!-- api: tinify.pkg -->`` becomes the mkdocstrings directives of a package's reference:
  the package's ``__all__``, then, per submodule, the public names of the submodule's
  ``__all__`` that the package does not re-export. A name added to an ``__all__`` gets its
  entry without anyone editing the page.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import pkgutil
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import griffe

_CLI = "<!-- cli-reference -->"
_API = re.compile(r"<!-- api: (?P<module>[\w.]+) -->")
_README = re.compile(r"<!-- readme: (?P<section>[^>]+?) -->")
_ROOT = Path(__file__).resolve().parents[2]
_WIDTH = "100"
_log = logging.getLogger("mkdocs.hooks.generate")


def on_files(files: Any, config: Any, **kwargs: Any) -> Any:
    """The README's images (``assets/``) are part of the site, so its sections can show them."""
    from mkdocs.structure.files import File

    for image in sorted((_ROOT / "assets").glob("*.png")):
        uri = f"assets/{image.name}"
        if files.get_file_from_path(uri) is None:
            files.append(File(uri, str(_ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    markdown = _README.sub(lambda m: readme_section(m["section"]), markdown)
    if _CLI in markdown:
        markdown = markdown.replace(_CLI, cli_reference())
    return _API.sub(lambda m: _api_or_warning(m["module"]), markdown)


def _api_or_warning(module_name: str) -> str:
    try:
        return api_reference(module_name)
    except ImportError as err:  # a module of the reference does not import: --strict fails
        _log.warning("API reference of %s: %s", module_name, err)
        return f"`{module_name}` does not import: {err}"


def readme_section(title: str) -> str:
    """The body of README.md's ``## title`` section, its subsections one level down, so the
    site shows the README's figures as they are, not a copy that drifts."""
    readme = (_ROOT / "README.md").read_text()
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", readme, flags=re.M | re.S)
    if match is None:
        _log.warning("README.md has no section %r", title)
        return ""
    return re.sub(r"^(#{3,}) ", r"\1# ", match.group(1).strip(), flags=re.M)


def _public(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


def _submodules(package: ModuleType) -> list[ModuleType]:
    if not hasattr(package, "__path__"):
        return []
    names = [
        info.name
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        if _public(info.name)
    ]
    return [importlib.import_module(name) for name in sorted(names)]


def api_reference(module_name: str) -> str:
    """The directives rendering every public name of ``module_name`` and its submodules."""
    package = importlib.import_module(module_name)
    blocks = [f"::: {module_name}"]
    # What the package's own entry renders: the names of its __all__ that griffe sees in its
    # source (imports, TYPE_CHECKING imports included), not those a module __getattr__ makes.
    static = griffe.load(module_name, search_paths=[str(_ROOT / "python")], resolve_aliases=False)
    rendered = {
        n: getattr(package, n, None) for n in getattr(package, "__all__", ()) if n in static.members
    }
    for sub in _submodules(package):
        if hasattr(sub, "__path__"):
            continue  # a subpackage: the package re-exports its names, or its modules list them
        extra = [
            n
            for n in getattr(sub, "__all__", ())
            if not (n in rendered and rendered[n] is getattr(sub, n, None))
        ]
        # Names a nested package (tinify.latent_codecs.gain) re-exports count as exported.
        if extra:
            members = ", ".join(extra)
            blocks.append(
                f"::: {sub.__name__}\n    options:\n      members: [{members}]\n"
                "      show_root_heading: true\n      heading_level: 2"
            )
    return "\n\n".join(blocks)


def _command_parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    cli = importlib.import_module("tinify.cli.main")

    parsers = [("tinify", cli._parser(None))]
    for name in cli.COMMANDS:
        if importlib.util.find_spec(cli.COMMANDS[name]) is None:
            _log.info("tinify %s: module %s does not exist yet", name, cli.COMMANDS[name])
            continue
        root = cli._parser(name)
        sub = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
        parsers.append((f"tinify {name}", sub.choices[name]))
    return parsers


def cli_reference() -> str:
    """Markdown: for each command, its help text exactly as ``--help`` prints it at
    100 columns, and a table of its options."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = _WIDTH
    try:
        out = []
        for title, parser in _command_parsers():
            out.append(f"## `{title}`\n")
            out.append("```text\n" + parser.format_help().rstrip() + "\n```\n")
            rows = []
            formatter = parser._get_formatter()
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    for choice in action._choices_actions:
                        rows.append((f"`{choice.dest}`", choice.help or ""))
                    continue
                names = ", ".join(f"`{s}`" for s in action.option_strings) or f"`{action.dest}`"
                if action.help != argparse.SUPPRESS:
                    help_text = formatter._expand_help(action) if action.help else ""
                    rows.append((names, " ".join(help_text.split()).replace("|", "\\|")))
            if rows:
                out.append("| argument | meaning |\n|---|---|")
                out.extend(f"| {a} | {h} |" for a, h in rows)
                out.append("")
        return "\n".join(out)
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
