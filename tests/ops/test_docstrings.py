"""The examples in tinify.ops docstrings run and give the output they show."""

import doctest
import importlib

import pytest

import tinify.ops

MODULES = sorted({getattr(tinify.ops, name).__module__ for name in tinify.ops.__all__})


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
