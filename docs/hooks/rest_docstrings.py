"""Griffe extension: the reStructuredText inside tinify's Google-style docstrings, as Markdown.

tinify's docstrings are Google style (``Args:``, ``Returns:``, ``Raises:``) with the inline
markup CompressAI's readers know: ``.. code-block:: none`` diagrams, ```title <url>`_`` links,
``:class:`` / ``:func:`` / ``:meth:`` / ``:mod:`` roles, ``.. math::`` and ``:math:``,
``.. note::`` / ``.. warning::``. The sources stay as they are (so ``help()`` and editors show
the familiar text); this extension rewrites each docstring once, after griffe has loaded the
package and before mkdocstrings parses it:

- a code block becomes a fenced block, its text kept character for character;
- a link becomes ``[title](url)``;
- a role naming a tinify object becomes a cross-reference (``[`Name`][tinify.path.Name]``),
  which ``mkdocs build --strict`` fails on if nothing renders it; a role naming anything
  else (torch, numpy) becomes inline code;
- ``.. math::`` becomes a display formula, ``:math:`` an inline one (pymdownx.arithmatex);
- ``.. note::`` and its kin become admonitions;
- a ``#:`` comment above a module attribute becomes that attribute's docstring.

Whatever reST construct this does not know is left alone, and the site test fails on it.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import griffe

__all__ = ["RestDocstrings", "rest_to_markdown"]

Resolver = Callable[[str], "str | None"]

_CODE_BLOCK = re.compile(
    r"^(?P<indent>[ ]*)\.\. (?:code-block|code|sourcecode)::[ ]*(?P<lang>\S*)[ ]*$"
)
_MATH_BLOCK = re.compile(r"^(?P<indent>[ ]*)\.\. math::[ ]*(?P<rest>.*)$")
_ADMONITION = re.compile(
    r"^(?P<indent>[ ]*)\.\. (?P<kind>note|warning|tip|important|hint|caution|danger|attention|"
    r"error|seealso|todo)::[ ]*(?P<rest>.*)$"
)
_LITERAL = re.compile(r"^(?P<indent>[ ]*)(?P<text>.*\S)?[ ]*::[ ]*$")
_FIELD = re.compile(r"^[ ]*:[a-z-]+:")

_LINK = re.compile(r"`(?P<title>[^`<]*?)\s*<(?P<url>[^>`\s]+)>`__?", re.S)
_NAMED_LINK = re.compile(r"`(?P<title>[^`<]+)`__?(?![A-Za-z0-9])")
_MATH_ROLE = re.compile(r":math:`(?P<tex>[^`]+)`")
_ROLE = re.compile(
    r":(?:py:)?(?P<role>class|func|meth|mod|attr|data|exc|obj|const|type)"
    r":`(?P<body>[^`]+)`"
)
_ADMONITION_KINDS = {"seealso": "info", "todo": "note", "attention": "warning", "error": "danger"}


def rest_to_markdown(text: str, resolve: Resolver) -> str:
    """The docstring ``text`` with its reST constructs written in Markdown.

    Args:
        text: A docstring (Google style, reST inline markup).
        resolve: Maps a role's target (as written, without ``~``) to the full dotted path of
            the tinify object it names, or None when it names no tinify object.
    """
    blocks: list[str] = []

    def protect(chunk: str) -> str:
        blocks.append(chunk)
        return f"\x00{len(blocks) - 1}\x00"

    lines = _convert_blocks(text.split("\n"), protect, resolve)
    body = "\n".join(lines)
    body = _convert_inline(body, resolve, protect)
    return re.sub(r"\x00(\d+)\x00", _restore(blocks), body)


def _restore(blocks: list[str]) -> Callable[[re.Match[str]], str]:
    """Puts a protected block back, each of its lines at the indentation of its first."""

    def restore(m: re.Match[str]) -> str:
        body = m.string
        line_start = body.rfind("\n", 0, m.start()) + 1
        indent = " " * _indent_of(body[line_start : m.start()])
        lines = blocks[int(m.group(1))].split("\n")
        return "\n".join([lines[0], *(indent + x if x else x for x in lines[1:])])

    return restore


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _take_body(lines: list[str], start: int, indent: int) -> tuple[list[str], int]:
    """The lines from ``start`` indented deeper than ``indent`` (blank lines included, trailing
    blank lines left out) and the index after them."""
    end = start
    while end < len(lines) and (not lines[end].strip() or _indent_of(lines[end]) > indent):
        end += 1
    body_end = end
    while body_end > start and not lines[body_end - 1].strip():
        body_end -= 1
    return lines[start:body_end], body_end


def _fenced(lang: str, body: list[str]) -> list[str]:
    code = textwrap.dedent("\n".join(body)).strip("\n").split("\n")
    return [f"```{lang}", *code, "```"]


def _convert_blocks(
    lines: list[str], protect: Callable[[str], str], resolve: Resolver
) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := _CODE_BLOCK.match(line):
            indent = m["indent"]
            lang = m["lang"] if m["lang"] not in ("", "none") else "text"
            j = i + 1
            while j < len(lines) and _FIELD.match(lines[j]):  # :linenos: and other options
                j += 1
            body, i = _take_body(lines, j, len(indent))
            out.append(indent + protect("\n".join(_fenced(lang, body))))
            continue
        if m := _MATH_BLOCK.match(line):
            indent = m["indent"]
            body, i = _take_body(lines, i + 1, len(indent))
            tex = "\n".join(filter(None, [m["rest"], textwrap.dedent("\n".join(body)).strip()]))
            out.extend(["", indent + protect(f"$$\n{tex}\n$$"), ""])
            continue
        if m := _ADMONITION.match(line):
            indent = m["indent"]
            kind = _ADMONITION_KINDS.get(m["kind"], m["kind"])
            body, i = _take_body(lines, i + 1, len(indent))
            content = [m["rest"]] if m["rest"] else []
            content += textwrap.dedent("\n".join(body)).strip("\n").split("\n") if body else []
            content = _convert_blocks(content, protect, resolve)
            out.append(f"{indent}!!! {kind}")
            out.extend(f"{indent}    {c}" if c.strip() else "" for c in content)
            out.append("")
            continue
        if line.lstrip().startswith(">>>"):  # a doctest: up to the next blank line
            indent = line[: _indent_of(line)]
            end = i
            while end < len(lines) and lines[end].strip():
                end += 1
            out.append(indent + protect("\n".join(_fenced("pycon", lines[i:end]))))
            i = end
            continue
        m = _LITERAL.match(line)
        if m and not line.strip().startswith(".. ") and i + 1 < len(lines):
            indent = m["indent"]
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and j > i + 1 and _indent_of(lines[j]) > len(indent):
                body, end = _take_body(lines, j, len(indent))
                if m["text"]:
                    out.extend([f"{indent}{m['text']}:", ""])
                out.append(indent + protect("\n".join(_fenced("text", body))))
                i = end
                continue
        out.append(line)
        i += 1
    return out


def _convert_inline(text: str, resolve: Resolver, protect: Callable[[str], str]) -> str:
    def link(m: re.Match[str]) -> str:
        title = " ".join(m["title"].split())
        return f"[{title}]({m['url']})" if title else f"<{m['url']}>"

    def math(m: re.Match[str]) -> str:
        return protect(f"\\({m['tex']}\\)")

    def role(m: re.Match[str]) -> str:
        body = m["body"]
        title = None
        if explicit := re.fullmatch(r"(?P<title>.+?)\s*<(?P<target>[^>]+)>", body, re.S):
            title, body = " ".join(explicit["title"].split()), explicit["target"]
        short = body.startswith("~")
        target = body.lstrip("~").lstrip(".").strip()
        if title is None:
            title = target.rsplit(".", 1)[-1] if short else target
            if m["role"] in ("func", "meth"):
                title += "()"
            title = f"`{title}`"
        path = resolve(target)
        if path is None:
            return title
        return f"[{title}][{path}]"

    # Code spans are left alone: a role or link inside ``...`` is an example, not markup.
    parts = re.split(r"(``.+?``)", text, flags=re.S)
    for k in range(0, len(parts), 2):
        part = _LINK.sub(link, parts[k])
        part = _MATH_ROLE.sub(math, part)
        part = _ROLE.sub(role, part)
        part = _NAMED_LINK.sub(lambda m: m["title"], part)
        parts[k] = part
    return "".join(parts)


def _walk(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if not member.is_alias and member.parent is obj:
            yield from _walk(member)  # type: ignore[arg-type]


def _resolver(obj: griffe.Object) -> Resolver:
    collection = obj.modules_collection

    def resolve(target: str) -> str | None:
        first, _, rest = target.partition(".")
        candidates = []
        try:
            candidates.append(obj.resolve(first) + (f".{rest}" if rest else ""))
        except griffe.NameResolutionError:
            pass
        # A bare member name (``:meth:`init```) names a member of the class or its parents.
        scope: griffe.Object | None = obj
        while scope is not None:
            candidates.append(f"{scope.path}.{target}")
            scope = scope.parent
        candidates.append(target)
        for path in candidates:
            if not path.startswith("tinify"):
                continue
            try:
                found = collection[path]
            except (KeyError, griffe.AliasResolutionError):
                continue
            try:
                path = found.final_target.path if found.is_alias else found.path
            except griffe.AliasResolutionError:
                path = found.path
            if any(p.startswith("_") and not p.startswith("__") for p in path.split(".")):
                return None  # private: nothing renders it, so it stays inline code
            return path
        return None

    return resolve


def _comment_docstring(obj: griffe.Object) -> str | None:
    """The ``#:`` comment lines just above an attribute, Sphinx's attribute-docstring form."""
    if not obj.lineno or not isinstance(obj.parent, griffe.Module | griffe.Class):
        return None
    try:
        lines = obj.parent.module.lines
    except (AttributeError, OSError):
        return None
    doc: list[str] = []
    k = obj.lineno - 2
    if k >= len(lines):  # the attribute comes from another file (a .pyi stub)
        return None
    while k >= 0 and lines[k].lstrip().startswith("#:"):
        doc.insert(0, lines[k].lstrip()[2:].strip())
        k -= 1
    return "\n".join(doc) or None


