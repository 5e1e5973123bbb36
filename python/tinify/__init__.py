"""tinify: learned image compression for PyTorch, with a Rust entropy-coding core.

Subpackages mirror the concepts of the documentation: :mod:`tinify.ans` (the rANS coder),
:mod:`tinify.entropy_models`, :mod:`tinify.latent_codecs`, :mod:`tinify.layers`,
:mod:`tinify.ops`, :mod:`tinify.models`, and the ``tinify`` command line (:mod:`tinify.cli`).
"""

from tinify import ans, entropy_models, latent_codecs, layers, models, ops
from tinify._core import __version__

__all__ = ["__version__", "ans", "entropy_models", "latent_codecs", "layers", "models", "ops"]
