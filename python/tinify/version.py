"""The installed tinify's version, as ``compressai.version``."""

from tinify._core import __version__

__all__ = ["__version__", "git_version"]

#: The commit the package was built from; ``"unknown"`` (CompressAI's value when not built
#: from a git checkout), since the wheel records only its version.
git_version = "unknown"
