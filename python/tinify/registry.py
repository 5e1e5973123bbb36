"""One registry of named classes (models, latent codecs), with CompressAI's spellings as aliases."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

__all__ = ["KINDS", "name_of", "names", "register", "resolve"]

T = TypeVar("T")

#: The kinds of things registered.
KINDS = ("model", "latent_codec")

_REGISTRY: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}
_ALIASES: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}


def _canonical(name: str) -> str:
    # One spelling: lower case, words joined by hyphens (CompressAI mixes "_" and "-").
    return name.strip().lower().replace("_", "-")


def register(kind: str, name: str, aliases: Iterable[str] = ()) -> Callable[[type[T]], type[T]]:
    """Class decorator registering ``cls`` as ``name`` (and ``aliases``) of ``kind``.

    Raises ValueError for an unknown kind or a name already taken.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown registry kind {kind!r}, expected one of {KINDS}")

    def decorator(cls: type[T]) -> type[T]:
        canonical = _canonical(name)
        spellings = {canonical, *(_canonical(a) for a in aliases)}
        for spelling in spellings:
            taken = _ALIASES[kind].get(spelling)
            if taken is not None:
                raise ValueError(f"{kind} name {spelling!r} is already registered for {taken!r}")
        _REGISTRY[kind][canonical] = cls
        for spelling in spellings:
            _ALIASES[kind][spelling] = canonical
        return cls

    return decorator


def resolve(kind: str, name: str) -> type:
    """The class registered as ``name`` (any accepted spelling) of ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"unknown registry kind {kind!r}, expected one of {KINDS}")
    canonical = _ALIASES[kind].get(_canonical(name))
    if canonical is None:
        raise ValueError(f"unknown {kind} {name!r}; known: {', '.join(names(kind))}")
    return _REGISTRY[kind][canonical]


def names(kind: str) -> list[str]:
    """Canonical names registered for ``kind``, sorted."""
    return sorted(_REGISTRY[kind])


def name_of(kind: str, cls: type) -> str | None:
    """The canonical name ``cls`` itself is registered under as ``kind``, or None."""
    return next((name for name, c in _REGISTRY[kind].items() if c is cls), None)
