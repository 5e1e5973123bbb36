"""One constructor per zoo architecture, CompressAI's entry points with clearer errors."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

from tinify.zoo._tables import ARCHITECTURES, CONFIGS, METRICS, QUALITIES, URLS, check_metric
from tinify.zoo.checkpoint import _model_class, canonical_architecture, model_from_state_dict
from tinify.zoo.download import fetch_state_dict

if TYPE_CHECKING:
    from tinify.models import CompressionModel

__all__ = [
    "bmshj2018_factorized",
    "bmshj2018_factorized_relu",
    "bmshj2018_hyperprior",
    "cheng2020_anchor",
    "cheng2020_anchor_checkerboard",
    "cheng2020_attn",
    "elic2022_chandelier",
    "elic2022_official",
    "mbt2018",
    "mbt2018_mean",
    "model",
]


def _check_metric(metric: Any) -> str:
    if isinstance(metric, str):
        spelling = metric.strip().lower().replace("_", "-")
        if spelling == "msssim":
            spelling = "ms-ssim"
        if spelling in METRICS:
            return spelling
    return check_metric(metric)  # raises, naming the metrics


def _check_quality(arch: str, quality: Any) -> int:
    valid = QUALITIES[arch]
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral):
        raise TypeError(
            f"quality must be an integer ({valid[0]}-{valid[-1]} for {arch}), "
            f"got {type(quality).__name__}"
        )
    if int(quality) not in valid:
        raise ValueError(
            f"invalid quality {quality} for {arch}; choose one of {valid[0]}-{valid[-1]}"
        )
    return int(quality)


def model(
    arch: str,
    quality: int,
    metric: str = "mse",
    pretrained: bool = False,
    progress: bool = True,
    **kwargs: Any,
) -> CompressionModel:
    """The zoo model ``arch`` (any spelling) at ``quality``.

    Args:
        arch: one of :data:`tinify.zoo.ARCHITECTURES`, in any spelling (``_`` or ``-``, any
            case, or the class name).
        quality: one of ``QUALITIES[arch]`` (1 = lowest rate).
        metric: what the weights were trained for, ``"mse"`` or ``"ms-ssim"``.
        pretrained: load CompressAI's published weights (through torch.hub's cache, hash
            checked); otherwise the model is randomly initialised at the quality's size.
        progress: show a download progress bar on stderr.
        **kwargs: passed to the model's constructor (random initialisation only).

    Returns:
        The model; in eval mode with CDF tables when pretrained.

    Raises:
        ValueError: for an unknown architecture, quality or metric (naming the valid ones),
            or ``pretrained=True`` where no weights are published.
        TypeError: if ``quality`` is not an integer.
        OSError: if the weights cannot be downloaded (the message names the URL and how to
            load a local file instead).
    """
    arch = canonical_architecture(arch)
    metric = _check_metric(metric)
    quality = _check_quality(arch, quality)
    if not pretrained:
        return _model_class(arch)(*CONFIGS[arch][quality], **kwargs)
    if arch not in URLS:
        published = ", ".join(URLS)
        raise ValueError(
            f"no pretrained weights are published for {arch} (only for {published}); "
            "train one (tinify train) or load your own with tinify.zoo.load_checkpoint(PATH)"
        )
    if kwargs:
        raise ValueError(
            f"constructor arguments ({', '.join(kwargs)}) cannot apply to pretrained weights"
        )
    url = URLS[arch][metric][quality]
    return model_from_state_dict(fetch_state_dict(url, progress=progress), arch, source=url)


def _load_model(
    architecture: str,
    metric: str,
    quality: int,
    pretrained: bool = False,
    progress: bool = True,
    **kwargs: Any,
) -> CompressionModel:
    """:func:`model` in the argument order of CompressAI's private ``_load_model``, which
    third-party code and CompressAI's own tests import."""
    return model(architecture, quality, metric, pretrained, progress, **kwargs)


