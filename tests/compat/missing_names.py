"""Lists the public names of CompressAI 1.2.8's modules that the tinify module of the same name
lacks (point clouds, video and variable-rate models excluded).

Run: ``python -m tests.compat.missing_names`` (prints one ``module: names`` line per module with
gaps, nothing when there are none). ``missing()`` is what the tests call.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings

# compressai module -> its tinify twin; the utils command modules and TorchScript are others'.
MODULES = (
    "",
    "_CXX",
    "datasets",
    "datasets.cache",
    "datasets.image",
    "datasets.ndarray",
    "datasets.pregenerated",
    "datasets.stack",
    "datasets.vimeo90k",
    "entropy_models",
    "latent_codecs",
    "layers",
    "losses",
    "losses.rate_distortion",
    "models",
    "models.google",
    "models.priors",
    "models.utils",
    "ops",
    "optimizers",
    "optimizers.net",
    "optimizers.net_aux",
    "registry",
    "transforms",
    "transforms.functional",
    "transforms.transforms",
    "typing",
    "version",
    "zoo",
)

# Names left out on purpose: point clouds, video, variable rate, and imports of helper modules.
_EXCLUDED_WORDS = ("pointcloud", "point", "video", "vbr", "Vbr", "pcc", "Pcc", "ssf")
_EXCLUDED = {
    # point-cloud classes and submodules
    "ModelNetDataset",
    "S3disDataset",
    "SemanticKittiDataset",
    "ShapeNetCorePartDataset",
    "GeneratePositionNormals",
    "NormalizeScaleV2",
    "RandomPermutation",
    "RandomRotateFull",
    "RandomSample",
    "SamplePointsV2",
    "ToDict",
    "ChamferPccRateDistortionLoss",
    "RateDistortionLoss_hrtzxf2022",
    "HRTZXF2022PointCloudCompression",
    "SFU2023PointCloudCompressionPointNet",
    "SFU2024PointCloudCompressionPointNet2SSG",
    # video
    "VideoFolder",
    "RawVideoSequence",
    "VideoFormat",
    "ScaleSpaceFlow",
    # the VBR models are another engineer's
    "EntropyModelVbr",
    "EntropyBottleneckVbr",
    "ScaleHyperpriorVbr",
    "MeanScaleHyperpriorVbr",
    "JointAutoregressiveHierarchicalPriorsVbr",
    # the command modules (tinify.utils) are another engineer's
    "utils",
    # SADL export tooling, a separate C++ codec
    "sadl_codec",
    # module-level values CompressAI's modules leak from their imports (no __all__ there)
    "eps",
    # type variables of compressai.datasets.stack
    "T",
    "T_co",
    "T_stack",
    # point-cloud loss
    "chamfer_distance",
}
# Names one module imports for its own use (no __all__ there).
_EXCLUDED_IN = {"optimizers.net": {"OPTIMIZERS"}, "optimizers.net_aux": {"OPTIMIZERS"}}
_STDLIB_HELPERS = {
    "Any",
    "Callable",
    "Dict",
    "Fraction",
    "List",
    "Mapping",
    "Optional",
    "Sequence",
    "Tensor",
    "Tuple",
    "Type",
    "TypeVar",
    "Union",
    "cast",
    "enum",
    "math",
    "nn",
    "np",
    "re",
    "torch",
    "warnings",
    "F",
    "OrderedDict",
    "Image",
    "Path",
    "Dataset",
    "annotations",
    "partial",
    "Function",
    "Parameter",
}


def _public(module: types.ModuleType) -> set[str]:
    """``__all__``, or else (CompressAI's packages that star-import modules without one) the
    names defined inside the package, not those its modules happen to import."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return set(names)
    public = set()
    for name in dir(module):
        value = getattr(module, name)
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        owner = getattr(value, "__module__", None)
        if owner is None or owner == module.__name__ or owner.startswith(f"{module.__name__}."):
            public.add(name)
    return public


def _excluded(name: str) -> bool:
    return (
        name in _EXCLUDED
        or name in _STDLIB_HELPERS
        or any(word in name for word in _EXCLUDED_WORDS)
    )


def missing() -> dict[str, list[str]]:
    """``{module: [names CompressAI has and tinify lacks]}`` for modules with gaps."""
    gaps: dict[str, list[str]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for suffix in MODULES:
            dotted = f".{suffix}" if suffix else ""
            theirs = importlib.import_module(f"compressai{dotted}")
            try:
                ours = importlib.import_module(f"tinify{dotted}")
            except ModuleNotFoundError:
                gaps[f"tinify{dotted}"] = ["<module>"]
                continue
            lacking = sorted(
                n
                for n in _public(theirs) - _EXCLUDED_IN.get(suffix, set())
                if not _excluded(n) and not hasattr(ours, n)
            )
            if lacking:
                gaps[f"tinify{dotted}"] = lacking
    return gaps


def main() -> int:
    gaps = missing()
    for module, names in gaps.items():
        print(f"{module}: {', '.join(names)}")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main())
