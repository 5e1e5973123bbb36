"""Shared test settings: hypothesis profiles, and torch on one intra-op thread."""

import os
from collections.abc import Iterator

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
