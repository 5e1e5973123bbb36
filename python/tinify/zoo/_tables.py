"""The zoo's facts as plain data (no torch): names, quality tables, training λ, weight URLs.

The tables of the seven architectures CompressAI's zoo has are CompressAI 1.2.8's
(``compressai/zoo/image.py``); the URLs and their sha256 prefixes are CompressAI's published
checkpoints. The three sensetime models have no CompressAI zoo entry and no published weights;
their tables are tinify's choice:

* ``cheng2020-anchor-checkerboard`` follows ``cheng2020-anchor`` (it is that model with a
  checkerboard context): qualities 1–6, N = 128 for 1–3 and 192 for 4–6.
* ``elic2022-official`` and ``elic2022-chandelier`` use the paper's N = 192, M = 320 at every
  rate (He et al. 2022 and Chandelier's re-implementation train all rates at that size):
  qualities 1–8, at the λ of the other eight-quality models.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ARCHITECTURES",
    "CONFIGS",
    "LAMBDAS",
    "METRICS",
    "QUALITIES",
    "ROOT_URL",
    "URLS",
    "VBR_ARCHITECTURES",
    "VBR_CONFIGS",
    "VBR_URLS",
    "check_metric",
]

#: The zoo's architecture names, in CompressAI's hyphen spelling.
ARCHITECTURES: tuple[str, ...] = (
    "bmshj2018-factorized",
    "bmshj2018-factorized-relu",
    "bmshj2018-hyperprior",
    "mbt2018-mean",
    "mbt2018",
    "cheng2020-anchor",
    "cheng2020-attn",
    "cheng2020-anchor-checkerboard",
    "elic2022-official",
    "elic2022-chandelier",
)

#: The metrics a model can be trained for.
METRICS: tuple[str, ...] = ("mse", "ms-ssim")


def check_metric(metric: Any) -> str:
    """``metric`` if it is one of :data:`METRICS`: the one check of a training metric (the
    codec, the zoo, the loss and the training configuration all call it).

    Raises:
        ValueError: naming the metrics.
    """
    if isinstance(metric, str) and metric in METRICS:
        return metric
    raise ValueError(f"invalid metric {metric!r}; choose one of {', '.join(METRICS)}")


_SMALL, _LARGE = (128, 192), (192, 320)

#: Constructor arguments per architecture and quality: ``(N, M)``, or ``(N,)`` for the
#: Cheng 2020 models (whose M is N).
CONFIGS: dict[str, dict[int, tuple[int, ...]]] = {
    "bmshj2018-factorized": {q: _SMALL if q <= 5 else _LARGE for q in range(1, 9)},
    "bmshj2018-factorized-relu": {q: _SMALL if q <= 5 else _LARGE for q in range(1, 9)},
    "bmshj2018-hyperprior": {q: _SMALL if q <= 5 else _LARGE for q in range(1, 9)},
    "mbt2018-mean": {q: _SMALL if q <= 4 else _LARGE for q in range(1, 9)},
    "mbt2018": {q: (192, 192) if q <= 4 else _LARGE for q in range(1, 9)},
    "cheng2020-anchor": {q: (128,) if q <= 3 else (192,) for q in range(1, 7)},
    "cheng2020-attn": {q: (128,) if q <= 3 else (192,) for q in range(1, 7)},
    "cheng2020-anchor-checkerboard": {q: (128,) if q <= 3 else (192,) for q in range(1, 7)},
    "elic2022-official": {q: _LARGE for q in range(1, 9)},
    "elic2022-chandelier": {q: _LARGE for q in range(1, 9)},
}

#: The qualities each architecture offers (1 = lowest rate).
QUALITIES: dict[str, tuple[int, ...]] = {arch: tuple(CONFIGS[arch]) for arch in ARCHITECTURES}

#: The rate–distortion trade-off λ CompressAI's zoo was trained at, per metric and quality
#: (loss = λ·255²·MSE + bpp for "mse", λ·(1 − MS-SSIM) + bpp for "ms-ssim").
LAMBDAS: dict[str, dict[int, float]] = {
    "mse": dict(enumerate((0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.18), 1)),
    "ms-ssim": dict(enumerate((2.40, 4.58, 8.73, 16.64, 31.73, 60.50, 115.37, 220.0), 1)),
}

#: Where CompressAI publishes its weights.
ROOT_URL = "https://compressai.s3.amazonaws.com/models/v1"


def _urls(files: dict[str, tuple[str, ...]]) -> dict[str, dict[int, str]]:
    return {
        metric: {q: f"{ROOT_URL}/{name}" for q, name in enumerate(names, 1)}
        for metric, names in files.items()
    }


#: CompressAI's published checkpoints: ``URLS[arch][metric][quality]``. Each file name ends
#: in the first 8 hex digits of the file's sha256, which torch.hub checks on download.
URLS: dict[str, dict[str, dict[int, str]]] = {
    "bmshj2018-factorized": _urls(
        {
            "mse": (
                "bmshj2018-factorized-prior-1-446d5c7f.pth.tar",
                "bmshj2018-factorized-prior-2-87279a02.pth.tar",
                "bmshj2018-factorized-prior-3-5c6f152b.pth.tar",
                "bmshj2018-factorized-prior-4-1ed4405a.pth.tar",
                "bmshj2018-factorized-prior-5-866ba797.pth.tar",
                "bmshj2018-factorized-prior-6-9b02ea3a.pth.tar",
                "bmshj2018-factorized-prior-7-6dfd6734.pth.tar",
                "bmshj2018-factorized-prior-8-5232faa3.pth.tar",
            ),
            "ms-ssim": (
                "bmshj2018-factorized-ms-ssim-1-9781d705.pth.tar",
                "bmshj2018-factorized-ms-ssim-2-4a584386.pth.tar",
                "bmshj2018-factorized-ms-ssim-3-5352f123.pth.tar",
                "bmshj2018-factorized-ms-ssim-4-4f91b847.pth.tar",
                "bmshj2018-factorized-ms-ssim-5-b3a88897.pth.tar",
                "bmshj2018-factorized-ms-ssim-6-ee028763.pth.tar",
                "bmshj2018-factorized-ms-ssim-7-8c265a29.pth.tar",
                "bmshj2018-factorized-ms-ssim-8-8811bd14.pth.tar",
            ),
        }
    ),
    "bmshj2018-hyperprior": _urls(
        {
            "mse": (
                "bmshj2018-hyperprior-1-7eb97409.pth.tar",
                "bmshj2018-hyperprior-2-93677231.pth.tar",
                "bmshj2018-hyperprior-3-6d87be32.pth.tar",
                "bmshj2018-hyperprior-4-de1b779c.pth.tar",
                "bmshj2018-hyperprior-5-f8b614e1.pth.tar",
                "bmshj2018-hyperprior-6-1ab9c41e.pth.tar",
                "bmshj2018-hyperprior-7-3804dcbd.pth.tar",
                "bmshj2018-hyperprior-8-a583f0cf.pth.tar",
            ),
            "ms-ssim": (
                "bmshj2018-hyperprior-ms-ssim-1-5cf249be.pth.tar",
                "bmshj2018-hyperprior-ms-ssim-2-1ff60d1f.pth.tar",
                "bmshj2018-hyperprior-ms-ssim-3-92dd7878.pth.tar",
                "bmshj2018-hyperprior-ms-ssim-4-4377354e.pth.tar",
                "bmshj2018-hyperprior-ms-ssim-5-c34afc8d.pth.tar",
                "bmshj2018-hyperprior-ms-ssim-6-3a6d8229.pth.tar",
                "bmshj2018-hyperprior-ms-ssim-7-8747d3bc.pth.tar",
                "bmshj2018-hyperprior-ms-ssim-8-cc15b5f3.pth.tar",
            ),
        }
    ),
    "mbt2018-mean": _urls(
        {
            "mse": (
                "mbt2018-mean-1-e522738d.pth.tar",
                "mbt2018-mean-2-e54a039d.pth.tar",
                "mbt2018-mean-3-723404a8.pth.tar",
                "mbt2018-mean-4-6dba02a3.pth.tar",
                "mbt2018-mean-5-d504e8eb.pth.tar",
                "mbt2018-mean-6-a19628ab.pth.tar",
                "mbt2018-mean-7-d5d441d1.pth.tar",
                "mbt2018-mean-8-8089ae3e.pth.tar",
            ),
            "ms-ssim": (
                "mbt2018-mean-ms-ssim-1-5bf9c0b6.pth.tar",
                "mbt2018-mean-ms-ssim-2-e2a1bf3f.pth.tar",
                "mbt2018-mean-ms-ssim-3-640ce819.pth.tar",
                "mbt2018-mean-ms-ssim-4-12626c13.pth.tar",
                "mbt2018-mean-ms-ssim-5-1be7f059.pth.tar",
                "mbt2018-mean-ms-ssim-6-b83bf379.pth.tar",
                "mbt2018-mean-ms-ssim-7-ddf9644c.pth.tar",
                "mbt2018-mean-ms-ssim-8-0cc7b94f.pth.tar",
            ),
        }
    ),
    "mbt2018": _urls(
        {
            "mse": (
                "mbt2018-1-3f36cd77.pth.tar",
                "mbt2018-2-43b70cdd.pth.tar",
                "mbt2018-3-22901978.pth.tar",
                "mbt2018-4-456e2af9.pth.tar",
                "mbt2018-5-b4a046dd.pth.tar",
                "mbt2018-6-7052e5ea.pth.tar",
                "mbt2018-7-8ba2bf82.pth.tar",
                "mbt2018-8-dd0097aa.pth.tar",
            ),
            "ms-ssim": (
                "mbt2018-ms-ssim-1-2878436b.pth.tar",
                "mbt2018-ms-ssim-2-c41cb208.pth.tar",
                "mbt2018-ms-ssim-3-d0dd64e8.pth.tar",
                "mbt2018-ms-ssim-4-a120e037.pth.tar",
                "mbt2018-ms-ssim-5-9b30e3b7.pth.tar",
                "mbt2018-ms-ssim-6-f8b3626f.pth.tar",
                "mbt2018-ms-ssim-7-16e6ff50.pth.tar",
                "mbt2018-ms-ssim-8-0cb49d43.pth.tar",
            ),
        }
    ),
    "cheng2020-anchor": _urls(
        {
            "mse": (
                "cheng2020-anchor-1-dad2ebff.pth.tar",
                "cheng2020-anchor-2-a29008eb.pth.tar",
                "cheng2020-anchor-3-e49be189.pth.tar",
                "cheng2020-anchor-4-98b0b468.pth.tar",
                "cheng2020-anchor-5-23852949.pth.tar",
                "cheng2020-anchor-6-4c052b1a.pth.tar",
            ),
            "ms-ssim": (
                "cheng2020_anchor-ms-ssim-1-20f521db.pth.tar",
                "cheng2020_anchor-ms-ssim-2-c7ff5812.pth.tar",
                "cheng2020_anchor-ms-ssim-3-c23e22d5.pth.tar",
                "cheng2020_anchor-ms-ssim-4-0e658304.pth.tar",
                "cheng2020_anchor-ms-ssim-5-c0a95e77.pth.tar",
                "cheng2020_anchor-ms-ssim-6-f2dc1913.pth.tar",
            ),
        }
    ),
    "cheng2020-attn": _urls(
        {
            "mse": (
                "cheng2020_attn-mse-1-465f2b64.pth.tar",
                "cheng2020_attn-mse-2-e0805385.pth.tar",
                "cheng2020_attn-mse-3-2d07bbdf.pth.tar",
                "cheng2020_attn-mse-4-f7b0ccf2.pth.tar",
                "cheng2020_attn-mse-5-26c8920e.pth.tar",
                "cheng2020_attn-mse-6-730501f2.pth.tar",
            ),
            "ms-ssim": (
                "cheng2020_attn-ms-ssim-1-c5381d91.pth.tar",
                "cheng2020_attn-ms-ssim-2-5dad201d.pth.tar",
                "cheng2020_attn-ms-ssim-3-5c9be841.pth.tar",
                "cheng2020_attn-ms-ssim-4-8b2f647e.pth.tar",
                "cheng2020_attn-ms-ssim-5-5ca1f34c.pth.tar",
                "cheng2020_attn-ms-ssim-6-216423ec.pth.tar",
            ),
        }
    ),
}


#: CompressAI's variable-rate architectures (``compressai.zoo.image_vbr``): one model per
#: architecture, its rate chosen at coding time, so they have no quality table.
VBR_ARCHITECTURES: tuple[str, ...] = ("bmshj2018-hyperprior-vbr", "mbt2018-mean-vbr", "mbt2018-vbr")

#: Constructor arguments ``(N, M)`` of each variable-rate architecture.
VBR_CONFIGS: dict[str, tuple[int, int]] = {arch: _LARGE for arch in VBR_ARCHITECTURES}

#: CompressAI's published variable-rate checkpoints, ``VBR_URLS[arch][metric]`` (MSE only).
VBR_URLS: dict[str, dict[str, str]] = {
    "bmshj2018-hyperprior-vbr": {
        "mse": f"{ROOT_URL}/bmshj2018-hyperprior-mse-vbr-cddd26be.pth.tar"
    },
    "mbt2018-mean-vbr": {"mse": f"{ROOT_URL}/mbt2018-mean-mse-vbr-45d095e9.pth.tar"},
    "mbt2018-vbr": {"mse": f"{ROOT_URL}/mbt2018-mse-vbr-f12581a1.pth.tar"},
}
