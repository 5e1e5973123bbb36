"""The variable-rate zoo entries, CompressAI's ``compressai.zoo.image_vbr`` entry points."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tinify.zoo._tables import VBR_ARCHITECTURES, VBR_CONFIGS, VBR_URLS
from tinify.zoo.checkpoint import _model_class, model_from_state_dict
from tinify.zoo.download import fetch_state_dict

if TYPE_CHECKING:
    from tinify.models import CompressionModel

__all__ = ["bmshj2018_hyperprior_vbr", "mbt2018_mean_vbr", "mbt2018_vbr"]


def _check_metric(metric: Any) -> str:
    spelling = metric.strip().lower().replace("_", "-") if isinstance(metric, str) else None
    if spelling != "mse":
        raise ValueError(
            f"invalid metric {metric!r}: the variable-rate models are published for 'mse' only"
        )
    return spelling


def _load_model(
    arch: str, metric: str, pretrained: bool, progress: bool, **kwargs: Any
) -> CompressionModel:
    metric = _check_metric(metric)
    if not pretrained:
        return _model_class(arch)(*VBR_CONFIGS[arch], **kwargs)
    if kwargs:
        raise ValueError(
            f"constructor arguments ({', '.join(kwargs)}) cannot apply to pretrained weights"
        )
    url = VBR_URLS[arch][metric]
    return model_from_state_dict(fetch_state_dict(url, progress=progress), arch, source=url)


def bmshj2018_hyperprior_vbr(
    quality: int = 0,
    metric: str = "mse",
    pretrained: bool = False,
    progress: bool = True,
    **kwargs: Any,
) -> CompressionModel:
    """Variable-rate scale hyperprior: :class:`tinify.models.ScaleHyperpriorVbr` (N=192,
    M=320).

    From `"Variable-Rate Learned Image Compression with Multi-Objective Optimization and
    Quantization-Reconstruction Offsets" <https://arxiv.org/abs/2402.18930>`_, F. Kamisli,
    F. Racapé and H. Choi, DCC 2024.

    Args:
        quality: ignored, as by CompressAI: the rate is chosen when coding (``s`` or
            ``inputscale`` of ``compress``/``decompress``).
        metric: ``"mse"``, the only metric with published weights.
        pretrained: load CompressAI's published weights (a variable-step hyper-latent,
            ``vr_entbttlnck=True``), through torch.hub's cache, hash checked.
        progress: show a download progress bar on stderr.
        **kwargs: passed to the constructor (random initialisation only), e.g.
            ``vr_entbttlnck=True``.

    Returns:
        The model (in eval mode with CDF tables when pretrained).

    Raises:
        ValueError: for a metric other than ``"mse"``, or constructor arguments with
            ``pretrained=True``.
        OSError: if the weights cannot be downloaded.
    """
    del quality
    return _load_model("bmshj2018-hyperprior-vbr", metric, pretrained, progress, **kwargs)


def mbt2018_mean_vbr(
    quality: int = 0,
    metric: str = "mse",
    pretrained: bool = False,
    progress: bool = True,
    **kwargs: Any,
) -> CompressionModel:
    """Variable-rate mean-scale hyperprior: :class:`tinify.models.MeanScaleHyperpriorVbr`
    (N=192, M=320).

    From `"Variable-Rate Learned Image Compression with Multi-Objective Optimization and
    Quantization-Reconstruction Offsets" <https://arxiv.org/abs/2402.18930>`_, F. Kamisli,
    F. Racapé and H. Choi, DCC 2024.

    Args:
        quality: ignored, as by CompressAI: the rate is chosen when coding.
        metric: ``"mse"``, the only metric with published weights.
        pretrained: load CompressAI's published weights (``vr_entbttlnck=True``).
        progress: show a download progress bar on stderr.
        **kwargs: passed to the constructor (random initialisation only).

    Returns:
        The model (in eval mode with CDF tables when pretrained).

    Raises:
        ValueError: for a metric other than ``"mse"``, or constructor arguments with
            ``pretrained=True``.
        OSError: if the weights cannot be downloaded.
    """
    del quality
    return _load_model("mbt2018-mean-vbr", metric, pretrained, progress, **kwargs)


def mbt2018_vbr(
    quality: int = 0,
    metric: str = "mse",
    pretrained: bool = False,
    progress: bool = True,
    **kwargs: Any,
) -> CompressionModel:
    """Variable-rate joint autoregressive and hierarchical priors model:
    :class:`tinify.models.JointAutoregressiveHierarchicalPriorsVbr` (N=192, M=320).

    From `"Variable-Rate Learned Image Compression with Multi-Objective Optimization and
    Quantization-Reconstruction Offsets" <https://arxiv.org/abs/2402.18930>`_, F. Kamisli,
    F. Racapé and H. Choi, DCC 2024.

    Args:
        quality: ignored, as by CompressAI: the rate is chosen when coding.
        metric: ``"mse"``, the only metric with published weights.
        pretrained: load CompressAI's published weights.
        progress: show a download progress bar on stderr.
        **kwargs: passed to the constructor (random initialisation only).

    Returns:
        The model (in eval mode with CDF tables when pretrained).

    Raises:
        ValueError: for a metric other than ``"mse"``, or constructor arguments with
            ``pretrained=True``.
        OSError: if the weights cannot be downloaded.
    """
    del quality
    return _load_model("mbt2018-vbr", metric, pretrained, progress, **kwargs)


assert len(VBR_ARCHITECTURES) == len(__all__)
