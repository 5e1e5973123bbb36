"""tinify.losses.RateDistortionLoss against CompressAI's: values, keys, return types, errors."""

import pytest
import torch
from compressai import losses as cai_losses
from compressai.registry import CRITERIONS as CAI_CRITERIONS
from torch.testing import assert_close

from tinify import losses, train
from tinify.registry import CRITERIONS


def _output(seed):
    g = torch.Generator().manual_seed(seed)
    x_hat = torch.rand(2, 3, 176, 176, generator=g)  # MS-SSIM needs more than 160 pixels
    likelihoods = {
        "y": torch.rand(2, 8, 2, 2, generator=g).clamp_min(1e-3),
        "z": torch.rand(2, 4, 1, 1, generator=g).clamp_min(1e-3),
    }
    return {"x_hat": x_hat, "likelihoods": likelihoods}, torch.rand(2, 3, 176, 176, generator=g)


@pytest.mark.parametrize("metric", ["mse", "ms-ssim"])
@pytest.mark.parametrize("return_type", ["all", "loss", "bpp_loss"])
def test_values_and_keys_equal_compressai(metric, return_type):
    output, target = _output(0)
    ours = losses.RateDistortionLoss(0.05, metric, return_type)(output, target)
    theirs = cai_losses.RateDistortionLoss(0.05, metric, return_type)(output, target)
    if return_type == "all":
        assert list(ours) == list(theirs)
        for key in ours:
            assert_close(ours[key], theirs[key])
    else:
        assert_close(ours, theirs)


def test_signature_defaults_equal_compressai():
    ours, theirs = losses.RateDistortionLoss(), cai_losses.RateDistortionLoss()
    output, target = _output(1)
    assert ours.lmbda == theirs.lmbda == 0.01 and ours.return_type == theirs.return_type == "all"
    assert_close(ours(output, target)["loss"], theirs(output, target)["loss"])


def test_unknown_metric_raises_value_error_and_compressais_not_implemented_error():
    with pytest.raises(NotImplementedError):
        cai_losses.RateDistortionLoss(metric="psnr")
    with pytest.raises(ValueError, match="metric") as info:
        losses.RateDistortionLoss(metric="psnr")
    assert isinstance(info.value, NotImplementedError)
    with pytest.raises(ValueError, match="return_type"):
        losses.RateDistortionLoss(return_type="ms_ssim_loss")


def test_one_owner_registered_like_compressai():
    assert train.RateDistortionLoss is losses.RateDistortionLoss
    assert CRITERIONS["RateDistortionLoss"] is losses.RateDistortionLoss
    assert "RateDistortionLoss" in CAI_CRITERIONS
