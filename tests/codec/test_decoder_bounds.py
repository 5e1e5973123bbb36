"""Every decompress path checks the shapes it is given before allocating (tinify.limits)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest
import torch
from torch import nn

import tinify
from tinify import tfy
from tinify.entropy_models import EntropyBottleneck
from tinify.limits import ELEMENTS_PER_BYTE, MAX_ELEMENTS_FLOOR, check_latent_size, max_elements


def raises_without_allocating(call: Callable[[], object], match: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match):
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20


@pytest.fixture(scope="module")
def bottleneck() -> EntropyBottleneck:
    eb = EntropyBottleneck(4)
    eb.update()
    return eb


def test_entropy_bottleneck_refuses_a_huge_size(bottleneck: EntropyBottleneck) -> None:
    raises_without_allocating(lambda: bottleneck.decompress([b"\0" * 8], (10**6, 10**6)), "in")
    raises_without_allocating(lambda: bottleneck.decompress([b"\0" * 8], (4000, 4000)), "values")


@pytest.mark.parametrize("size", [(0, 3), (-1, 3), (2.0, 3), ("a", 3), (True, 3), 5, None])
def test_entropy_bottleneck_refuses_sizes_that_are_not_positive_ints(
    bottleneck: EntropyBottleneck, size: object
) -> None:
    with pytest.raises(ValueError):
        bottleneck.decompress([b"\0" * 8], size)  # type: ignore[arg-type]


def test_the_element_bound_grows_with_the_bytes() -> None:
    assert max_elements([[b""]]) == MAX_ELEMENTS_FLOOR
    assert max_elements([[b"\0" * 1000]]) == 1000 * ELEMENTS_PER_BYTE
    check_latent_size((64, 64), leading=(1, 1024), strings=[b""])  # 2^22 values: the floor
    with pytest.raises(ValueError, match="values"):
        check_latent_size((64, 65), leading=(1, 1024), strings=[b""])


def test_models_refuse_bad_shapes(models: dict[str, nn.Module]) -> None:
    strings_2 = [[b"\0" * 8], [b"\0" * 8]]
    cases = [
        (models["factorized"], [[b"\0" * 8]], (10**5, 10**5)),
        (models["mean-scale"], strings_2, (3,)),
        (models["autoregressive"], strings_2, (2**15, 2**15)),
        (models["checkerboard"], [[b""]] * 3, [(12, 2, 2), (1, 1)]),  # not a dict
        (models["checkerboard"], [[b""]] * 3, {"y": (13, 4, 4), "hyper": (1, 1)}),  # channels
        (models["checkerboard"], [[b""]] * 3, {"y": (12, 9999, 9999), "hyper": (1, 1)}),
        (models["elic"], [[b""]] * 7, {"y": (4, 4, 4), "hyper": (1, 1)}),  # not a list
    ]
    for net, strings, shape in cases:
        with torch.inference_mode():
            raises_without_allocating(lambda n=net, s=strings, z=shape: n.decompress(s, z), ".")


def test_a_small_file_cannot_claim_a_huge_image(models: dict[str, nn.Module]) -> None:
    net = models["factorized"]
    real = tfy.read_header(tinify.compress(torch.zeros(3, 16, 16), net, 1))
    fields = {k: getattr(real, k) for k in real.__dataclass_fields__}
    fields.update(height=16384, width=16384, shape=(1024, 1024))
    data = tfy.encode(tfy.TfyHeader(**fields), [[b"\0" * 4]])
    raises_without_allocating(lambda: tinify.decompress(data, model=net), "cannot hold")
