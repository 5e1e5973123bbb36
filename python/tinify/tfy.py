"""The ``.tfy`` file: one coded image, its model's identity, shapes, strings and a CRC-32.

The byte layout is specified in ``docs/format.md``; this module is its reference reader and
writer. Pure Python (``struct``, ``zlib``), so that ``tinify info`` never loads torch.

A reader checks the magic, the version and the CRC before parsing anything the CRC covers,
and every length against the bytes that remain before slicing: a hostile file costs at most
one pass over its own bytes and raises :class:`TfyError`.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from tinify.limits import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "MODES",
    "PRIORS",
    "READ_VERSIONS",
    "DecodeMismatchError",
    "Strings",
    "TfyError",
    "TfyHeader",
    "decode",
    "encode",
    "pack_alpha",
    "read_header",
    "unpack_alpha",
]

#: The first 8 bytes of every ``.tfy`` file (PNG's trick: a high bit, CR LF, ^Z, LF).
MAGIC = b"\x89TFY\r\n\x1a\n"
#: The format version this module writes.
FORMAT_VERSION = 2
#: The format versions this module reads (version 1: coded with torch's prior, no checksum).
READ_VERSIONS = (1, 2)

#: Where the Gaussians' parameters were computed, by their code in a version-2 header.
PRIORS = {0: "torch", 1: "engine"}

#: Colour modes by their code in the header.
MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
METRICS = {0: None, 1: "mse", 2: "ms-ssim"}

#: One list of byte strings per stream, each holding the one string of the file's image.
Strings = list[list[bytes]]

_PREFIX = struct.Struct("<8sBBH")  # magic, version, flags, header length
_CRC = struct.Struct("<I")
_U32 = struct.Struct("<I")
_IMAGE = struct.Struct("<IIBBBH")  # height, width, mode, bit depth, source bit depth, pad
_CODING = struct.Struct("<BH8s")  # prior, engine version, symbols checksum (version 2)

MIN_HEADER = 48
MAX_HEADER = 4096
MIN_FILE = _PREFIX.size + MIN_HEADER + 4 + _CRC.size
MAX_FILE = 2**31
MAX_STREAMS = 256
MAX_NAME = 64
MAX_PAD = 1024
MAX_SHAPE_INT = 2**20
MAX_SHAPE_COUNT = 64
MAX_SHAPE_DEPTH = 8
MAX_SHAPE_VALUES = 512
MAX_KEY = 32

_ARCH_CHARS = re.compile(r"[a-z0-9._-]+")
_NAME_CHARS = re.compile(r"[A-Za-z0-9._-]*")
_KEY_CHARS = re.compile(r"[A-Za-z0-9_]+")
_NO_DIGEST = bytes(32)
_NO_CHECKSUM = bytes(8)


class TfyError(ValueError):
    """A ``.tfy`` file (or a header to write) that breaks the format: what and where."""


class DecodeMismatchError(TfyError):
    """A valid ``.tfy`` file that decodes to other latent symbols on this machine than the
    encoder coded (its symbols checksum differs, or the strings do not decode): the prior
    computed other Gaussians here (another engine version, or torch's machine-dependent
    arithmetic). No image is returned."""


@dataclass(frozen=True)
class TfyHeader:
    """Everything in a ``.tfy`` file but the strings.

    Attributes:
        architecture: zoo name of the model (``"mbt2018-mean"``).
        height: height of the original image, 1 to 32768.
        width: width of the original image, 1 to 32768 (``height * width`` ≤ 2**28).
        shape: the shape the model's ``decompress`` needs: ints, tuples, lists, dicts.
        mode: ``"L"``, ``"LA"``, ``"RGB"`` or ``"RGBA"``: the colour mode decoded.
        quality: the model's quality level, or None.
        metric: ``"mse"``, ``"ms-ssim"`` or None.
        model_name: the name of a model tinify can rebuild (``"tinify-default-4"``,
            ``"compressai-pretrained"``), or None for a model of the user's own.
        weights_sha256: hex SHA-256 digest of the model's weights, or None.
        bit_depth: bits per coded sample (8).
        source_bit_depth: bits per sample of the image compressed (8 or 16).
        pad_multiple: the image was padded to a multiple of this (centred), 1 to 1024.
        alpha: the zlib stream of the alpha plane, for ``"LA"`` and ``"RGBA"``
            (:func:`pack_alpha`); None otherwise.
        prior: ``"torch"`` or ``"engine"``: where the coder's Gaussian parameters were
            computed (``docs/determinism.md``); version-1 files are ``"torch"``.
        engine_version: ``tinify.engine.ENGINE_VERSION`` of the encoder when ``prior`` is
            ``"engine"``, else None.
        symbols_checksum: 16 hex digits, the first 8 bytes of the SHA-256 of the coded
            latent symbols (``docs/format.md`` §2.2), or None when not recorded.
        format_version: the version of the file read (what :func:`encode` writes is always
            :data:`FORMAT_VERSION`).
    """

    architecture: str
    height: int
    width: int
    shape: Any
    mode: str = "RGB"
    quality: int | None = None
    metric: str | None = None
    model_name: str | None = None
    weights_sha256: str | None = None
    bit_depth: int = 8
    source_bit_depth: int = 8
    pad_multiple: int = 64
    alpha: bytes | None = field(default=None, repr=False)
    prior: str = "torch"
    engine_version: int | None = None
    symbols_checksum: str | None = None
    format_version: int = FORMAT_VERSION

    @property
    def padded_size(self) -> tuple[int, int]:
        """``(PH, PW)``: the size the image was padded to."""
        m = self.pad_multiple
        return (-(-self.height // m) * m, -(-self.width // m) * m)

    def to_dict(self) -> dict[str, Any]:
        """The header as JSON-ready values (tuples become lists; the alpha plane its size)."""
        return {
            "format_version": self.format_version,
            "architecture": self.architecture,
            "model_name": self.model_name,
            "quality": self.quality,
            "metric": self.metric,
            "weights_sha256": self.weights_sha256,
            "height": self.height,
            "width": self.width,
            "mode": self.mode,
            "bit_depth": self.bit_depth,
            "source_bit_depth": self.source_bit_depth,
            "pad_multiple": self.pad_multiple,
            "shape": _jsonable(self.shape),
            "alpha_bytes": None if self.alpha is None else len(self.alpha),
            "prior": self.prior,
            "engine_version": self.engine_version,
            "symbols_checksum": self.symbols_checksum,
        }


def encode(header: TfyHeader, strings: Strings) -> bytes:
    """The bytes of a ``.tfy`` file.

    Args:
        header: the header; every field is checked against the limits of the format.
        strings: one list per stream, each holding one ``bytes`` (batch size 1).

    Raises:
        TfyError: a field outside its limits, a shape the format cannot hold or that does
            not fit the image size, or strings that are not one bytes per stream.
    """
    body = _encode_header(header)
    streams = _flat_strings(strings)
    parts = [_PREFIX.pack(MAGIC, FORMAT_VERSION, 0, len(body)), body]
    parts.append(_U32.pack(len(streams)))
    parts.extend(_U32.pack(len(s)) for s in streams)
    parts.extend(streams)
    if header.mode in ("LA", "RGBA"):
        if header.alpha is None:
            raise TfyError(f"mode {header.mode} needs the alpha plane (`alpha`)")
        unpack_alpha(header.alpha, header.height, header.width)
        parts += [_U32.pack(len(header.alpha)), bytes(header.alpha)]
    elif header.alpha is not None:
        raise TfyError(f"mode {header.mode} has no alpha plane, but `alpha` is given")
    data = b"".join(parts)
    if len(data) + _CRC.size > MAX_FILE:
        raise TfyError(f"a .tfy file holds at most {MAX_FILE} bytes")
    return data + _CRC.pack(zlib.crc32(data))


def decode(data: bytes) -> tuple[TfyHeader, Strings]:
    """Reads a ``.tfy`` file.

    Args:
        data: the whole file.

    Returns:
        The header and the strings (one list of one ``bytes`` per stream).

    Raises:
        TfyError: the bytes are not a valid ``.tfy`` file of a version this reader knows;
            the message says what is wrong.
    """
    view, header_end = _check_frame(data)
    header = _decode_header(view[_PREFIX.size : header_end], view[8])
    reader = _Reader(view, header_end, len(view) - _CRC.size, "payload")
    count = reader.u32("stream count")
    if not 1 <= count <= MAX_STREAMS:
        raise TfyError(f"stream count {count} is outside [1, {MAX_STREAMS}]")
    lengths = [reader.u32(f"length of stream {i}") for i in range(count)]
    if sum(lengths) > reader.remaining:
        raise TfyError(
            f"the streams claim {sum(lengths)} bytes, but {reader.remaining} remain in the file"
        )
    strings = [[reader.take(n, f"stream {i}")] for i, n in enumerate(lengths)]
    if header.mode in ("LA", "RGBA"):
        alpha = reader.take(reader.u32("alpha length"), "alpha plane")
        unpack_alpha(alpha, header.height, header.width)
        header = _replace_alpha(header, alpha)
    if reader.remaining:
        raise TfyError(f"{reader.remaining} unexpected bytes after the payload")
    return header, strings


def read_header(data: bytes) -> TfyHeader:
    """The header of a ``.tfy`` file, after the same checks as :func:`decode`."""
    return decode(data)[0]


def pack_alpha(plane: bytes) -> bytes:
    """The zlib stream that carries an alpha plane (``H * W`` bytes, row-major)."""
    return zlib.compress(bytes(plane), 9)


def unpack_alpha(alpha: bytes, height: int, width: int) -> bytes:
    """The alpha plane (``height * width`` bytes) from its zlib stream, inflating no more
    than one byte past that size.

    Raises:
        TfyError: the stream is not zlib, does not end, or does not hold exactly
            ``height * width`` bytes.
    """
    expected = height * width
    inflater = zlib.decompressobj()
    try:
        plane = inflater.decompress(bytes(alpha), expected + 1)
    except zlib.error as err:
        raise TfyError(f"the alpha plane is not a valid zlib stream: {err}") from None
    if len(plane) != expected or not inflater.eof or inflater.unused_data:
        raise TfyError(
            f"the alpha plane must inflate to exactly {expected} bytes ({height}x{width}) "
            "and end the zlib stream"
        )
    return plane


# ----------------------------------------------------------------------------- frame


def _check_frame(data: bytes) -> tuple[memoryview, int]:
    """Steps 1-4 of the reader's checks; returns the bytes and the header's end."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"a .tfy file is bytes, got {type(data).__name__}")
    view = memoryview(data).cast("B")
    if len(view) < 8 or bytes(view[:8]) != MAGIC:
        raise TfyError("not a .tfy file (no TFY magic number at the start)")
    if len(view) < MIN_FILE:
        raise TfyError(f"truncated .tfy file: {len(view)} bytes, a file has at least {MIN_FILE}")
    if len(view) > MAX_FILE:
        raise TfyError(f"a .tfy file holds at most {MAX_FILE} bytes, got {len(view)}")
    _, version, flags, header_len = _PREFIX.unpack_from(view)
    if version not in READ_VERSIONS:
        newer = ", newer than this reader's; upgrade tinify" if version > FORMAT_VERSION else ""
        raise TfyError(
            f"format version {version}{newer} (this tinify reads versions "
            f"{', '.join(map(str, READ_VERSIONS))})"
        )
    (stored,) = _CRC.unpack_from(view, len(view) - _CRC.size)
    actual = zlib.crc32(view[: len(view) - _CRC.size])
    if stored != actual:
        raise TfyError(
            f"CRC-32 mismatch (stored {stored:08x}, computed {actual:08x}): the file is "
            "corrupt or truncated"
        )
    if flags:
        raise TfyError(f"unknown flags {flags:#04x} (version {version} has none)")
    if not MIN_HEADER <= header_len <= MAX_HEADER:
        raise TfyError(f"header length {header_len} is outside [{MIN_HEADER}, {MAX_HEADER}]")
    header_end = _PREFIX.size + header_len
    if header_end + 4 + _CRC.size > len(view):
        raise TfyError(f"header length {header_len} runs past the end of the file")
    return view, header_end


