"""ChannelGroupsLatentCodec: uneven groups, the decoder's channel context, any child shape.

Groups are ELIC's (16, 16, 32, 64, M - 128) scaled down by 4: (4, 4, 8, 16, 8), M = 40.
``y`` is ``means + scales * noise`` with scales in [2, 8]; the side params are those scales
and means, and each group's parameters add a small channel context to them.
"""

import pytest
import torch
from torch import nn

from tinify.latent_codecs import ChannelGroupsLatentCodec

from .builders import (
    TINIFY,
    PositiveScales,
    assert_plain_shape,
    assert_rate_matches_likelihoods,
    checkerboard_codec,
    compressai_lib,
    load_twin,
    ready,
    side_params_for,
)

GROUPS = [4, 4, 8, 16, 8]
M = sum(GROUPS)


def _side_slice(params, start, stop):
    """The (scales, means) side params of channels [start, stop) of a latent of
    ``params.size(1) // 2`` channels."""
    total = params.size(1) // 2
    return torch.cat([params[:, start:stop], params[:, total + start : total + stop]], dim=1)


class _GroupParams(nn.Module):
    """Group k's (scales, means): its slice of the side params plus a small channel context."""

    def __init__(self, start, stop, context_channels):
        super().__init__()
        self.start, self.stop, self.context_channels = start, stop, context_channels
        g = stop - start
        self.head = PositiveScales(g, floor=1.0)

    def forward(self, params):
        ctx, side = params[:, : self.context_channels], params[:, self.context_channels :]
        own = _side_slice(side, self.start, self.stop)
        if self.context_channels:
            own = own + 0.05 * ctx
        return self.head(own)


def _codec(lib=TINIFY, child="gaussian", groups=GROUPS, cls=None, context_in=None):
    """``context_in(k)``: input channels of group k's channel context (default: all groups
    before it)."""
    acc = [sum(groups[:k]) for k in range(len(groups) + 1)]
    context_in = context_in or (lambda k: acc[k])
    gen = torch.Generator().manual_seed(0)
    channel_context = {}
    for k in range(1, len(groups)):
        net = nn.Conv2d(context_in(k), 2 * groups[k], 3, padding=1)
        with torch.no_grad():
            net.weight.copy_(torch.randn(net.weight.shape, generator=gen) * 0.1)
        channel_context[f"y{k}"] = net
    latent_codec = {}
    for k, g in enumerate(groups):
        ctx = 2 * g if k else 0
        if child == "gaussian":
            latent_codec[f"y{k}"] = lib.lc.GaussianConditionalLatentCodec(
                entropy_parameters=_GroupParams(acc[k], acc[k + 1], ctx), quantizer="ste"
            )
        else:
            codec = checkerboard_codec(lib, g, side_channels=2 * g, seed=k)
            # Let the checkerboard's mix see only this group's side params.
            codec.entropy_parameters = nn.Sequential(
                _Slice(2 * g, ctx, acc[k], acc[k + 1]), *codec.entropy_parameters
            )
            latent_codec[f"y{k}"] = codec
    cls = cls or lib.lc.ChannelGroupsLatentCodec
    return cls(latent_codec=latent_codec, channel_context=channel_context, groups=groups)


class _Slice(nn.Module):
    """Pointwise: (spatial ctx, channel ctx, all side params) → (spatial ctx, own side + small
    channel ctx), for a checkerboard child."""

    def __init__(self, spatial, channel, start, stop):
        super().__init__()
        self.spatial, self.channel, self.start, self.stop = spatial, channel, start, stop

    def forward(self, x):
        spatial = x[:, : self.spatial]
        channel = x[:, self.spatial : self.spatial + self.channel]
        own = _side_slice(x[:, self.spatial + self.channel :], self.start, self.stop)
        if self.channel:
            own = own + 0.05 * channel
        return torch.cat([spatial, own], dim=1)


CHILDREN = ("gaussian", "checkerboard")


@pytest.mark.parametrize("child", CHILDREN)
def test_forward_gives_likelihoods_and_y_hat_of_all_channels(child):
    codec = ready(_codec(child=child)).train()
    y, side = side_params_for((3, M, 7, 9), seed=0)
    out = codec(y, side)
    assert set(out) == {"likelihoods", "y_hat"} and set(out["likelihoods"]) == {"y"}
    assert out["likelihoods"]["y"].shape == y.shape == out["y_hat"].shape


@pytest.mark.parametrize(("n", "h", "w"), [(1, 6, 8), (3, 7, 9), (3, 6, 5)])
@pytest.mark.parametrize("child", CHILDREN)
def test_decompress_returns_exactly_the_y_hat_of_compress(child, n, h, w):
    """Each child keeps its own shape form: (H, W) for Gaussian children, (C_k, H, W) for
    checkerboard ones (CompressAI's decompress only handles the latter)."""
    codec = ready(_codec(child=child))
    y, side = side_params_for((n, M, h, w), seed=h * w)
    with torch.no_grad():
        enc = codec.compress(y, side)
        dec = codec.decompress(enc["strings"], enc["shape"], side)
    per_group = 1 if child == "gaussian" else 2
    assert len(enc["strings"]) == per_group * len(GROUPS)
    expected = [(h, w)] * 5 if child == "gaussian" else [(g, h, w) for g in GROUPS]
    assert enc["shape"] == expected
    assert_plain_shape(enc["shape"])
    assert torch.equal(dec["y_hat"], enc["y_hat"])


