"""LatentCodec and the package: the contract's defaults, registry names, storable shapes."""

import pytest
import torch

import tinify.latent_codecs
from tinify import registry
from tinify.latent_codecs import LatentCodec
from tinify.latent_codecs.base import plain_shape

from .builders import assert_plain_shape, compressai

# The codecs are the package's (its __all__ is the one list of their names).
CODECS = sorted(
    name
    for name in tinify.latent_codecs.__all__
    if name.endswith("LatentCodec") and name != "LatentCodec"
)


@pytest.mark.compressai
@pytest.mark.parametrize("name", CODECS)
def test_every_codec_is_registered_under_its_compressai_name(name):
    cls = getattr(tinify.latent_codecs, name)
    assert registry.resolve("latent_codec", name) is cls
    assert issubclass(cls, LatentCodec)


@pytest.mark.compressai
def test_the_package_exports_what_compressai_registers():
    registered = compressai("registry").MODULES
    theirs = {name for name in registered if name.endswith("LatentCodec")}
    assert theirs == set(CODECS)
    assert set(CODECS) <= set(tinify.latent_codecs.__all__)


def test_base_methods_raise_not_implemented():
    codec = LatentCodec()
    with pytest.raises(NotImplementedError):
        codec(torch.zeros(1))
    with pytest.raises(NotImplementedError):
        codec.compress(torch.zeros(1))
    with pytest.raises(NotImplementedError):
        codec.decompress([], ())


def test_a_codec_without_children_refuses_keys():
    with pytest.raises(TypeError, match="no child"):
        LatentCodec()["y"]


def test_plain_shape_turns_sizes_and_tensors_into_ints_and_tuples():
    shape = {"y": [torch.Size([4, 5, 6]), (torch.tensor(2), 3)], "hyper": torch.Size([2, 3])}
    plain = plain_shape(shape)
    assert plain == {"y": [(4, 5, 6), (2, 3)], "hyper": (2, 3)}
    assert_plain_shape(plain)
    with pytest.raises(TypeError, match="str"):
        plain_shape(("a",))
