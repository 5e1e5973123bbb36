"""Run these small-tensor tests on one intra-op thread."""

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def _single_thread() -> Iterator[None]:
    # On tensors this small, waking torch's thread pool costs tens of milliseconds per
    # convolution on a busy 2-core machine, far more than the arithmetic.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
