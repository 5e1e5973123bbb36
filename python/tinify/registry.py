"""One registry of named things (models, latent codecs, losses, datasets, optimisers, schedulers,
transforms), with CompressAI's spellings as aliases and its ``register_*`` decorators and dicts.

tinify's own API is :func:`register`, :func:`resolve`, :func:`names` and :func:`name_of`: any
spelling of a name resolves (case and ``_``/``-`` do not matter). CompressAI's API sits on the
same tables: ``register_model(name)`` and its siblings are decorators, and ``MODELS``,
``MODULES``, ``CRITERIONS``, ``DATASETS``, ``OPTIMIZERS``, ``SCHEDULERS`` and ``TRANSFORMS`` are
live dict views keyed by the names exactly as registered. A view fills itself on first use (it
imports the packages that register into it, and torch's optimisers, schedulers and, when
installed, torchvision's transforms), so importing this module does not import torch.

.. code-block:: python

    from tinify.registry import MODELS, register_model

    @register_model("my-hyperprior")
    class MyHyperprior(ScaleHyperprior): ...

    net = MODELS["my-hyperprior"](128, 192)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any, TypeVar

__all__ = [
    "CRITERIONS",
    "DATASETS",
    "KINDS",
    "MODELS",
    "MODULES",
    "OPTIMIZERS",
    "SCHEDULERS",
    "TRANSFORMS",
    "name_of",
    "names",
    "register",
    "register_criterion",
    "register_dataset",
    "register_model",
    "register_module",
    "register_optimizer",
    "register_scheduler",
    "register_transform",
    "resolve",
]

T = TypeVar("T")

#: The kinds of things registered. CompressAI's ``MODULES`` holds its latent codecs, so
#: ``register_module`` registers a ``"latent_codec"``.
KINDS = ("model", "latent_codec", "criterion", "dataset", "optimizer", "scheduler", "transform")

_REGISTRY: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
_ALIASES: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
# The name each entry was registered under, as written (CompressAI's dict keys).
_SPELLINGS: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}


def _canonical(name: str) -> str:
    # One spelling: lower case, words joined by hyphens (CompressAI mixes "_" and "-").
    return name.strip().lower().replace("_", "-")


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown registry kind {kind!r}, expected one of {KINDS}")


def register(
    kind: str, name: str, aliases: Iterable[str] = (), *, replace: bool = False
) -> Callable[[T], T]:
    """Decorator registering a class (or factory function) as ``name`` (and ``aliases``) of
    ``kind``.

    Args:
        kind: one of :data:`KINDS`.
        name: the name; its canonical form (lower case, hyphens) must be new.
        aliases: other accepted spellings.
        replace: let ``name`` and ``aliases`` point to the new entry if they are taken
            (CompressAI's decorators overwrite silently).

    Raises:
        ValueError: for an unknown kind, or a name already taken (unless ``replace``).
    """
    _check_kind(kind)

    def decorator(obj: T) -> T:
        canonical = _canonical(name)
        spellings = {canonical, *(_canonical(a) for a in aliases)}
        if not replace:
            for spelling in spellings:
                taken = _ALIASES[kind].get(spelling)
                if taken is not None:
                    raise ValueError(
                        f"{kind} name {spelling!r} is already registered for {taken!r}"
                    )
        _REGISTRY[kind][canonical] = obj
        _SPELLINGS[kind][canonical] = name
        for spelling in spellings:
            _ALIASES[kind][spelling] = canonical
        return obj

    return decorator


def resolve(kind: str, name: str) -> Any:
    """The entry registered as ``name`` (any accepted spelling) of ``kind``.

    Raises:
        ValueError: for an unknown kind or name (the message lists the known names).
    """
    _check_kind(kind)
    canonical = _ALIASES[kind].get(_canonical(name))
    if canonical is None:
        _populate(kind)
        canonical = _ALIASES[kind].get(_canonical(name))
    if canonical is None:
        raise ValueError(f"unknown {kind} {name!r}; known: {', '.join(names(kind))}")
    return _REGISTRY[kind][canonical]


def names(kind: str) -> list[str]:
    """Canonical names registered for ``kind``, sorted."""
    _check_kind(kind)
    _populate(kind)
    return sorted(_REGISTRY[kind])


def name_of(kind: str, cls: Any) -> str | None:
    """The canonical name ``cls`` itself is registered under as ``kind``, or None."""
    _check_kind(kind)
    _populate(kind)
    return next((name for name, c in _REGISTRY[kind].items() if c is cls), None)


# --- CompressAI's view: dicts keyed by the names as registered -------------------------------

# The packages whose import registers entries of each kind.
_PROVIDERS: dict[str, tuple[str, ...]] = {
    "model": ("tinify.models",),
    "latent_codec": ("tinify.latent_codecs",),
    "criterion": ("tinify.losses",),
    "dataset": ("tinify.datasets",),
    "optimizer": ("tinify.optimizers",),
    "scheduler": (),
    "transform": ("tinify.transforms",),
}
_POPULATED: set[str] = set()


def _register_classes(kind: str, namespace: dict[str, Any], base: type | None = None) -> None:
    # Public classes of a namespace (CompressAI's rule: names starting with a capital letter).
    for key, value in namespace.items():
        if not key[:1].isupper() or not isinstance(value, type):
            continue
        if base is not None and not issubclass(value, base):
            continue
        if _canonical(key) not in _ALIASES[kind]:
            register(kind, key)(value)


def _populate(kind: str) -> None:
    """Imports what registers into ``kind`` (once), and torch's built-in entries."""
    if kind in _POPULATED:
        return
    _POPULATED.add(kind)
    if kind == "optimizer":
        import torch.optim

        _register_classes(kind, vars(torch.optim), torch.optim.Optimizer)
    elif kind == "scheduler":
        from torch.optim import lr_scheduler

        bases = (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)
        _register_classes(kind, vars(lr_scheduler), bases)  # type: ignore[arg-type]
    elif kind == "transform":
        try:
            import torchvision.transforms
        except ImportError:  # optional: CompressAI requires torchvision, tinify does not
            pass
        else:
            _register_classes(kind, vars(torchvision.transforms))
    for module in _PROVIDERS[kind]:
        importlib.import_module(module)


class _KindView(MutableMapping[str, Any]):
    """A dict view of one kind of the registry, keyed by the names as registered.

    Lookups accept any spelling; assignment registers (replacing), deletion unregisters.
    """

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def _entries(self) -> dict[str, str]:
        _populate(self._kind)
        return {spelling: canonical for canonical, spelling in _SPELLINGS[self._kind].items()}

    def __getitem__(self, name: str) -> Any:
        _populate(self._kind)
        canonical = _ALIASES[self._kind].get(_canonical(name)) if isinstance(name, str) else None
        if canonical is None:
            raise KeyError(name)
        return _REGISTRY[self._kind][canonical]

    def __setitem__(self, name: str, value: Any) -> None:
        _populate(self._kind)
        register(self._kind, name, replace=True)(value)

    def __delitem__(self, name: str) -> None:
        _populate(self._kind)
        canonical = _ALIASES[self._kind].get(_canonical(name))
        if canonical is None:
            raise KeyError(name)
        del _REGISTRY[self._kind][canonical]
        del _SPELLINGS[self._kind][canonical]
        for spelling in [s for s, c in _ALIASES[self._kind].items() if c == canonical]:
            del _ALIASES[self._kind][spelling]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries())

    def __len__(self) -> int:
        return len(self._entries())

    def __contains__(self, name: object) -> bool:
        _populate(self._kind)
        return isinstance(name, str) and _canonical(name) in _ALIASES[self._kind]

    def __repr__(self) -> str:
        return f"{dict(self)!r}"


