"""tinify: learned image compression for PyTorch, with a Rust entropy-coding core."""

from tinify import ans
from tinify._core import __version__

__all__ = ["__version__", "ans"]
