"""The .tfy reader and writer: round trips of every shape form, every limit, hostile and
corrupt files (docs/format.md)."""

from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
import tracemalloc
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinify import tfy
from tinify.tfy import TfyError, TfyHeader

DIGEST = "ab" * 32


def header(**fields: object) -> TfyHeader:
    base: dict[str, object] = {
        "architecture": "mbt2018-mean",
        "height": 97,
        "width": 131,
        "shape": (2, 3),
        "quality": 3,
        "metric": "mse",
        "weights_sha256": DIGEST,
        "pad_multiple": 64,
    }
    base.update(fields)
    return TfyHeader(**base)  # type: ignore[arg-type]


def with_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


def frame(header_body: bytes, payload: bytes, version: int = 1, flags: int = 0) -> bytes:
    """A file around a hand-made header and payload, with a valid CRC."""
    prefix = tfy.MAGIC + struct.pack("<BBH", version, flags, len(header_body))
    return with_crc(prefix + header_body + payload)


def header_body(
    height: int = 97, width: int = 131, shape: bytes = b"t\x00", mode: int = 3
) -> bytes:
    arch = b"mbt2018-mean"
    return (
        bytes([len(arch)]) + arch + b"\x00" + bytes([3, 1]) + bytes(32)
        + struct.pack("<IIBBBH", height, width, mode, 8, 8, 64) + shape
    )  # fmt: skip


ONE_STREAM = struct.pack("<II", 1, 3) + b"abc"


# ----------------------------------------------------------------------------- round trips