def _entry_point(arch: str, paper: str) -> Any:
    qualities = QUALITIES[arch]

    def constructor(
        quality: int,
        metric: str = "mse",
        pretrained: bool = False,
        progress: bool = True,
        **kwargs: Any,
    ) -> CompressionModel:
        return model(arch, quality, metric, pretrained, progress, **kwargs)

    constructor.__name__ = constructor.__qualname__ = arch.replace("-", "_")
    weights = (
        "CompressAI's published weights (mse and ms-ssim)"
        if arch in URLS
        else "none are published: pretrained=True raises ValueError"
    )
    sizes = ", ".join(f"{q}: {CONFIGS[arch][q]}" for q in qualities)
    constructor.__doc__ = f"""{paper}

    Args:
        quality: {qualities[0]} (lowest rate) to {qualities[-1]}; constructor sizes {sizes}.
        metric: ``"mse"`` or ``"ms-ssim"``.
        pretrained: load the weights ({weights}).
        progress: show a download progress bar on stderr.
        **kwargs: passed to the constructor (random initialisation only).

    Returns:
        The model (see :func:`tinify.zoo.model`).

    Raises:
        ValueError: for a bad quality or metric, or unavailable weights.
        OSError: if the weights cannot be downloaded.
    """
    return constructor


bmshj2018_factorized = _entry_point(
    "bmshj2018-factorized",
    "Factorized prior (GDN) of Ballé et al., `Variational Image Compression with a Scale "
    "Hyperprior`, ICLR 2018: :class:`tinify.models.FactorizedPrior`.",
)
bmshj2018_factorized_relu = _entry_point(
    "bmshj2018-factorized-relu",
    "Factorized prior with ReLU in place of GDN: :class:`tinify.models.FactorizedPriorReLU` "
    "(CompressAI's function of this name returns a GDN model; this one does not).",
)
bmshj2018_hyperprior = _entry_point(
    "bmshj2018-hyperprior",
    "Scale hyperprior of Ballé et al., ICLR 2018: :class:`tinify.models.ScaleHyperprior`.",
)
mbt2018_mean = _entry_point(
    "mbt2018-mean",
    "Mean-scale hyperprior of Minnen et al., NeurIPS 2018: "
    ":class:`tinify.models.MeanScaleHyperprior`.",
)
mbt2018 = _entry_point(
    "mbt2018",
    "Joint autoregressive and hierarchical priors of Minnen et al., NeurIPS 2018: "
    ":class:`tinify.models.JointAutoregressiveHierarchicalPriors`.",
)
cheng2020_anchor = _entry_point(
    "cheng2020-anchor",
    "Anchor model of Cheng et al., CVPR 2020: :class:`tinify.models.Cheng2020Anchor`.",
)
cheng2020_attn = _entry_point(
    "cheng2020-attn",
    "Attention model of Cheng et al., CVPR 2020: :class:`tinify.models.Cheng2020Attention`.",
)
cheng2020_anchor_checkerboard = _entry_point(
    "cheng2020-anchor-checkerboard",
    "Cheng 2020 anchor with the checkerboard context of He et al., CVPR 2021: "
    ":class:`tinify.models.Cheng2020AnchorCheckerboard` (quality table: cheng2020-anchor's).",
)
elic2022_official = _entry_point(
    "elic2022-official",
    "ELIC of He et al., CVPR 2022: :class:`tinify.models.Elic2022Official` (N=192, M=320 at "
    "every quality, as in the paper).",
)
elic2022_chandelier = _entry_point(
    "elic2022-chandelier",
    "ELIC as re-implemented by Chandelier (2023): :class:`tinify.models.Elic2022Chandelier` "
    "(N=192, M=320 at every quality).",
)

assert {f.__name__ for f in (bmshj2018_factorized, elic2022_chandelier)} <= set(__all__)
assert len(ARCHITECTURES) == 10
