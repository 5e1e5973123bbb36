"""``tinify.compress`` and ``tinify.decompress``: an image to a ``.tfy`` file's bytes and back.

.. code-block:: python

    import tinify

    data = tinify.compress("photo.png")  # the shipped default model
    image = tinify.decompress(data)  # a PIL image of the original size and mode

Any image size works: tinify pads to the model's multiple (centred, zeros) and crops back.
Greyscale is coded as RGB and returned greyscale; an alpha channel is carried losslessly
(zlib) beside the coded colour; 16-bit inputs are coded at 8 bits (see :mod:`tinify.image`
and ``docs/format.md``). The decoder rebuilds the model the header names, or checks the one it
is given against the header's weights digest.

The package's modules, one concept each:

- ``tinify.codec.coding``: :func:`compress` and :func:`decompress`, bytes in memory.
- ``tinify.codec.files``: :func:`compress_file` and :func:`decompress_file`, the CLI's
  functions, with atomic writes and a report of what was done (``tinify.codec.reports``).
- ``tinify.codec.resolve``: which model codes an image or decodes a file (the default,
  CompressAI's published weights, a checkpoint, a model object), and the cache of those built.
- ``tinify.codec.identity``: what names a model in a header: its architecture and weights
  digest.

The file functions and reports import without torch, which the model code loads on first use
(after a ``.tfy`` file has passed its checks, ``tinify.codec.container``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tinify.codec.files import compress_file, decompress_file
from tinify.codec.reports import CompressReport, DecompressReport

if TYPE_CHECKING:
    from tinify.codec.coding import compress, decompress
    from tinify.codec.identity import architecture_of, weights_digest
    from tinify.codec.resolve import PRETRAINED_NAME

__all__ = [
    "PRETRAINED_NAME",
    "CompressReport",
    "DecompressReport",
    "architecture_of",
    "compress",
    "compress_file",
    "decompress",
    "decompress_file",
    "weights_digest",
]

# Names whose modules import torch, loaded on first access.
_LAZY = {
    "PRETRAINED_NAME": "tinify.codec.resolve",
    "architecture_of": "tinify.codec.identity",
    "compress": "tinify.codec.coding",
    "decompress": "tinify.codec.coding",
    "weights_digest": "tinify.codec.identity",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tinify.codec' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