@st.composite
def headers(draw: st.DrawFn) -> tuple[TfyHeader, list[list[bytes]]]:
    multiple = draw(st.sampled_from([1, 2, 16, 64, 128]))
    height = draw(st.integers(1, 3000))
    width = draw(st.integers(1, 3000))
    ph, pw = -(-height // multiple) * multiple, -(-width // multiple) * multiple
    factor = st.sampled_from([s for s in range(1, multiple + 1) if multiple % s == 0])
    latent = st.builds(
        lambda lead, s: (*lead, ph // s, pw // s),
        st.lists(st.integers(0, 2**20), max_size=2),
        factor,
    )
    leaf = st.one_of(latent, st.integers(0, 2**20), st.tuples(st.integers(0, 2**20)))
    keys = st.text("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_", min_size=1, max_size=32)
    shape = draw(
        st.recursive(
            leaf,
            lambda inner: st.one_of(
                st.lists(inner, max_size=4),
                # A tuple ending in two ints is a latent size (docs/format.md §6).
                st.lists(inner, max_size=4)
                .map(tuple)
                .filter(lambda t: len(t) < 2 or not all(isinstance(v, int) for v in t[-2:])),
                st.dictionaries(keys, inner, max_size=4),
            ),
            max_leaves=20,
        )
    )
    mode = draw(st.sampled_from(["L", "LA", "RGB", "RGBA"]))
    alpha = tfy.pack_alpha(bytes(height * width)) if "A" in mode else None
    h = TfyHeader(
        architecture=draw(st.from_regex(r"[a-z0-9._-]{1,64}", fullmatch=True)),
        height=height,
        width=width,
        shape=shape,
        mode=mode,
        quality=draw(st.none() | st.integers(1, 255)),
        metric=draw(st.sampled_from([None, "mse", "ms-ssim"])),
        model_name=draw(st.none() | st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True)),
        weights_sha256=draw(
            st.none() | st.binary(min_size=32, max_size=32).filter(any).map(bytes.hex)
        ),
        source_bit_depth=draw(st.sampled_from([8, 16])),
        pad_multiple=multiple,
        alpha=alpha,
    )
    strings = draw(st.lists(st.binary(max_size=64).map(lambda b: [b]), min_size=1, max_size=8))
    return h, strings


@given(headers())
def test_decode_inverts_encode_for_every_shape_form(case: tuple[TfyHeader, list]) -> None:
    h, strings = case
    data = tfy.encode(h, strings)
    decoded, decoded_strings = tfy.decode(data)
    assert decoded == h
    assert decoded.shape == h.shape  # tuples stay tuples, lists stay lists
    assert decoded.alpha == h.alpha
    assert decoded_strings == strings
    assert tfy.read_header(data) == h
    json.dumps(decoded.to_dict())


def test_shape_bytes_are_the_documented_encoding() -> None:
    # docs/format.md §2.1: (12, 8) is 74 02 69 0C000000 69 08000000.
    data = tfy.encode(header(height=768, width=512, shape=(12, 8)), [[b""]])
    assert bytes.fromhex("7402690c0000006908000000") in data


def test_encoding_is_pinned() -> None:
    """The exact bytes of one file: any change to the layout is a deliberate, versioned act."""
    h = TfyHeader("bmshj2018-factorized", 16, 32, (1, 2), quality=1, pad_multiple=16)
    data = tfy.encode(h, [[b"\x01\x02"]])
    assert data.hex() == (
        "895446590d0a1a0a02005c00"  # magic, version 2, flags 0, header length 92
        "14626d73686a323031382d666163746f72697a6564"  # "bmshj2018-factorized"
        "00" "01" "00"  # no model name, quality 1, no metric
        + "00" * 32  # no digest
        + "1000000020000000" "03" "08" "08" "1000"  # 16x32, RGB, 8 bits, from 8, pad 16
        "00" "0000" "0000000000000000"  # prior torch, no engine version, no checksum
        "740269010000006902000000"  # shape (1, 2)
        "01000000" "02000000" "0102"  # one stream of two bytes
    ) + struct.pack("<I", zlib.crc32(data[:-4])).hex()  # fmt: skip


def test_version_2_records_the_prior_engine_and_symbols_checksum() -> None:
    h = header(prior="engine", engine_version=1, symbols_checksum="0123456789abcdef")
    data = tfy.encode(h, [[b"x"]])
    assert bytes.fromhex("01" "0100" "0123456789abcdef") in data  # fmt: skip
    back, _ = tfy.decode(data)
    assert (back.prior, back.engine_version, back.symbols_checksum) == (
        "engine",
        1,
        "0123456789abcdef",
    )
    assert back.format_version == tfy.FORMAT_VERSION == 2
    assert back.to_dict()["prior"] == "engine"


def test_a_version_1_file_still_reads_as_coded_with_the_torch_prior() -> None:
    """Version 1 (no prior, no checksum: its files were coded with torch's prior)."""
    pinned = bytes.fromhex(
        "895446590d0a1a0a01005100"
        "14626d73686a323031382d666163746f72697a6564" "00" "01" "00"
        + "00" * 32
        + "1000000020000000" "03" "08" "08" "1000" "740269010000006902000000"
        "01000000" "02000000" "0102"
    )  # fmt: skip
    h, strings = tfy.decode(with_crc(pinned))
    assert (h.format_version, h.prior, h.engine_version, h.symbols_checksum) == (
        1,
        "torch",
        None,
        None,
    )
    assert h.shape == (1, 2) and strings == [[b"\x01\x02"]]
    assert h.to_dict()["format_version"] == 1


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"prior": "numpy"}, "prior must be"),
        ({"prior": "engine"}, "engine version"),
        ({"prior": "engine", "engine_version": 0}, "engine version"),
        ({"engine_version": 1}, "only with prior 'engine'"),
        ({"symbols_checksum": "xyz"}, "symbols_checksum"),
        ({"symbols_checksum": "0" * 16}, "symbols_checksum"),
    ],
)
def test_bad_coding_fields_are_refused(fields: dict[str, object], match: str) -> None:
    with pytest.raises(TfyError, match=match):
        tfy.encode(header(**fields), [[b"x"]])


def test_an_unknown_prior_code_is_refused() -> None:
    data = bytearray(tfy.encode(header(), [[b"x"]]))
    at = data.index(struct.pack("<IIBBBH", 97, 131, 3, 8, 8, 64)) + 13
    data[at] = 7
    with pytest.raises(TfyError, match="unknown prior code 7"):
        tfy.decode(with_crc(bytes(data[:-4])))


