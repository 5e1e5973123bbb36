"""tinify.typing's CompressAI aliases, tinify.version, the entropy-coder switch and tinify._CXX
against CompressAI's."""

import compressai
import compressai.typing as cai_typing
import compressai.version
import pytest
import torch
from compressai import _CXX as CAI_CXX

import tinify
import tinify.typing as typing
import tinify.version
from tinify import _CXX


def test_aliases_accept_what_compressais_accept():
    net = torch.nn.Conv2d(1, 1, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
    for name, value in [
        ("TModel", net),
        ("TModule", net),
        ("TCriterion", torch.nn.MSELoss()),
        ("TDataset", torch.utils.data.TensorDataset(torch.zeros(2))),
        ("TDataLoader", torch.utils.data.DataLoader([1, 2])),
        ("TScheduler", scheduler),
        ("TOptimizer", optimizer),
    ]:
        assert isinstance(value, getattr(typing, name)) == isinstance(
            value, getattr(cai_typing, name)
        ), name
    assert set(cai_typing.__all__) <= set(typing.__all__)


def test_version_module_like_compressais():
    assert isinstance(tinify.version.__version__, str)
    assert tinify.version.__version__ == tinify.__version__
    assert hasattr(compressai.version, "git_version") and hasattr(tinify.version, "git_version")


def test_entropy_coder_switch_like_compressais():
    assert tinify.available_entropy_coders() == compressai.available_entropy_coders() == ["ans"]
    assert tinify.get_entropy_coder() == compressai.get_entropy_coder() == "ans"
    tinify.set_entropy_coder("ans")
    for module in (tinify, compressai):
        with pytest.raises(ValueError, match="Invalid entropy coder"):
            module.set_entropy_coder("rangecoder")
    assert tinify.get_entropy_coder() == "ans"


@pytest.mark.parametrize("pmf", [[0.1, 0.2, 0.0, 0.0], [0.25] * 4, [1e-9, 0.5, 0.5]])
def test_cxx_pmf_to_quantized_cdf_equals_compressais(pmf):
    assert _CXX.pmf_to_quantized_cdf(pmf, 16) == CAI_CXX.pmf_to_quantized_cdf(pmf, 16)