class _Reader:
    """Reads fields from ``view[pos:end]``, checking each against the bytes left."""

    def __init__(self, view: memoryview, pos: int, end: int, part: str) -> None:
        self.view, self.pos, self.end, self.part = view, pos, end, part

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def take(self, n: int, what: str) -> bytes:
        if n > self.remaining:
            raise TfyError(
                f"{what} needs {n} bytes, but {self.remaining} remain in the {self.part}"
            )
        out = bytes(self.view[self.pos : self.pos + n])
        self.pos += n
        return out

    def unpack(self, fmt: struct.Struct, what: str) -> tuple[Any, ...]:
        return fmt.unpack(self.take(fmt.size, what))

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u32(self, what: str) -> int:
        return _U32.unpack(self.take(4, what))[0]


# ----------------------------------------------------------------------------- header


def _encode_header(h: TfyHeader) -> bytes:
    _check_header(h)
    out = bytearray()
    for text in (h.architecture, h.model_name or ""):
        out += bytes([len(text)]) + text.encode("ascii")
    metric_code = {v: k for k, v in METRICS.items()}[h.metric]
    out += bytes([h.quality or 0, metric_code])
    out += _NO_DIGEST if h.weights_sha256 is None else bytes.fromhex(h.weights_sha256)
    mode_code = {v: k for k, v in MODES.items()}[h.mode]
    out += _IMAGE.pack(
        h.height, h.width, mode_code, h.bit_depth, h.source_bit_depth, h.pad_multiple
    )
    checksum = _NO_CHECKSUM if h.symbols_checksum is None else bytes.fromhex(h.symbols_checksum)
    prior_code = {v: k for k, v in PRIORS.items()}[h.prior]
    out += _CODING.pack(prior_code, h.engine_version or 0, checksum)
    _encode_shape(h.shape, out, [0], 1)
    if len(out) > MAX_HEADER:
        raise TfyError(f"the header takes {len(out)} bytes, more than {MAX_HEADER}")
    return bytes(out)