# ----------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    "fields",
    [
        {"architecture": ""},
        {"architecture": "a" * 65},
        {"architecture": "Mbt2018"},
        {"model_name": "x" * 65},
        {"model_name": "bad name"},
        {"quality": 0},
        {"quality": 256},
        {"quality": True},
        {"metric": "psnr"},
        {"weights_sha256": "ab"},
        {"weights_sha256": "AB" * 32},
        {"height": 0},
        {"width": 0},
        {"height": 2**15 + 1},
        {"width": 2**15 + 1},
        {"height": 2**15, "width": 2**15, "shape": (512, 512)},  # 2^30 pixels > 2^28
        {"mode": "CMYK"},
        {"bit_depth": 16},
        {"source_bit_depth": 12},
        {"pad_multiple": 0},
        {"pad_multiple": 1025},
        {"shape": 2**20 + 1},
        {"shape": -1},
        {"shape": 1.5},
        {"shape": "ab"},
        {"shape": tuple(range(65))},
        {"shape": [[[[[[[[[1]]]]]]]]]},  # 9 deep
        {"shape": [[0] * 60] * 9},  # over 512 values
        {"shape": {"": 1}},
        {"shape": {"a-b": 1}},
        {"shape": {"k" * 33: 1}},
        {"shape": (3, 4)},  # does not fit the 128x192 padded image
        {"shape": {"y": (8, 2, 3), "hyper": (1, 2)}},
        {"mode": "RGBA"},  # no alpha plane
        {"alpha": tfy.pack_alpha(b"\0")},  # alpha for RGB
        {"mode": "LA", "alpha": tfy.pack_alpha(b"\0" * 10)},  # wrong size
    ],
)
def test_encode_refuses_fields_outside_their_limits(fields: dict) -> None:
    with pytest.raises(TfyError):
        tfy.encode(header(**fields), [[b"x"]])


@pytest.mark.parametrize(
    "strings", [[], [[b"a"]] * 257, [[b"a", b"b"]], [[]], [b"a"], [["a"]], "ab"]
)
def test_encode_refuses_strings_that_are_not_one_bytes_per_stream(strings: object) -> None:
    with pytest.raises(TfyError):
        tfy.encode(header(), strings)  # type: ignore[arg-type]


def test_shape_limits_are_inclusive() -> None:
    deep: object = 1
    for _ in range(7):
        deep = [deep]
    for shape in ([[0] * 62] * 8, list(range(64)), deep, {"k" * 32: 2**20}):
        h, _ = tfy.decode(tfy.encode(header(shape=shape), [[b""]]))
        assert h.shape == shape
    big = header(height=2**14, width=2**14, shape=(256, 256))
    assert tfy.decode(tfy.encode(big, [[b""]]))[0] == big


# ----------------------------------------------------------------------------- hostile files


def raises_fast(data: bytes, match: str) -> None:
    """decode raises TfyError, allocating under 1 MiB beyond the input."""
    tracemalloc.start()
    try:
        with pytest.raises(TfyError, match=match):
            tfy.decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20 + len(data)


def test_a_million_by_a_million_image_is_refused() -> None:
    raises_fast(frame(header_body(10**6, 10**6), ONE_STREAM), "outside")


def test_too_many_pixels_are_refused() -> None:
    raises_fast(frame(header_body(2**15, 2**15), ONE_STREAM), "pixels")


def test_a_huge_stream_count_is_refused() -> None:
    raises_fast(frame(header_body(), struct.pack("<I", 2**32 - 1)), "stream count")


def test_a_huge_stream_length_is_refused() -> None:
    raises_fast(frame(header_body(), struct.pack("<II", 1, 2**32 - 1) + b"abc"), "claim")


def test_lengths_summing_past_the_file_are_refused() -> None:
    payload = struct.pack("<I", 256) + struct.pack("<I", 2**24) * 256
    raises_fast(frame(header_body(), payload), "claim")


def test_a_deep_shape_is_refused() -> None:
    shape = b"l\x01" * 2000 + b"i" + bytes(4)
    raises_fast(frame(header_body(shape=shape[:4000]), ONE_STREAM), "header|deep")
    raises_fast(frame(header_body(shape=b"l\x01" * 20 + b"i" + bytes(4)), ONE_STREAM), "deep")


