"""The reST-to-Markdown conversion of docstrings (docs/hooks/rest_docstrings.py), unit by unit."""

from __future__ import annotations

import importlib.util
from pathlib import Path

HOOK = Path(__file__).resolve().parents[2] / "docs" / "hooks" / "rest_docstrings.py"
_spec = importlib.util.spec_from_file_location("rest_docstrings", HOOK)
rest_docstrings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rest_docstrings)


def convert(text: str) -> str:
    known = {
        "Codec": "tinify.latent_codecs.Codec",
        "tinify.ops.LowerBound": "tinify.ops.LowerBound",
    }
    return rest_docstrings.rest_to_markdown(text, known.get)


def test_code_block_becomes_a_fence_with_its_text_unchanged():
    diagram = "       ┌───┐ y_hat\ny ──►──┤ Q ├───►───····───►─── y_hat\n       └───┘        EB"
    indented = "\n".join("    " + line for line in diagram.split("\n"))
    out = convert(f"Intro.\n\n.. code-block:: none\n\n{indented}\n\nAfter.")
    assert f"```text\n{diagram}\n```" in out
    assert out.endswith("After.")


def test_code_block_inside_an_admonition_keeps_its_indentation():
    out = convert(".. note::\n\n    Text.\n\n    .. code-block:: none\n\n        a  b\n         c")
    assert out.startswith("!!! note\n    Text.")
    assert "    ```text\n    a  b\n     c\n    ```" in out


def test_link_spanning_lines_becomes_a_markdown_link():
    out = convert('See `"A Title\n    on two lines" <https://arxiv.org/abs/1802.01436>`_, ICLR.')
    assert out == 'See ["A Title on two lines"](https://arxiv.org/abs/1802.01436), ICLR.'


def test_roles_become_cross_references_or_code():
    out = convert(":class:`~Codec`, :py:class:`tinify.ops.LowerBound`, :func:`torch.round`")
    assert out == (
        "[`Codec`][tinify.latent_codecs.Codec], [`tinify.ops.LowerBound`][tinify.ops.LowerBound], "
        "`torch.round()`"
    )


def test_every_inline_formula_of_a_line_is_restored():
    out = convert(r"Both :math:`\beta` and :math:`\gamma` and :math:`x_1`.")
    assert out == r"Both \(\beta\) and \(\gamma\) and \(x_1\)."


def test_math_block_becomes_a_display_formula():
    out = convert(".. math::\n\n    f(p) = p^2\n\nwhere")
    assert "$$\nf(p) = p^2\n$$" in out


def test_doctest_becomes_a_pycon_fence():
    out = convert("Example:\n    >>> f([1])\n    [1]\n")
    assert "    ```pycon\n    >>> f([1])\n    [1]\n    ```" in out


def test_roles_in_code_spans_are_left_alone():
    assert convert("``:class:`X` ``") == "``:class:`X` ``"