@pytest.mark.parametrize("child", CHILDREN)
def test_decoder_channel_context_sees_exactly_the_encoders_input(child):
    codec = ready(_codec(child=child))
    y, side = side_params_for((2, M, 7, 6), seed=1)
    seen = []
    hooks = [
        net.register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()))
        for net in codec.channel_context.values()
    ]
    with torch.no_grad():
        enc = codec.compress(y, side)
        encoder_inputs, seen[:] = list(seen), []
        codec.decompress(enc["strings"], enc["shape"], side)
    for hook in hooks:
        hook.remove()
    assert len(encoder_inputs) == len(seen) == len(GROUPS) - 1
    for k, (a, b) in enumerate(zip(encoder_inputs, seen, strict=True), start=1):
        assert a.size(1) == sum(GROUPS[:k])
        assert torch.equal(a, b)
        assert torch.equal(a, enc["y_hat"][:, : sum(GROUPS[:k])])


@pytest.mark.parametrize("child", CHILDREN)
def test_rate_estimate_matches_the_coded_size(child):
    codec = ready(_codec(child=child))
    y, side = side_params_for((2, M, 12, 11), seed=2)
    with torch.no_grad():
        out, enc = codec(y, side), codec.compress(y, side)
    assert torch.equal(out["y_hat"], enc["y_hat"])
    assert_rate_matches_likelihoods(out["likelihoods"], enc["strings"])


@pytest.mark.compressai
def test_forward_and_bytes_equal_compressai_with_checkerboard_children():
    ours = ready(_codec(child="checkerboard"))
    theirs = load_twin(_codec(compressai_lib(), child="checkerboard"), ours)
    y, side = side_params_for((2, M, 6, 8), seed=3)
    with torch.no_grad():
        a, b = ours(y, side), theirs(y, side)
        assert torch.equal(a["y_hat"], b["y_hat"])
        assert torch.equal(a["likelihoods"]["y"], b["likelihoods"]["y"])
        a, b = ours.compress(y, side), theirs.compress(y, side)
        assert a["strings"] == b["strings"] and torch.equal(a["y_hat"], b["y_hat"])
        assert torch.equal(theirs.decompress(a["strings"], b["shape"], side)["y_hat"], a["y_hat"])
        assert torch.equal(ours.decompress(b["strings"], a["shape"], side)["y_hat"], a["y_hat"])


def test_merge_y_override_changes_the_channel_context_input():
    class FirstOnly(ChannelGroupsLatentCodec):
        def merge_y(self, *args):
            return args[0]

    groups = [2, 3, 4]
    codec = ready(_codec(groups=groups, cls=FirstOnly, context_in=lambda k: groups[0]))
    y, side = side_params_for((2, 9, 4, 5), seed=4)
    seen = []
    for net in codec.channel_context.values():
        net.register_forward_pre_hook(lambda module, args: seen.append(args[0].size(1)))
    with torch.no_grad():
        enc = codec.compress(y, side)
        dec = codec.decompress(enc["strings"], enc["shape"], side)
    assert seen == [2, 2, 2, 2]
    assert torch.equal(dec["y_hat"], enc["y_hat"])


def test_latent_of_another_channel_count_raises_value_error():
    codec = ready(_codec())
    y, side = side_params_for((1, M, 4, 4), seed=5)
    with pytest.raises(ValueError, match="sum to"):
        codec(y[:, :-1], side)
    with pytest.raises(ValueError, match="sum to"):
        codec.compress(y[:, :-1], side)


def test_missing_children_or_bad_groups_raise_value_error():
    with pytest.raises(ValueError, match="y1"):
        ChannelGroupsLatentCodec({"y0": nn.Identity()}, {}, groups=[2, 2])
    with pytest.raises(ValueError, match="groups"):
        ChannelGroupsLatentCodec({"y0": nn.Identity()}, {}, groups=[0])


def test_decompress_with_a_wrong_stream_count_raises_value_error():
    codec = ready(_codec())
    y, side = side_params_for((1, M, 4, 4), seed=6)
    enc = codec.compress(y, side)
    with pytest.raises(ValueError, match="streams"):
        codec.decompress(enc["strings"][:-1], enc["shape"], side)


@pytest.mark.compressai
def test_children_are_reachable_by_key():
    codec = _codec()
    assert codec["y3"] is codec.latent_codec["y3"]
    assert list(codec.state_dict()) == list(_codec(compressai_lib()).state_dict())
