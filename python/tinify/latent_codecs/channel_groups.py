"""ChannelGroupsLatentCodec: channel groups coded in turn, each conditioned on the groups before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import accumulate
from typing import Any

import torch
from torch import Tensor, nn

from tinify import registry
from tinify.latent_codecs.base import LatentCodec, check_children, plain_shape
from tinify.typing import LatentCompressOutput, LatentDecompressOutput, LatentForwardOutput

__all__ = ["ChannelGroupsLatentCodec"]


@registry.register("latent_codec", "ChannelGroupsLatentCodec")
class ChannelGroupsLatentCodec(LatentCodec):
    """Reconstructs groups of channels using previously decoded groups.

    Context model from [Minnen2020] and [He2022]. Also known as a "channel-conditional" (CC)
    entropy model.

    See :py:class:`~tinify.models.sensetime.Elic2022Official` for example usage.

    [Minnen2020]: `"Channel-wise Autoregressive Entropy Models for Learned Image Compression"
    <https://arxiv.org/abs/2007.08739>`_, by David Minnen, and Saurabh Singh, ICIP 2020.

    [He2022]: `"ELIC: Efficient Learned Image Compression with Unevenly Grouped Space-Channel
    Contextual Adaptive Coding" <https://arxiv.org/abs/2203.10886>`_, by Dailan He, Ziming
    Yang, Weikun Peng, Rui Ma, Hongwei Qin, and Yan Wang, CVPR 2022.

    ``y`` is split along channels into ``groups``. Group ``k`` is coded by
    ``latent_codec["y{k}"]`` with the parameters ``side_params`` (group 0) or
    ``merge_params(channel_context["y{k}"](merge_y(y_hat_0, ..., y_hat_{k-1})), side_params)``.
    ``merge_y`` and ``merge_params`` concatenate along channels; override them in a subclass
    to condition on fewer groups (see
    :class:`~tinify.models.sensetime.Elic2022Chandelier`).

    ``compress`` returns every group's strings in group order (flattened) and the list of the
    groups' shapes; each child keeps its own shape form, so any child codec can be used.

    Args:
        latent_codec: ``{"y0": codec, ..., "y{K-1}": codec}``, one codec per group, each
            taking ``(y_k, params)``.
        channel_context: ``{"y1": net, ..., "y{K-1}": net}``; ``channel_context["y{k}"]``
            maps the merged decoded groups to group ``k``'s channel-context parameters.
        groups: channel counts of the ``K`` groups (positive; they must sum to ``y``'s
            channels).
        **kwargs: ignored (CompressAI compatibility).
    """

    latent_codec: nn.ModuleDict
    channel_context: nn.ModuleDict

    def __init__(
        self,
        latent_codec: Mapping[str, LatentCodec],
        channel_context: Mapping[str, nn.Module],
        *,
        groups: Sequence[int],
        **kwargs: Any,
    ) -> None:
        super().__init__()
        groups = [int(g) for g in groups]
        if not groups or any(g < 1 for g in groups):
            raise ValueError(f"`groups` must be positive channel counts, got {groups}")
        check_children(self, latent_codec, tuple(f"y{k}" for k in range(len(groups))))
        check_children(self, channel_context, tuple(f"y{k}" for k in range(1, len(groups))))
        self._kwargs = kwargs
        self.groups = groups
        self.groups_acc = list(accumulate(self.groups, initial=0))
        self.channel_context = nn.ModuleDict(channel_context)
        self.latent_codec = nn.ModuleDict(latent_codec)

    def forward(self, y: Tensor, side_params: Tensor) -> LatentForwardOutput:
        y_ = self._split(y)
        y_hat_: list[Tensor] = []
        y_likelihoods_: list[Tensor] = []
        for k in range(len(self.groups)):
            params = self._get_ctx_params(k, side_params, y_hat_)
            y_out = self.latent_codec[f"y{k}"](y_[k], params)
            y_hat_.append(y_out["y_hat"])
            y_likelihoods_.append(y_out["likelihoods"]["y"])
        return {
            "likelihoods": {"y": torch.cat(y_likelihoods_, dim=1)},
            "y_hat": torch.cat(y_hat_, dim=1),
        }

    def compress(self, y: Tensor, side_params: Tensor) -> LatentCompressOutput:
        y_ = self._split(y)
        y_hat_: list[Tensor] = []
        strings: list[list[bytes]] = []
        shapes = []
        streams_per_group = None
        for k in range(len(self.groups)):
            params = self._get_ctx_params(k, side_params, y_hat_)
            y_out = self.latent_codec[f"y{k}"].compress(y_[k], params)
            y_hat_.append(y_out["y_hat"])
            # decompress splits the flat list evenly, so every group must code as many
            # streams (CompressAI's children do: one or two each).
            if streams_per_group is None:
                streams_per_group = len(y_out["strings"])
            elif len(y_out["strings"]) != streams_per_group:
                raise ValueError(
                    f"group y{k} coded {len(y_out['strings'])} streams, group y0 "
                    f"{streams_per_group}: every group's codec must code as many"
                )
            strings.extend(y_out["strings"])
            shapes.append(plain_shape(y_out["shape"]))
        return {"strings": strings, "shape": shapes, "y_hat": torch.cat(y_hat_, dim=1)}

    def decompress(
        self,
        strings: list[list[bytes]],
        shape: Sequence[Any],
        side_params: Tensor,
        **kwargs: Any,
    ) -> LatentDecompressOutput:
        num_groups = len(self.groups)
        if not isinstance(shape, list | tuple):
            raise ValueError(f"expected a list of {num_groups} group shapes, got {shape!r:.80}")
        if len(shape) != num_groups:
            raise ValueError(f"expected {num_groups} group shapes, got {len(shape)}")
        if not strings or len(strings) % num_groups:
            raise ValueError(
                f"expected the streams of {num_groups} groups (a multiple of {num_groups}), "
                f"got {len(strings)}"
            )
        n = len(strings[0])
        if any(len(s) != n for s in strings):
            raise ValueError(
                f"every stream needs one string per batch element, got {[len(s) for s in strings]}"
            )
        per_group = len(strings) // num_groups
        y_hat_: list[Tensor] = []
        for k in range(num_groups):
            params = self._get_ctx_params(k, side_params, y_hat_)
            y_out = self.latent_codec[f"y{k}"].decompress(
                strings[per_group * k : per_group * (k + 1)], shape[k], params
            )
            y_hat_.append(y_out["y_hat"])
        return {"y_hat": torch.cat(y_hat_, dim=1)}

    def merge_y(self, *args: Tensor) -> Tensor:
        """The channel context's input from the decoded groups ``y_hat_0 .. y_hat_{k-1}``."""
        return torch.cat(args, dim=1)

    def merge_params(self, *args: Tensor) -> Tensor:
        """A group's parameters from its channel-context output and the side parameters."""
        return torch.cat(args, dim=1)

    def _split(self, y: Tensor) -> tuple[Tensor, ...]:
        if y.dim() < 2 or y.size(1) != self.groups_acc[-1]:
            raise ValueError(
                f"the groups {self.groups} sum to {self.groups_acc[-1]} channels, but y has "
                f"shape {tuple(y.shape)}"
            )
        return torch.split(y, self.groups, dim=1)

    def _get_ctx_params(self, k: int, side_params: Tensor, y_hat_: Sequence[Tensor]) -> Tensor:
        if k == 0:
            return side_params
        ch_ctx_params = self.channel_context[f"y{k}"](self.merge_y(*y_hat_[:k]))
        return self.merge_params(ch_ctx_params, side_params)
