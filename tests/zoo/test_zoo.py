"""tinify.zoo: quality tables against CompressAI's, errors, pretrained weights (offline and
from torch.hub's cache), checkpoint layouts, export and update."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest
import torch
import torch.hub

import tinify.zoo
from tinify.models import FactorizedPriorReLU

compressai = pytest.importorskip("compressai")
import compressai.models as cm  # noqa: E402
import compressai.zoo.image as czi  # noqa: E402

SHARED = [a for a in tinify.zoo.ARCHITECTURES if a in czi.cfgs]


def test_architectures_and_tables_match_compressai() -> None:
    assert len(tinify.zoo.ARCHITECTURES) == 10
    assert len(SHARED) == 7
    for arch in SHARED:
        assert tinify.zoo.CONFIGS[arch] == czi.cfgs[arch], arch
        assert tinify.zoo.QUALITIES[arch] == tuple(czi.cfgs[arch])
    assert tinify.zoo.URLS == {
        arch: {m: dict(q) for m, q in metrics.items()} for arch, metrics in czi.model_urls.items()
    }


@pytest.mark.parametrize("arch", ["bmshj2018-hyperprior", "mbt2018-mean", "cheng2020-attn"])
def test_zoo_model_has_compressai_shapes(arch: str) -> None:
    for quality in (1, tinify.zoo.QUALITIES[arch][-1]):
        ours = tinify.zoo.model(arch, quality).state_dict()
        theirs = czi._load_model(arch, "mse", quality).state_dict()
        assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}


def test_relu_is_really_relu() -> None:
    net = tinify.zoo.bmshj2018_factorized_relu(1)
    assert type(net) is FactorizedPriorReLU
    assert not any("beta" in k for k in net.state_dict())


def test_spellings_and_entry_points() -> None:
    for arch in tinify.zoo.ARCHITECTURES:
        fn = getattr(tinify.zoo, arch.replace("-", "_"))
        assert fn.__name__ == arch.replace("-", "_")
        assert tinify.zoo.canonical_architecture(arch.replace("-", "_").upper()) == arch
    assert tinify.zoo.canonical_architecture("FactorizedPrior") == "bmshj2018-factorized"


def test_bad_quality_metric_arch() -> None:
    with pytest.raises(ValueError, match="1-6"):
        tinify.zoo.cheng2020_anchor(7)
    with pytest.raises(ValueError, match="1-8"):
        tinify.zoo.model("mbt2018", 0)
    with pytest.raises(TypeError, match="integer"):
        tinify.zoo.mbt2018(1.5)
    with pytest.raises(ValueError, match="mse, ms-ssim"):
        tinify.zoo.mbt2018(1, metric="psnr")
    with pytest.raises(ValueError, match="bmshj2018-factorized, "):
        tinify.zoo.model("nope", 1)
    assert tinify.zoo.mbt2018_mean(1, metric="MS_SSIM").M == 192


@pytest.mark.parametrize("arch", ["bmshj2018-factorized-relu", "elic2022-official"])
def test_no_published_weights(arch: str) -> None:
    with pytest.raises(ValueError, match="no pretrained weights"):
        tinify.zoo.model(arch, 1, pretrained=True)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch.hub cache, and no network: any download fails as offline."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(url: str, *args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    return tmp_path / "hub" / "checkpoints"


def test_offline_error_names_url_and_local_file(hub: Path) -> None:
    url = tinify.zoo.URLS["bmshj2018-hyperprior"]["ms-ssim"][2]
    with pytest.raises(OSError, match="name resolution") as info:
        tinify.zoo.bmshj2018_hyperprior(2, metric="ms-ssim", pretrained=True)
    message = str(info.value)
    assert url in message and "load_checkpoint(PATH)" in message and "--checkpoint" in message
    assert str(hub) in message
    assert info.value.__suppress_context__  # no urllib traceback chained


def test_download_failure_from_the_downloader(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise urllib.error.HTTPError("u", 403, "Forbidden", None, None)  # type: ignore[arg-type]

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", broken)
    with pytest.raises(OSError, match="Forbidden"):
        tinify.zoo.mbt2018(1, pretrained=True)


def test_hash_mismatch_is_a_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def bad_hash(*args: object, **kwargs: object) -> None:
        raise RuntimeError('invalid hash value (expected "446d5c7f", got "00000000")')

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", bad_hash)
    with pytest.raises(ValueError, match="sha256"):
        tinify.zoo.bmshj2018_factorized(1, pretrained=True)


def test_pretrained_from_torch_hub_cache(hub: Path) -> None:
    """A file named like CompressAI's, in torch.hub's cache, with the zoo files' legacy
    ``_matrices.0`` key names: loaded without any download."""
    torch.manual_seed(1)
    theirs = cm.FactorizedPrior(128, 192)
    theirs.update(force=True)
    legacy = {
        k.replace("entropy_bottleneck.matrices.", "entropy_bottleneck._matrices."): v
        for k, v in theirs.state_dict().items()
    }
    assert any("._matrices." in k for k in legacy)
    url = tinify.zoo.URLS["bmshj2018-factorized"]["mse"][1]
    hub.mkdir(parents=True)
    torch.save(legacy, hub / url.rsplit("/", 1)[1])
    ours = tinify.zoo.bmshj2018_factorized(1, pretrained=True, progress=False)
    assert not ours.training
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key


def _factorized_file(path: Path, update: bool = True) -> cm.FactorizedPrior:
    torch.manual_seed(2)
    net = cm.FactorizedPrior(8, 12)
    if update:
        net.update(force=True)
    torch.save(net.state_dict(), path)
    return net


@pytest.mark.parametrize("wrapper", ["network", "model_state_dict", "model"])
def test_training_checkpoint_layouts(wrapper: str, tmp_path: Path) -> None:
    net = cm.MeanScaleHyperprior(8, 12)
    net.update()
    contents = {
        wrapper: {f"module.{k}": v for k, v in net.state_dict().items()},
        "epoch": 7,
        "optimizer": {"state": {}, "param_groups": [{"lr": 1e-4, "params": [0, 1]}]},
    }
    torch.save(contents, tmp_path / "ckpt.pth.tar")
    ours = tinify.zoo.load_checkpoint(tmp_path / "ckpt.pth.tar")
    assert tinify.zoo.architecture_of(ours) == "mbt2018-mean"


def test_legacy_names_downsample_and_matrix(tmp_path: Path) -> None:
    net = cm.Cheng2020Anchor(6)
    renamed = {}
    for k, v in net.state_dict().items():
        k = k.replace(".skip.", ".downsample.")
        k = k.replace("entropy_bottleneck.matrices.", "entropy_bottleneck._matrix")
        renamed[k] = v
    assert any(".downsample." in k for k in renamed) and any("_matrix0" in k for k in renamed)
    torch.save(renamed, tmp_path / "old.pth")
    ours = tinify.zoo.load_checkpoint(tmp_path / "old.pth")
    assert tinify.zoo.architecture_of(ours) == "cheng2020-anchor"
    assert torch.equal(ours.g_a[0].skip.weight, net.g_a[0].skip.weight)


def test_tables_built_only_when_missing(tmp_path: Path) -> None:
    theirs = _factorized_file(tmp_path / "raw.pth", update=False)
    ours = tinify.zoo.load_checkpoint(tmp_path / "raw.pth")
    theirs.update(force=True)
    x = torch.rand(1, 3, 64, 64)
    assert ours.compress(x)["strings"] == theirs.compress(x)["strings"]


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        tinify.zoo.load_checkpoint(tmp_path / "missing.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="not a PyTorch checkpoint"):
        tinify.zoo.load_checkpoint(tmp_path / "junk.pth")
    torch.save({"net": torch.nn.Linear(2, 2)}, tmp_path / "pickled.pth")
    with pytest.raises(ValueError, match="never runs code"):
        tinify.zoo.load_checkpoint(tmp_path / "pickled.pth")
    torch.save({"weight": torch.zeros(3)}, tmp_path / "unknown.pth")
    with pytest.raises(ValueError, match=r"pass it .*arch="):
        tinify.zoo.load_checkpoint(tmp_path / "unknown.pth")
    _factorized_file(tmp_path / "fact.pth")
    with pytest.raises(ValueError, match=r"not a 'mbt2018' checkpoint.*bmshj2018-factorized"):
        tinify.zoo.load_checkpoint(tmp_path / "fact.pth", "mbt2018")
    torch.save({"epoch": 1}, tmp_path / "nostate.pth")
    with pytest.raises(ValueError, match="no model state_dict"):
        tinify.zoo.load_checkpoint(tmp_path / "nostate.pth")


def test_export_checkpoint_torch_hub_layout(tmp_path: Path) -> None:
    net = tinify.zoo.mbt2018_mean(1)
    net.update()
    path = tinify.zoo.export_checkpoint(net, tmp_path / "out", "my-model.pth.tar")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert path.name == f"my-model-{digest[:8]}.pth.tar"
    assert torch.hub.HASH_REGEX.search(path.name).group(1) == digest[:8]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
    again = tinify.zoo.load_checkpoint(path)
    for key, value in net.state_dict().items():
        assert torch.equal(again.state_dict()[key], value)
    with pytest.raises(ValueError, match="invalid checkpoint name"):
        tinify.zoo.export_checkpoint(net, tmp_path, "a/b")


def test_update_checkpoint(tmp_path: Path) -> None:
    theirs = _factorized_file(tmp_path / "train-1-0123abcd.pth.tar", update=False)
    path = tinify.zoo.update_checkpoint(tmp_path / "train-1-0123abcd.pth.tar", directory=tmp_path)
    assert path.name.startswith("train-1-") and path.name.count("-") == 2
    stored = torch.load(path, weights_only=True)
    theirs.update(force=True)
    assert torch.equal(
        stored["entropy_bottleneck._quantized_cdf"],
        theirs.state_dict()["entropy_bottleneck._quantized_cdf"],
    )
    assert tinify.zoo.architecture_of(tinify.zoo.load_checkpoint(path)) == "bmshj2018-factorized"


def test_import_loads_no_torch() -> None:
    code = "import sys, tinify.zoo as z; z.QUALITIES; z.model; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_default_reexport_is_lazy() -> None:
    try:
        import tinify.zoo.default
    except ModuleNotFoundError:
        with pytest.raises(AttributeError, match="default"):
            tinify.zoo.load_default  # noqa: B018
    else:
        assert callable(tinify.zoo.load_default)
        assert isinstance(tinify.zoo.DEFAULT_NAME, str)


def test_tinify_default_architecture_loads(tmp_path: Path) -> None:
    from tinify.models.gain import GainedMeanScaleHyperprior

    net = GainedMeanScaleHyperprior(8, 12, [0.0018, 0.0067, 0.025])
    net.update()
    torch.save({"step": 5, "state_dict": net.state_dict(), "optimizer": {}}, tmp_path / "t.pth")
    for arch in (None, "gained_mean_scale_hyperprior"):
        ours = tinify.zoo.load_checkpoint(tmp_path / "t.pth", arch)
        assert tinify.zoo.architecture_of(ours) == "gained-mean-scale-hyperprior"
        assert torch.equal(ours.y_gain, net.y_gain)
