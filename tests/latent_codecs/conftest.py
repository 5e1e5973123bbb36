"""Run these small-tensor tests on one intra-op thread."""

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def _single_thread() -> Iterator[None]:
    # On latents this small, waking torch's thread pool costs more than the arithmetic: the
    # codecs' many tiny convolutions run several times slower with 2 threads on a busy machine.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