def _inspect_made_functions(pkg: griffe.Module) -> None:
    """Module attributes that are functions made at import time (``f = make(...)``, as the
    zoo's entry points) are replaced by what importing the module shows: a function with its
    signature and docstring, rather than the source's assignment."""
    for module in [m for m in _walk(pkg) if m.is_module]:
        attributes = [
            name
            for name, member in module.members.items()
            if not member.is_alias and member.is_attribute and not name.startswith("_")
        ]
        if not attributes:
            continue
        try:
            runtime = importlib.import_module(module.path)
        except ImportError:
            continue
        made = [n for n in attributes if inspect.isfunction(getattr(runtime, n, None))]
        if not made:
            continue
        inspected = griffe.inspect(module.path)
        for name in made:
            function = inspected.members[name]
            function.parent = module
            if function.docstring is not None and module.docstring is not None:
                function.docstring.value = inspect.cleandoc(function.docstring.value)
                # Parsed like the rest of the package (griffe.inspect sets no parser).
                function.docstring.parser = module.docstring.parser
                function.docstring.parser_options = module.docstring.parser_options
            module.set_member(name, function)


class RestDocstrings(griffe.Extension):
    """Rewrites every docstring of a loaded package from reST markup to Markdown."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _inspect_made_functions(pkg)
        for obj in _walk(pkg):
            if obj.is_attribute and obj.docstring is None:
                comment = _comment_docstring(obj)
                if comment:
                    obj.docstring = griffe.Docstring(comment, lineno=obj.lineno, parent=obj)
            if obj.docstring is not None:
                obj.docstring.value = rest_to_markdown(obj.docstring.value, _resolver(obj))
