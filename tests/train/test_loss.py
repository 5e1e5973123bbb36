"""RateDistortionLoss against CompressAI's, and the optimiser split."""

import pytest
import torch

from tinify.models import FactorizedPrior, MeanScaleHyperprior
from tinify.train import RateDistortionLoss, configure_optimizers, split_parameters

compressai_losses = pytest.importorskip("compressai.losses")


def _output(seed: int, size: tuple[int, int]) -> tuple[dict, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    target = torch.rand(2, 3, *size, generator=g)
    out = {
        "x_hat": (target + 0.05 * torch.randn(target.shape, generator=g)).clamp(0, 1),
        "likelihoods": {
            "y": torch.rand(2, 8, 4, 3, generator=g).clamp_min(1e-6),
            "z": torch.rand(2, 4, 1, 1, generator=g).clamp_min(1e-6),
        },
    }
    return out, target


@pytest.mark.parametrize(("metric", "lmbda"), [("mse", 0.013), ("mse", 0.18), ("ms-ssim", 8.73)])
@pytest.mark.parametrize("seed", [0, 1])
def test_loss_equals_compressai(metric: str, lmbda: float, seed: int) -> None:
    pytest.importorskip("pytorch_msssim")
    # MS-SSIM needs more than 160 pixels a side (its four downsamplings).
    out, target = _output(seed, (176, 192) if metric == "ms-ssim" else (64, 48))
    ours = RateDistortionLoss(lmbda, metric=metric)(out, target)
    theirs = compressai_losses.RateDistortionLoss(lmbda, metric=metric)(out, target)
    assert ours.keys() == theirs.keys()
    for key in theirs:
        torch.testing.assert_close(ours[key], theirs[key], rtol=1e-6, atol=1e-6)


def test_loss_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="metric"):
        RateDistortionLoss(0.01, metric="psnr")
    with pytest.raises(ValueError, match="lmbda"):
        RateDistortionLoss(0.0)


def test_optimiser_split_puts_quantiles_apart() -> None:
    net = MeanScaleHyperprior(8, 8)
    main, aux = split_parameters(net)
    names = {id(p): n for n, p in net.named_parameters()}
    assert [names[id(p)] for p in aux] == ["entropy_bottleneck.quantiles"]
    assert len(main) + len(aux) == len(list(net.parameters()))
    _, aux_optimizer = configure_optimizers(FactorizedPrior(8, 8), lr=1e-3)
    assert aux_optimizer is not None and len(aux_optimizer.param_groups[0]["params"]) == 1


def test_aux_loss_reaches_only_the_quantiles_and_rd_loss_never_does() -> None:
    # What makes one backward of loss + aux_loss safe (and DDP-friendly).
    torch.manual_seed(0)
    net = MeanScaleHyperprior(8, 8).train()
    net.aux_loss().backward()
    for name, p in net.named_parameters():
        touched = p.grad is not None and bool(p.grad.abs().sum() > 0)
        assert touched == name.endswith("quantiles"), name
    net.zero_grad(set_to_none=True)
    x = torch.rand(1, 3, 64, 64)
    RateDistortionLoss(0.01)(net(x), x)["loss"].backward()
    q = net.entropy_bottleneck.quantiles.grad
    assert q is None or bool(q.abs().sum() == 0)