def _decode_header(body: memoryview, version: int) -> TfyHeader:
    r = _Reader(body, 0, len(body), "header")
    architecture = _text(r, "architecture", _ARCH_CHARS, 1)
    model_name = _text(r, "model name", _NAME_CHARS, 0) or None
    quality, metric_code = r.unpack(struct.Struct("<BB"), "quality and metric")
    if metric_code not in METRICS:
        raise TfyError(f"unknown metric code {metric_code}")
    digest = r.take(32, "weights digest")
    height, width, mode_code, bit_depth, source_depth, pad = r.unpack(_IMAGE, "image size")
    if mode_code not in MODES:
        raise TfyError(f"unknown colour mode code {mode_code}")
    prior, engine_version, checksum = "torch", None, None
    if version >= 2:
        prior_code, engine_code, raw_checksum = r.unpack(_CODING, "prior and symbols checksum")
        if prior_code not in PRIORS:
            raise TfyError(f"unknown prior code {prior_code}")
        prior = PRIORS[prior_code]
        engine_version = engine_code or None
        checksum = None if raw_checksum == _NO_CHECKSUM else raw_checksum.hex()
    counter = [0]
    shape = _decode_shape(r, counter, 1)
    if r.remaining:
        raise TfyError(f"{r.remaining} unexpected bytes at the end of the header")
    header = TfyHeader(
        architecture=architecture,
        height=height,
        width=width,
        shape=shape,
        mode=MODES[mode_code],
        quality=quality or None,
        metric=METRICS[metric_code],
        model_name=model_name,
        weights_sha256=None if digest == _NO_DIGEST else digest.hex(),
        bit_depth=bit_depth,
        source_bit_depth=source_depth,
        pad_multiple=pad,
        alpha=None,
        prior=prior,
        engine_version=engine_version,
        symbols_checksum=checksum,
        format_version=version,
    )
    _check_header(header, decoded=True)
    return header


