"""sequential_channel_ramp: layer widths against CompressAI's."""

import itertools

import pytest
import torch
from torch import nn

from tests.layers.compat import compressai
from tinify.layers import sequential_channel_ramp

cai_layers = compressai("layers")


def _widths(net: nn.Sequential) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in net if isinstance(m, nn.Linear)]


def _build(fn, in_ch, out_ch, **kw):
    return fn(in_ch, out_ch, make_layer=nn.Linear, make_act=nn.ReLU, **kw)


@pytest.mark.parametrize("num_layers", [1, 2, 3, 5])
@pytest.mark.parametrize("min_ch", [0, 40])
def test_linear_ramp_layers_equal_compressai(num_layers, min_ch):
    sizes = [1, 3, 7, 16, 33, 64, 100, 192, 320]
    for in_ch, out_ch in itertools.product(sizes, sizes):
        kw = {"num_layers": num_layers, "min_ch": min_ch}
        ours = _build(sequential_channel_ramp, in_ch, out_ch, **kw)
        theirs = _build(cai_layers.sequential_channel_ramp, in_ch, out_ch, **kw)
        assert _widths(ours) == _widths(theirs)
        assert [type(m) for m in ours] == [type(m) for m in theirs]


@pytest.mark.parametrize("num_layers", [2, 3, 4])
def test_log_ramp_keeps_compressai_hidden_widths_and_exact_ends(num_layers):
    sizes = [1, 3, 7, 16, 32, 100, 192, 320]
    for in_ch, out_ch in itertools.product(sizes, sizes):
        kw = {"num_layers": num_layers, "interp": "log", "min_ch": 8}
        ours = _widths(_build(sequential_channel_ramp, in_ch, out_ch, **kw))
        theirs = _widths(_build(cai_layers.sequential_channel_ramp, in_ch, out_ch, **kw))
        assert ours[0][0] == in_ch and ours[-1][1] == out_ch
        assert [w[1] for w in ours[:-1]] == [w[1] for w in theirs[:-1]]


def test_log_ramp_ends_where_compressai_is_one_channel_short():
    kw = {"interp": "log", "make_layer": nn.Linear, "make_act": nn.ReLU}
    assert _widths(cai_layers.sequential_channel_ramp(32, 192, **kw)) == [
        (31, 58),
        (58, 105),
        (105, 191),
    ]
    assert _widths(sequential_channel_ramp(32, 192, **kw)) == [(32, 58), (58, 105), (105, 192)]


def test_ramp_passes_layer_kwargs_and_keeps_last_activation_on_request():
    net = sequential_channel_ramp(
        8,
        4,
        num_layers=2,
        make_layer=nn.Conv2d,
        make_act=nn.GELU,
        skip_last_act=False,
        kernel_size=1,
        bias=False,
    )
    assert [type(m) for m in net] == [nn.Conv2d, nn.GELU, nn.Conv2d, nn.GELU]
    assert net[0].kernel_size == (1, 1) and net[0].bias is None
    assert net(torch.zeros(1, 8, 2, 2)).shape == (1, 4, 2, 2)


def test_ramp_rejects_unknown_interp_and_bad_counts():
    kw = {"make_layer": nn.Linear, "make_act": nn.ReLU}
    with pytest.raises(ValueError, match="interp"):
        sequential_channel_ramp(8, 4, interp="cubic", **kw)
    with pytest.raises(ValueError, match="num_layers"):
        sequential_channel_ramp(8, 4, num_layers=0, **kw)
    with pytest.raises(ValueError, match="in_ch"):
        sequential_channel_ramp(0, 4, **kw)
    with pytest.raises(TypeError, match="make_layer"):
        sequential_channel_ramp(8, 4, make_act=nn.ReLU)
