"""The checkerboard and ELIC models against CompressAI's: state_dicts, outputs, bitstreams.

A randomly initialised model's latents quantize to almost all zeros and its predicted scales
sit below the smallest table scale. ``_realistic`` therefore scales the last convolution of
``g_a`` so that ``y`` has a standard deviation of about 5, and raises the bias of the scale
channels of each entropy-parameter network so that the predicted scales are about 4: the
streams then carry hundreds of bytes per image over many CDF rows. Both models load the same
state_dict, so any difference is the implementations'.
"""

import pytest
import torch
from torch import Tensor

from tests.latent_codecs.builders import compressai
from tinify import registry
from tinify.latent_codecs import ChannelGroupsLatentCodec
from tinify.models.sensetime import (
    Cheng2020AnchorCheckerboard,
    Elic2022Chandelier,
    Elic2022Official,
    FirstAndLatestChannelGroupsLatentCodec,
)

N, M = 32, 64
GROUPS = [4, 4, 8, 16, M - 32]  # ELIC's [16, 16, 32, 64, M - 128], scaled down by 4
CONFIGS = {
    "Cheng2020AnchorCheckerboard": {"N": N},
    "Elic2022Official": {"N": N, "M": M, "groups": GROUPS},
    "Elic2022Chandelier": {"N": N, "M": M, "groups": GROUPS},
}
OURS = {
    "Cheng2020AnchorCheckerboard": Cheng2020AnchorCheckerboard,
    "Elic2022Official": Elic2022Official,
    "Elic2022Chandelier": Elic2022Chandelier,
}


def _theirs(name, **kwargs):
    return getattr(compressai("models.sensetime"), name)(**kwargs)


def _realistic(name: str, state: dict[str, Tensor]) -> dict[str, Tensor]:
    state = dict(state)
    last_g_a = "g_a.6" if name == "Cheng2020AnchorCheckerboard" else "g_a.13"
    for suffix, factor in (("weight", 30.0), ("bias", 30.0)):
        state[f"{last_g_a}.{suffix}"] = state[f"{last_g_a}.{suffix}"] * factor
    prefixes = sorted(
        {key.rsplit(".", 2)[0] for key in state if ".entropy_parameters." in key}
    )  # one entropy-parameter network per checkerboard codec
    for prefix in prefixes:
        last = max(
            (k for k in state if k.startswith(prefix + ".") and k.endswith(".bias")),
            key=lambda k: int(k.rsplit(".", 2)[1]),
        )
        bias = state[last].clone()
        half = bias.numel() // 2
        # Chandelier's chunks are (means, scales); the others' (scales, means).
        scales = slice(half, None) if name == "Elic2022Chandelier" else slice(0, half)
        bias[scales] += 4.0
        state[last] = bias
    return state


def _pair(name, seed=0, **overrides):
    """Our model and CompressAI's with the same realistic weights and tables, in eval mode."""
    kwargs = {**CONFIGS[name], **overrides}
    torch.manual_seed(seed)
    theirs = _theirs(name, **kwargs)
    ours = OURS[name](**kwargs)
    ours.load_state_dict(_realistic(name, theirs.state_dict()), strict=True)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    ours.update(force=True)
    theirs.update(force=True)
    return ours.eval(), theirs.eval()


