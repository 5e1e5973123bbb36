"""Shared test settings: hypothesis profiles, and torch on one intra-op thread."""

import os
import re
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

# Coding calls are fast but Python-side data generation is not: no per-example deadline.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", parent=settings.get_profile("default"), derandomize=True, print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(autouse=True, scope="session")
def _single_thread() -> Iterator[None]:
    # The tests use small tensors: on a busy 2-core machine, waking torch's thread pool costs
    # tens of milliseconds per convolution, far more than the arithmetic. (The Rust core's own
    # threads are unaffected.)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _compressai_importable() -> bool:
    try:
        import compressai  # noqa: F401
    except Exception:  # compressai 1.2.8 needs numpy < 2: its extension fails to load there
        return False
    return True


_TOP_LEVEL_COMPRESSAI = re.compile(r"^\s*(import|from)\s+compressai\b", re.MULTILINE)
_COMPRESSAI = None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Without a working compressai (the numpy 2 run), files importing it are not collected."""
    global _COMPRESSAI
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    if not _TOP_LEVEL_COMPRESSAI.search(collection_path.read_text(encoding="utf-8")):
        return None
    if _COMPRESSAI is None:
        _COMPRESSAI = _compressai_importable()
    return None if _COMPRESSAI else True


def _imports_compressai(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    return module is not None and any(
        isinstance(v, types.ModuleType) and v.__name__.split(".")[0] == "compressai"
        for v in vars(module).values()
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks every test of a module that imports compressai ``compressai``, so that the numpy 2
    run can deselect the oracle tests with ``-m "not compressai"``. A test elsewhere that uses
    compressai (importing it inside the test, or through a helper or a bench) carries the
    marker itself: ``@pytest.mark.compressai``."""
    for item in items:
        if _imports_compressai(item):
            item.add_marker(pytest.mark.compressai)