def _text(r: _Reader, what: str, chars: re.Pattern[str], minimum: int) -> str:
    n = r.u8(f"length of the {what}")
    if not minimum <= n <= MAX_NAME:
        raise TfyError(f"the {what} takes {n} bytes, outside [{minimum}, {MAX_NAME}]")
    raw = r.take(n, what)
    text = raw.decode("ascii", errors="replace")
    if not chars.fullmatch(text):
        raise TfyError(f"invalid {what} {raw!r}")
    return text


def _check_header(h: TfyHeader, decoded: bool = False) -> None:
    """Every header field within the limits of docs/format.md §2, and the shape consistent
    with the image size (§6)."""
    if not isinstance(h.architecture, str) or not _ARCH_CHARS.fullmatch(h.architecture):
        raise TfyError(f"invalid architecture {h.architecture!r} (a-z, 0-9, '-', '.', '_')")
    if len(h.architecture) > MAX_NAME:
        raise TfyError(f"the architecture name is longer than {MAX_NAME} characters")
    name = h.model_name or ""
    if not isinstance(name, str) or not _NAME_CHARS.fullmatch(name) or len(name) > MAX_NAME:
        raise TfyError(f"invalid model name {h.model_name!r}")
    if h.quality is not None and not (_is_int(h.quality) and 1 <= h.quality <= 255):
        raise TfyError(f"quality must be None or in [1, 255], got {h.quality!r}")
    if h.metric not in METRICS.values():
        raise TfyError(f"metric must be one of mse, ms-ssim or None, got {h.metric!r}")
    if h.weights_sha256 is not None and not (
        isinstance(h.weights_sha256, str) and re.fullmatch(r"[0-9a-f]{64}", h.weights_sha256)
    ):
        raise TfyError(f"weights_sha256 must be 64 lower-case hex digits, got {h.weights_sha256!r}")
    if h.weights_sha256 == _NO_DIGEST.hex():
        raise TfyError("the all-zero weights digest means none recorded: pass None")
    for what, side in (("height", h.height), ("width", h.width)):
        if not _is_int(side) or not 1 <= side <= MAX_IMAGE_SIDE:
            raise TfyError(f"image {what} {side!r} is outside [1, {MAX_IMAGE_SIDE}]")
    if h.height * h.width > MAX_IMAGE_PIXELS:
        raise TfyError(f"a {h.height}x{h.width} image has more than {MAX_IMAGE_PIXELS} pixels")
    if h.mode not in MODES.values():
        raise TfyError(f"colour mode must be one of {list(MODES.values())}, got {h.mode!r}")
    if h.bit_depth != 8:
        raise TfyError(f"coded bit depth {h.bit_depth!r} is not 8, the only value")
    if h.source_bit_depth not in (8, 16):
        raise TfyError(f"source bit depth must be 8 or 16, got {h.source_bit_depth!r}")
    if not _is_int(h.pad_multiple) or not 1 <= h.pad_multiple <= MAX_PAD:
        raise TfyError(f"pad multiple {h.pad_multiple!r} is outside [1, {MAX_PAD}]")
    if h.prior not in PRIORS.values():
        raise TfyError(f"prior must be one of {list(PRIORS.values())}, got {h.prior!r}")
    if h.prior == "engine":
        if not (_is_int(h.engine_version) and 1 <= h.engine_version <= 0xFFFF):  # type: ignore[operator]
            raise TfyError(f"engine version must be in [1, 65535], got {h.engine_version!r}")
    elif h.engine_version is not None:
        raise TfyError(f"an engine version is recorded only with prior 'engine', not {h.prior!r}")
    if h.symbols_checksum is not None and not (
        isinstance(h.symbols_checksum, str)
        and re.fullmatch(r"[0-9a-f]{16}", h.symbols_checksum)
        and h.symbols_checksum != "0" * 16
    ):
        raise TfyError(
            f"symbols_checksum must be 16 lower-case hex digits, not all zero, got "
            f"{h.symbols_checksum!r}"
        )
    if not decoded:
        _count_shape(h.shape, [0], 1)
    _check_shape_fits(h.shape, h.padded_size, h.pad_multiple, 0)


