"""The documentation site: built strict from the docstrings, complete, and free of raw reST.

The site is built once per module (``mkdocs build --strict`` into a temporary folder), so a
broken cross-reference, a missing page or a docstring the handler cannot parse fails here.
"""

from __future__ import annotations

import html
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import tinify
import tinify.latent_codecs

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path(__file__).with_name("latent-codecs-page.txt")

# The codecs are the package's (its __all__ is the one list of their names).
LATENT_CODECS = sorted(
    name
    for name in tinify.latent_codecs.__all__
    if name.endswith("LatentCodec") and name != "LatentCodec"
)
RAW_REST = [
    "`_",
    ".. code-block",
    ".. math",
    ".. note::",
    ".. warning::",
    ":py:",
    ":class:",
    ":func:",
    ":meth:",
    ":mod:",
    ":attr:",
    ":data:",
    ":math:",
    "\x00",  # a placeholder of the conversion left behind
]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _article(page: Path) -> str:
    """The HTML of a page's content, without the navigation."""
    text = page.read_text()
    start = text.find("<article")
    return text[start : text.find("</article>", start)]


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


def _code_blocks(fragment: str) -> list[str]:
    blocks = re.findall(r"<pre[^>]*>(.*?)</pre>", fragment, flags=re.S)
    return ["\n".join(line.rstrip() for line in _text(b).split("\n")) for b in blocks]


def _reference_diagrams() -> list[str]:
    """Every ``.. code-block:: none`` diagram of the reference page, as its lines show it."""
    lines = REFERENCE.read_text().split("\n")
    ends = re.compile(r"^(\w+LatentCodec|embed|unembed|By default.*|Common configurations.*)$")
    diagrams = []
    for i, line in enumerate(lines):
        if line.strip() != ".. code-block:: none":
            continue
        body = []
        for nxt in lines[i + 2 :]:
            if ends.match(nxt) or nxt.strip() == ".. code-block:: none":
                break
            body.append(nxt.rstrip())
        while body and not body[-1]:
            body.pop()
        diagrams.append("\n".join(body))
    return diagrams


@pytest.fixture(scope="module")
def latent_codecs_page(site) -> str:
    return _article(site / "api" / "latent-codecs" / "index.html")


def _plain_signature(cls: type) -> str:
    sig = inspect.signature(cls)
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return cls.__name__ + str(sig.replace(parameters=params, return_annotation=sig.empty))


@pytest.mark.parametrize("name", LATENT_CODECS)
def test_latent_codec_has_signature_and_bases(latent_codecs_page, name):
    import tinify.latent_codecs

    cls = getattr(tinify.latent_codecs, name)
    text = " ".join(_text(latent_codecs_page).split())
    signature = _plain_signature(cls)
    at = text.find(signature)
    assert at >= 0, f"{signature} is not on the page"
    assert text[at + len(signature) :].lstrip(" ¶").startswith("Bases: LatentCodec")


@pytest.mark.parametrize("name", LATENT_CODECS)
def test_latent_codec_signature_is_the_reference_pages(name):
    import tinify.latent_codecs

    reference = " ".join(REFERENCE.read_text().split())
    assert _plain_signature(getattr(tinify.latent_codecs, name)) in reference


def test_checkerboard_shows_embed_and_unembed_methods(latent_codecs_page):
    ids = set(re.findall(r'id="([^"]+)"', latent_codecs_page))
    for method in ("embed", "unembed"):
        assert f"tinify.latent_codecs.CheckerboardLatentCodec.{method}" in ids


def test_every_reference_diagram_is_a_code_block(latent_codecs_page):
    diagrams = _reference_diagrams()
    assert len(diagrams) == 12
    blocks = _code_blocks(latent_codecs_page)
    missing = [d for d in diagrams if not any(d in b for b in blocks)]
    assert not missing, "diagrams not rendered verbatim:\n\n" + "\n\n".join(missing)


