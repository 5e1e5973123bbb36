"""Compression models: CompressionModel and the model zoo's architectures."""

from tinify.models.base import (
    SCALES_LEVELS,
    SCALES_MAX,
    SCALES_MIN,
    CompressionModel,
    SimpleVAECompressionModel,
    get_scale_table,
)
from tinify.models.gain import GainedMeanScaleHyperprior
from tinify.models.google import (
    FactorizedPrior,
    FactorizedPriorReLU,
    JointAutoregressiveHierarchicalPriors,
    MeanScaleHyperprior,
    ScaleHyperprior,
)
from tinify.models.sensetime import (
    Cheng2020AnchorCheckerboard,
    Elic2022Chandelier,
    Elic2022Official,
)
from tinify.models.vbr import (
    JointAutoregressiveHierarchicalPriorsVbr,
    MeanScaleHyperpriorVbr,
    ScaleHyperpriorVbr,
)
from tinify.models.waseda import Cheng2020Anchor, Cheng2020Attention

__all__ = [
    "SCALES_LEVELS",
    "SCALES_MAX",
    "SCALES_MIN",
    "Cheng2020Anchor",
    "Cheng2020AnchorCheckerboard",
    "Cheng2020Attention",
    "CompressionModel",
    "Elic2022Chandelier",
    "Elic2022Official",
    "FactorizedPrior",
    "FactorizedPriorReLU",
    "GainedMeanScaleHyperprior",
    "JointAutoregressiveHierarchicalPriors",
    "JointAutoregressiveHierarchicalPriorsVbr",
    "MeanScaleHyperprior",
    "MeanScaleHyperpriorVbr",
    "ScaleHyperprior",
    "ScaleHyperpriorVbr",
    "SimpleVAECompressionModel",
    "get_scale_table",
]
