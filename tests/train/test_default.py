"""The shipped default model: loads with its own CDF tables and round-trips an image."""

import numpy as np
import pytest
import torch

from tinify.zoo import default

from .conftest import smooth_image

pytestmark = pytest.mark.skipif(not default.WEIGHTS.is_file(), reason="no shipped weights")


def test_constants() -> None:
    assert default.DEFAULT_QUALITY in default.QUALITIES
    assert default.QUALITIES == tuple(range(1, len(default.QUALITIES) + 1))


def test_tables_come_from_the_file_not_from_update() -> None:
    net = default.load_default()
    shipped = torch.load(default.WEIGHTS, weights_only=True)
    for key in ("gaussian_conditional._quantized_cdf", "entropy_bottleneck._quantized_cdf"):
        assert torch.equal(net.state_dict()[key], shipped[key])
    assert not net.training


@pytest.mark.parametrize("quality", [1, 3, 5])
def test_round_trip_keeps_size_and_matches_the_quantized_forward(quality: int) -> None:
    x = torch.from_numpy(smooth_image(np.random.default_rng(1), 128, 192)).permute(2, 0, 1)
    x = x.float().div(255).unsqueeze(0)
    net = default.load_default(quality)
    with torch.no_grad():
        enc = net.compress(x)
        again = default.load_default(quality).decompress(enc["strings"], enc["shape"])
        ref = net(x)["x_hat"].clamp(0, 1)
    assert again["x_hat"].shape == x.shape
    # The decoder reproduces the encoder's quantized reconstruction.
    torch.testing.assert_close(again["x_hat"], ref, atol=1e-4, rtol=0)


def test_every_quality_spends_more_bits_than_the_one_below() -> None:
    x = torch.from_numpy(smooth_image(np.random.default_rng(2), 128, 128)).permute(2, 0, 1)
    x = x.float().div(255).unsqueeze(0)
    sizes = []
    with torch.no_grad():
        for q in default.QUALITIES:
            enc = default.load_default(q).compress(x)
            sizes.append(sum(len(s[0]) for s in enc["strings"]))
    assert sizes == sorted(set(sizes)), sizes


@pytest.mark.parametrize(
    ("quality", "error"), [(0, ValueError), (99, ValueError), ("3", TypeError)]
)
def test_bad_quality(quality: object, error: type) -> None:
    with pytest.raises(error, match="qualit"):
        default.load_default(quality)  # type: ignore[arg-type]