#: Models by name (``"bmshj2018-factorized"`` …), as ``compressai.registry.MODELS``.
MODELS: MutableMapping[str, Any] = _KindView("model")
#: Latent codecs by class name, as ``compressai.registry.MODULES``.
MODULES: MutableMapping[str, Any] = _KindView("latent_codec")
#: Losses by name (``"RateDistortionLoss"``), as ``compressai.registry.CRITERIONS``.
CRITERIONS: MutableMapping[str, Any] = _KindView("criterion")
#: Datasets by class name, as ``compressai.registry.DATASETS``.
DATASETS: MutableMapping[str, Any] = _KindView("dataset")
#: torch's optimisers and the ``"net"``/``"net_aux"`` factories, as CompressAI's.
OPTIMIZERS: MutableMapping[str, Any] = _KindView("optimizer")
#: torch's learning-rate schedulers, as ``compressai.registry.SCHEDULERS``.
SCHEDULERS: MutableMapping[str, Any] = _KindView("scheduler")
#: torchvision's transforms (when installed) and tinify's, as CompressAI's (less torch_geometric).
TRANSFORMS: MutableMapping[str, Any] = _KindView("transform")


def register_model(name: str) -> Callable[[T], T]:
    """Decorator registering a model class as ``name`` (CompressAI's; replaces an entry)."""
    return register("model", name, replace=True)


def register_module(name: str) -> Callable[[T], T]:
    """Decorator registering a latent codec (CompressAI's ``MODULES``) as ``name``."""
    return register("latent_codec", name, replace=True)


def register_criterion(name: str) -> Callable[[T], T]:
    """Decorator registering a loss as ``name``."""
    return register("criterion", name, replace=True)


def register_dataset(name: str) -> Callable[[T], T]:
    """Decorator registering a dataset class as ``name``."""
    return register("dataset", name, replace=True)


def register_optimizer(name: str) -> Callable[[T], T]:
    """Decorator registering an optimiser (class or factory ``f(net, conf)``) as ``name``."""
    return register("optimizer", name, replace=True)


def register_scheduler(name: str) -> Callable[[T], T]:
    """Decorator registering a learning-rate scheduler class as ``name``."""
    return register("scheduler", name, replace=True)


def register_transform(name: str) -> Callable[[T], T]:
    """Decorator registering a transform class as ``name``."""
    return register("transform", name, replace=True)
