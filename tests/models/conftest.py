"""Run these small-tensor tests on one intra-op thread."""

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def _single_thread() -> Iterator[None]:
    # Tiny tensor ops pay more for waking torch's thread pool than for their arithmetic on a
    # busy 2-core machine; one thread also keeps float reductions in one order.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