def _replace_alpha(h: TfyHeader, alpha: bytes) -> TfyHeader:
    fields = {name: getattr(h, name) for name in h.__dataclass_fields__}
    fields["alpha"] = alpha
    return TfyHeader(**fields)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- shapes


def _count_shape(value: Any, counter: list[int], depth: int) -> None:
    """Raises TfyError unless ``value`` is a shape within the limits of §2.1."""
    counter[0] += 1
    if counter[0] > MAX_SHAPE_VALUES:
        raise TfyError(f"the shape holds more than {MAX_SHAPE_VALUES} values")
    if _is_int(value):
        if not 0 <= value <= MAX_SHAPE_INT:
            raise TfyError(f"shape entry {value} is outside [0, {MAX_SHAPE_INT}]")
        return
    if not isinstance(value, tuple | list | dict):
        raise TfyError(
            f"a shape holds ints, tuples, lists and dicts only, got {type(value).__name__}"
        )
    if depth > MAX_SHAPE_DEPTH:
        raise TfyError(f"the shape is nested more than {MAX_SHAPE_DEPTH} deep")
    if len(value) > MAX_SHAPE_COUNT:
        raise TfyError(f"a shape container holds more than {MAX_SHAPE_COUNT} entries")
    items = value.values() if isinstance(value, dict) else value
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str) or len(key) > MAX_KEY or not _KEY_CHARS.fullmatch(key):
                raise TfyError(f"invalid shape key {key!r} (1-{MAX_KEY} of A-Z a-z 0-9 _)")
    for item in items:
        _count_shape(item, counter, depth + 1)


