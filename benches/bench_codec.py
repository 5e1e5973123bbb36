"""File to file: tinify's ``compress_file``/``decompress_file`` beside CompressAI's
``examples/codec.py`` equivalent, for each zoo architecture.

For each architecture one set of weights (``tinify.zoo.model(arch, quality)``, seeded random
initialisation, the analysis transform's last convolution scaled by ``--gain`` so that the
latents have a realistic spread instead of quantizing to zero, then ``update(force=True)``) is
loaded into both libraries (CompressAI's model gets tinify's state_dict). Both code a 768x512
centre crop of a photograph (``seeding.png`` of the development photographs) from a PNG file
to a compressed file and back to a PNG file, at ``torch.set_num_threads(1)``:

- tinify: ``tinify.codec.compress_file`` (reads the PNG, pads, codes, writes the .tfy with its
  header and CRC) and ``decompress_file`` (reads, checks, decodes, crops, writes the PNG);
- CompressAI: what ``examples/codec.py`` does: read the PNG, zero-pad to 64, ``model.compress``,
  write the strings with a small header; read them, ``model.decompress``, crop, write the PNG.

Printed per architecture: both libraries' encode and decode times (best of ``--repeat``), the
ratios CompressAI / tinify, and both file sizes.

Run:  nice python benches/bench_codec.py [--archs bmshj2018-hyperprior,mbt2018] [--repeat 3]
"""

from __future__ import annotations

import argparse
import struct
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image

PHOTO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "photos" / "seeding.png"


def photograph(path: Path, height: int, width: int) -> Image.Image:
    """The centre crop of ``path`` (a synthetic gradient if it is missing)."""
    if not path.is_file():
        rows = np.linspace(0, 255, height)[:, None, None]
        cols = np.linspace(0, 255, width)[None, :, None]
        return Image.fromarray(
            np.broadcast_to((rows + cols) / 2, (height, width, 3)).astype(np.uint8)
        )
    with Image.open(path) as image:
        image = image.convert("RGB")
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))


def tinify_model(arch: str, quality: int, gain: float):
    from tinify import zoo

    torch.manual_seed(0)
    net = zoo.model(arch, quality).eval()
    last = [m for m in net.g_a.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        last.weight.mul_(gain)
        if last.bias is not None:
            last.bias.mul_(gain)
    net.update(force=True)
    return net


def compressai_model(net, state_dict):
    """CompressAI's class of the same name as tinify's, holding tinify's weights."""
    from compressai import models as cm

    cls = getattr(cm, type(net).__name__)
    if hasattr(cls, "from_state_dict"):
        ref = cls.from_state_dict(state_dict)
    else:
        ref = cls()
        ref.load_state_dict(state_dict)
    return ref.eval()


def compressai_encode(net, src: Path, dst: Path) -> None:
    from compressai.ops import compute_padding

    x = torch.from_numpy(np.array(Image.open(src).convert("RGB"))).permute(2, 0, 1)[None] / 255
    h, w = x.shape[-2:]
    pad, _ = compute_padding(h, w, min_div=64)
    with torch.no_grad():
        out = net.compress(torch.nn.functional.pad(x, pad))
    body = [struct.pack(">II", h, w), struct.pack(">I", len(out["strings"]))]
    for group in out["strings"]:
        body += [struct.pack(">I", len(group[0])), group[0]]
    dst.write_bytes(b"".join(body))
    return out["shape"]


def compressai_decode(net, src: Path, dst: Path, shape) -> None:
    from compressai.ops import compute_padding

    data = src.read_bytes()
    h, w, n = struct.unpack_from(">III", data)
    offset, strings = 12, []
    for _ in range(n):
        (length,) = struct.unpack_from(">I", data, offset)
        strings.append([data[offset + 4 : offset + 4 + length]])
        offset += 4 + length
    with torch.no_grad():
        x_hat = net.decompress(strings, shape)["x_hat"]
    _, unpad = compute_padding(h, w, min_div=64)
    x_hat = torch.nn.functional.pad(x_hat, unpad).clamp(0, 1)
    array = (x_hat[0].permute(1, 2, 0) * 255).round().byte().numpy()
    Image.fromarray(array).save(dst)


def best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    from tinify import codec, zoo

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", default=",".join(zoo.ARCHITECTURES))
    parser.add_argument("--quality", type=int, default=1)
    parser.add_argument("--gain", type=float, default=4.0, help="scale of g_a's last layer")
    parser.add_argument("--image", type=Path, default=PHOTO)
    parser.add_argument("--size", default="512x768", help="HxW of the crop")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    height, width = (int(v) for v in args.size.split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="bench_codec-"))
    src = tmp / "photo.png"
    photograph(args.image, height, width).save(src)
    print(
        f"{width}x{height} crop of {args.image.name}, quality {args.quality}, gain {args.gain}, "
        f"best of {args.repeat}, 1 thread"
    )
    print(
        f"{'architecture':<30} {'tinify enc':>10} {'dec':>7} {'compressai enc':>14} {'dec':>7}"
        f" {'enc ratio':>9} {'dec ratio':>9} {'tfy bytes':>10} {'cai bytes':>10}"
    )
    for arch in args.archs.split(","):
        net = tinify_model(arch, args.quality, args.gain)
        ref = compressai_model(net, net.state_dict())
        tfy, png = tmp / f"{arch}.tfy", tmp / f"{arch}.png"
        t_enc = best(
            partial(codec.compress_file, src, tfy, net, args.quality, overwrite=True), args.repeat
        )
        t_dec = best(
            partial(codec.decompress_file, tfy, png, model=net, overwrite=True), args.repeat
        )
        bin_, png2 = tmp / f"{arch}.bin", tmp / f"{arch}-cai.png"
        shape = compressai_encode(ref, src, bin_)
        c_enc = best(partial(compressai_encode, ref, src, bin_), args.repeat)
        c_dec = best(partial(compressai_decode, ref, bin_, png2, shape), args.repeat)
        print(
            f"{arch:<30} {t_enc:>9.3f}s {t_dec:>6.3f}s {c_enc:>13.3f}s {c_dec:>6.3f}s"
            f" {c_enc / t_enc:>8.2f}x {c_dec / t_dec:>8.2f}x {tfy.stat().st_size:>10,}"
            f" {bin_.stat().st_size:>10,}",
            flush=True,
        )


if __name__ == "__main__":
    main()
