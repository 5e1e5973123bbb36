"""The old name of :mod:`tinify.models.google`, kept as CompressAI keeps ``priors``: importing
it warns (DeprecationWarning) and re-exports that module's names."""

import warnings

from tinify.models.google import *  # noqa: F403
from tinify.models.google import __all__ as _google_all

warnings.warn(
    "tinify.models.priors is deprecated, it is renamed tinify.models.google",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = list(_google_all)