def _images(n, seed=0, size=(64, 64)):
    return torch.rand((n, 3, *size), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", OURS)
def test_state_dicts_load_into_each_other_strictly(name):
    torch.manual_seed(0)
    theirs = _theirs(name, **CONFIGS[name])
    ours = OURS[name](**CONFIGS[name])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == value.shape, key
    ours.load_state_dict(theirs.state_dict(), strict=True)
    theirs.load_state_dict(ours.state_dict(), strict=True)


@pytest.mark.compressai
@pytest.mark.parametrize("name", OURS)
def test_forward_equals_compressai(name):
    ours, theirs = _pair(name)
    x = _images(2)
    with torch.no_grad():
        a, b = ours(x), theirs(x)
    torch.testing.assert_close(a["x_hat"], b["x_hat"], rtol=1e-5, atol=1e-5)
    assert set(a["likelihoods"]) == set(b["likelihoods"]) == {"y", "z"}
    for key in ("y", "z"):
        torch.testing.assert_close(
            a["likelihoods"][key], b["likelihoods"][key], rtol=1e-5, atol=1e-5
        )


@pytest.mark.compressai
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("name", OURS)
def test_strings_equal_compressai_and_decode_across(name, batch):
    ours, theirs = _pair(name)
    x = _images(batch, seed=batch)
    with torch.no_grad():
        a, b = ours.compress(x), theirs.compress(x)
        assert a["strings"] == b["strings"]
        assert torch.equal(a["y_hat"], b["y_hat"])
        # The latents are realistic: far from all zero, at over 2 bits per latent value.
        assert a["y_hat"].abs().mean() > 2
        assert 8 * sum(len(s[0]) for s in a["strings"]) > 2 * a["y_hat"][0].numel()
        x_ours = ours.decompress(b["strings"], a["shape"])["x_hat"]
        x_theirs = theirs.decompress(a["strings"], b["shape"])["x_hat"]
        x_ref = theirs.decompress(b["strings"], b["shape"])["x_hat"]
    torch.testing.assert_close(x_ours, x_ref, rtol=1e-5, atol=1e-5)
    assert torch.equal(x_theirs, x_ref)


@pytest.mark.parametrize("name", OURS)
def test_shapes_are_plain_and_a_batch_of_three_round_trips(name):
    ours, _ = _pair(name)
    x = _images(3, seed=3, size=(64, 128))
    with torch.no_grad():
        enc = ours.compress(x)
        dec = ours.latent_codec.decompress(enc["strings"], enc["shape"])
    assert torch.equal(dec["y_hat"], enc["y_hat"])
    shape = enc["shape"]
    assert shape["hyper"] == (1, 2)
    if name == "Cheng2020AnchorCheckerboard":
        assert shape["y"] == (N, 4, 8)
    else:
        assert shape["y"] == [(g, 4, 8) for g in GROUPS]


def test_chandelier_channel_context_sees_the_first_and_latest_groups():
    ours, _ = _pair("Elic2022Chandelier")
    codec = ours.latent_codec["y"]
    assert isinstance(codec, FirstAndLatestChannelGroupsLatentCodec)
    assert isinstance(codec, ChannelGroupsLatentCodec)
    y_hat_ = [torch.full((1, g, 2, 2), float(k)) for k, g in enumerate(GROUPS)]
    merged = codec.merge_y(*y_hat_[:4])
    assert merged.size(1) == GROUPS[0] + GROUPS[3]
    assert merged[:, : GROUPS[0]].eq(0).all() and merged[:, GROUPS[0] :].eq(3).all()
    assert codec.merge_y(y_hat_[0]) is y_hat_[0]
    official, _ = _pair("Elic2022Official")
    assert official.latent_codec["y"].merge_y(*y_hat_[:4]).size(1) == sum(GROUPS[:4])


@pytest.mark.parametrize("name", OURS)
def test_from_state_dict_recovers_the_sizes(name):
    torch.manual_seed(0)
    source = OURS[name](**CONFIGS[name])
    net = OURS[name].from_state_dict(source.state_dict())
    assert list(net.state_dict()) == list(source.state_dict())
    if name != "Cheng2020AnchorCheckerboard":
        assert net.groups == GROUPS


@pytest.mark.compressai
@pytest.mark.parametrize(
    ("model", "cls"),
    [
        ("cheng2020-anchor-checkerboard", Cheng2020AnchorCheckerboard),
        ("elic2022-official", Elic2022Official),
        ("elic2022-chandelier", Elic2022Chandelier),
    ],
)
def test_models_are_registered_under_compressais_names(model, cls):
    assert registry.resolve("model", model) is cls


@pytest.mark.parametrize("cls", [Elic2022Official, Elic2022Chandelier])
def test_groups_that_do_not_sum_to_m_raise_value_error(cls):
    with pytest.raises(ValueError, match="sum to M"):
        cls(N=8, M=16, groups=[4, 4, 4])


@pytest.mark.compressai
@pytest.mark.slow
@pytest.mark.parametrize("name", OURS)
def test_default_size_models_load_compressais_state_and_code_its_bytes(name):
    torch.manual_seed(0)
    theirs = _theirs(name)
    ours = OURS[name]()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    ours.update(force=True)
    theirs.update(force=True)
    x = _images(1)
    with torch.no_grad():
        a, b = ours.eval().compress(x), theirs.eval().compress(x)
        assert a["strings"] == b["strings"]
        x_hat = ours.decompress(b["strings"], a["shape"])["x_hat"]
        torch.testing.assert_close(x_hat, theirs.decompress(b["strings"], b["shape"])["x_hat"])