def test_a_wide_shape_is_refused() -> None:
    raises_fast(frame(header_body(shape=b"l\xff" + b"i" + bytes(4) * 255), ONE_STREAM), "entries")


def test_a_header_length_past_the_file_is_refused() -> None:
    data = tfy.encode(header(), [[b"x"]])
    bad = data[:10] + struct.pack("<H", 4000) + data[12:-4]
    raises_fast(with_crc(bad), "runs past")


def test_a_future_version_says_so() -> None:
    data = frame(header_body(), ONE_STREAM, version=3)
    with pytest.raises(TfyError, match="format version 3, newer"):
        tfy.decode(data)
    with pytest.raises(TfyError, match="format version 0"):
        tfy.decode(frame(header_body(), ONE_STREAM, version=0))


def test_unknown_flags_are_refused() -> None:
    with pytest.raises(TfyError, match="flags"):
        tfy.decode(frame(header_body(), ONE_STREAM, flags=1))


def test_other_files_are_not_tfy() -> None:
    for data in (b"", b"\x89PNG\r\n\x1a\n" + bytes(100), b"TFY", tfy.MAGIC):
        with pytest.raises(TfyError):
            tfy.decode(data)
    with pytest.raises(TypeError):
        tfy.decode("not bytes")  # type: ignore[arg-type]


def test_bytes_after_the_payload_are_refused() -> None:
    data = tfy.encode(header(), [[b"x"]])
    with pytest.raises(TfyError, match="unexpected"):
        tfy.decode(with_crc(data[:-4] + b"\0"))


def test_an_alpha_bomb_is_refused_without_inflating_it() -> None:
    bomb = zlib.compress(bytes(2**26), 9)  # 64 MiB of zeros in ~64 KiB
    h = header(mode="RGBA", alpha=tfy.pack_alpha(bytes(97 * 131)))
    data = tfy.encode(h, [[b"x"]])
    alpha_at = len(data) - 4 - len(h.alpha) - 4  # type: ignore[arg-type]
    bad = data[:alpha_at] + struct.pack("<I", len(bomb)) + bomb
    raises_fast(with_crc(bad), "alpha")


# ----------------------------------------------------------------------------- corruption


def real_file() -> bytes:
    h = header(
        height=40,
        width=56,
        shape={"y": [(4, 4, 4), (8, 4, 4)], "hyper": (1, 1)},
        mode="RGBA",
        alpha=tfy.pack_alpha(bytes(range(256)) * 8 + bytes(40 * 56 - 2048)),
    )
    return tfy.encode(h, [[bytes(range(60))], [b"\x07" * 30], [b"zz"]])


def test_truncation_at_every_97th_byte_is_an_error() -> None:
    data = real_file()
    for end in range(0, len(data), 97):
        with pytest.raises(TfyError):
            tfy.decode(data[:end])
    for end in range(len(data) - 8, len(data)):
        with pytest.raises(TfyError):
            tfy.decode(data[:end])


def test_single_bit_flips_are_errors() -> None:
    data = real_file()
    rng = random.Random(8)
    for position in rng.sample(range(len(data) * 8), 200):
        flipped = bytearray(data)
        flipped[position // 8] ^= 1 << (position % 8)
        with pytest.raises(TfyError):
            tfy.decode(bytes(flipped))


@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_tfy_errors(data: bytes) -> None:
    for candidate in (data, tfy.MAGIC + data, with_crc(tfy.MAGIC + data)):
        try:
            tfy.decode(candidate)
        except TfyError:
            pass


@given(st.data())
def test_mutated_files_with_a_valid_crc_raise_only_tfy_errors(data: st.DataObject) -> None:
    body = bytearray(real_file()[:-4])
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(body) - 1))
        body[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(12, len(body)))
    try:
        tfy.decode(with_crc(bytes(body[:cut])))
    except TfyError:
        pass


def test_reading_a_header_loads_no_torch() -> None:
    code = (
        "import sys, tinify.tfy, tinify.limits; "
        "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