def _encode_shape(value: Any, out: bytearray, counter: list[int], depth: int) -> None:
    if _is_int(value):
        out += b"i" + _U32.pack(value)
    elif isinstance(value, dict):
        out += b"d" + bytes([len(value)])
        for key, item in value.items():
            out += bytes([len(key)]) + key.encode("ascii")
            _encode_shape(item, out, counter, depth + 1)
    else:
        out += (b"t" if isinstance(value, tuple) else b"l") + bytes([len(value)])
        for item in value:
            _encode_shape(item, out, counter, depth + 1)


def _decode_shape(r: _Reader, counter: list[int], depth: int) -> Any:
    counter[0] += 1
    if counter[0] > MAX_SHAPE_VALUES:
        raise TfyError(f"the shape holds more than {MAX_SHAPE_VALUES} values")
    tag = r.take(1, "shape tag")
    if tag == b"i":
        value = r.u32("shape int")
        if value > MAX_SHAPE_INT:
            raise TfyError(f"shape entry {value} is outside [0, {MAX_SHAPE_INT}]")
        return value
    if tag not in (b"t", b"l", b"d"):
        raise TfyError(f"unknown shape tag {tag!r}")
    if depth > MAX_SHAPE_DEPTH:
        raise TfyError(f"the shape is nested more than {MAX_SHAPE_DEPTH} deep")
    count = r.u8("shape count")
    if count > MAX_SHAPE_COUNT:
        raise TfyError(f"a shape container holds {count} entries, more than {MAX_SHAPE_COUNT}")
    if tag == b"d":
        out: dict[str, Any] = {}
        for _ in range(count):
            n = r.u8("shape key length")
            raw = r.take(n, "shape key")
            key = raw.decode("ascii", errors="replace")
            if not 1 <= n <= MAX_KEY or not _KEY_CHARS.fullmatch(key) or key in out:
                raise TfyError(f"invalid or repeated shape key {raw!r}")
            out[key] = _decode_shape(r, counter, depth + 1)
        return out
    items = [_decode_shape(r, counter, depth + 1) for _ in range(count)]
    return tuple(items) if tag == b"t" else items


def _check_shape_fits(value: Any, padded: tuple[int, int], multiple: int, depth: int) -> None:
    """Every tuple of two or more entries ends with the padded size divided by a factor of
    the pad multiple (docs/format.md §6)."""
    if depth > MAX_SHAPE_DEPTH:
        return  # _count_shape or _decode_shape has refused it already
    if isinstance(value, tuple) and len(value) >= 2 and all(_is_int(v) for v in value[-2:]):
        h, w = value[-2:]
        ph, pw = padded
        if not (h >= 1 and ph % h == 0 and w * (ph // h) == pw and multiple % (ph // h) == 0):
            raise TfyError(
                f"latent size {h}x{w} does not fit the {ph}x{pw} padded image (pad multiple "
                f"{multiple})"
            )
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, tuple | list):
        for item in value:
            _check_shape_fits(item, padded, multiple, depth + 1)


def _flat_strings(strings: Strings) -> list[bytes]:
    if not isinstance(strings, list | tuple) or not 1 <= len(strings) <= MAX_STREAMS:
        raise TfyError(f"strings must be a list of 1 to {MAX_STREAMS} streams")
    out = []
    for i, stream in enumerate(strings):
        if (
            not isinstance(stream, list | tuple)
            or len(stream) != 1
            or not isinstance(stream[0], bytes | bytearray)
        ):
            raise TfyError(f"stream {i} must be a list of one bytes (a .tfy file holds one image)")
        out.append(bytes(stream[0]))
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value