def test_every_arxiv_reference_is_a_link(site):
    for page in _pages(site):
        article = _article(page)
        linked = set(re.findall(r'<a [^>]*href="(https?://arxiv\.org/[^"]+)"', article))
        mentioned = set(re.findall(r"https?://arxiv\.org/abs/[\w.]+", _text(article)))
        # A URL shown as text is a link's text or none at all: every arXiv paper is linked.
        assert mentioned <= linked, (page, mentioned - linked)
    latent = _article(site / "api" / "latent-codecs" / "index.html")
    reference_urls = set(re.findall(r"https?://arxiv\.org/abs/[\w.]+", REFERENCE.read_text()))
    linked = set(re.findall(r'<a [^>]*href="(https?://arxiv\.org/[^"]+)"', latent))
    assert reference_urls <= linked


def test_cross_references_are_links(latent_codecs_page):
    for target in (
        "tinify.models.sensetime.Elic2022Official",
        "tinify.models.sensetime.Cheng2020AnchorCheckerboard",
    ):
        assert re.search(
            rf'<a [^>]*href="[^"]*#tinify\.[\w.]*\.{target.rsplit(".", 1)[1]}"', latent_codecs_page
        )


@pytest.mark.parametrize("markup", RAW_REST)
def test_no_raw_rest_markup(site, markup):
    leaks = [p for p in _pages(site) if markup in _text(_article(p))]
    assert not leaks, f"{markup!r} in {[str(p.relative_to(site)) for p in leaks]}"


def _public_modules() -> list[str]:
    names = ["tinify"]
    for info in pkgutil.walk_packages(tinify.__path__, "tinify."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def test_every_public_name_has_an_entry(site):
    ids: set[str] = set()
    for page in _pages(site):
        ids |= set(re.findall(r'id="([^"]+)"', page.read_text()))
    with warnings.catch_warnings():
        # tinify.models.priors warns on import, as CompressAI's deprecated module does.
        warnings.filterwarnings("ignore", "tinify.models.priors is deprecated", DeprecationWarning)
        modules = {name: importlib.import_module(name) for name in _public_modules()}
    missing = []
    for name, module in modules.items():
        for public in getattr(module, "__all__", ()):
            if public.startswith("__"):
                continue
            obj = getattr(module, public)
            paths = {f"{name}.{public}"}
            if hasattr(obj, "__module__") and hasattr(obj, "__qualname__"):
                paths.add(f"{obj.__module__}.{obj.__qualname__}")
            if inspect.ismodule(obj):
                paths.add(obj.__name__)
            paths |= {
                f"{other}.{public}"
                for other, m in modules.items()
                if public in getattr(m, "__all__", ()) and getattr(m, public, None) is obj
            }
            if not paths & ids:
                missing.append(f"{name}.{public}")
    assert not missing, missing


def _help(argv: list[str], capsys) -> str:
    from tinify.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    return capsys.readouterr().out


def _options(help_text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", help_text))


def test_cli_guide_names_every_command_and_option(site, capsys):
    from tinify.cli.main import COMMANDS

    guide = _text(_article(site / "cli" / "index.html"))
    top = subprocess.run(
        [sys.executable, "-m", "tinify", "--help"], capture_output=True, text=True, timeout=120
    ).stdout
    commands = set(re.findall(r"^    (\w+)\s", top, flags=re.M)) & set(COMMANDS)
    assert commands == set(COMMANDS)
    missing = [o for o in _options(top) if o not in guide]
    for command in sorted(commands):
        assert f"tinify {command}" in guide
        missing += [
            f"{command} {o}" for o in _options(_help([command, "--help"], capsys)) if o not in guide
        ]
    assert not missing, missing


def test_getting_started_shows_the_readme_commands(site):
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```sh\n(.*?)\n```", readme, flags=re.S)[:2]
    page = "\n".join(_code_blocks(_article(site / "getting-started" / "index.html")))
    for command in commands:
        assert command in page
