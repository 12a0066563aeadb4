"""The wire format between the grader and the sandboxed child process.  It never pickles.

The child runs student code, so every byte it sends is treated as hostile.  This module is
loaded by both sides; the child loads it from a private copy, without the ``grader`` package,
so it imports only the standard library and numpy.

Frame layout (little-endian)::

    magic   4 bytes   b"GSB1"
    hlen    u32       length of the JSON header
    blen    u64       length of the binary body
    header  hlen      UTF-8 JSON object (the message envelope)
    body    blen      raw array buffers, referenced from the header by (offset, nbytes)

Values inside a message are tagged JSON arrays, so that nothing is ambiguous and nothing
executes on decoding:

    ["n"]                                 None
    ["b", true]                           bool
    ["i", 12]                             int
    ["f", 1.5] / ["f", "nan"|"inf"|"-inf"]  float
    ["s", "text"]                         str
    ["l", [...]] / ["t", [...]]           list / tuple
    ["d", [["key", value], ...]]          dict with str keys
    ["a", "<f8", [2, 3], offset, nbytes]  ndarray (whitelisted dtypes, C order)
    ["r", 42]                             RngSeed (arguments only)
    ["o", "TypeName"]                     Opaque (results only)

A reply carries values only, never a verdict: a call's arguments come back in full after the
call (``args_after``), and whether they were modified is decided by the parent, which compares
them with what it sent.  Nothing in a reply says "unchanged": the child runs student code,
which can rebind anything the child would use to compare.

Decoding enforces: total frame size, header size, nesting depth, item count, ndim, dtype
whitelist, ``prod(shape) * itemsize == nbytes`` and that every buffer lies inside the body.
Any violation raises :class:`WireError`.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = b"GSB1"
PREFIX = struct.Struct("<4sIQ")
ALIGN = 8

#: dtypes allowed on the wire, as little-endian numpy dtype strings.
DTYPES = frozenset(
    ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8"]
)

# Captured once, so a student who rebinds numpy functions in the child does not change how
# the child encodes its own replies.
_frombuffer = np.frombuffer
_ndarray = np.ndarray
_generic = np.generic


class WireError(ValueError):
    """Bytes that are not a valid frame or value, or a value that cannot be sent."""


class TooLarge(WireError):
    """A value or frame larger than the agreed limit."""

    def __init__(self, message: str, nbytes: int) -> None:
        super().__init__(message)
        self.nbytes = nbytes


@dataclass(frozen=True)
class Opaque:
    """A value the child could not express as plain data (custom object, object array...).

    Only the type name crosses the boundary; the object itself stays in the child.
    """

    type_name: str


@dataclass(frozen=True)
class RngSeed:
    """An argument only: the child turns it into ``numpy.random.default_rng(seed)``."""

    seed: int

    def __post_init__(self) -> None:
        if type(self.seed) is not int or self.seed < 0:
            raise ValueError("RngSeed needs a non-negative int seed")


@dataclass(frozen=True)
class WireLimits:
    """Bounds the decoder enforces on every frame it reads."""

    max_frame_bytes: int = 64 * 2**20
    max_header_bytes: int = 8 * 2**20
    max_depth: int = 32
    max_items: int = 1_000_000
    max_ndim: int = 32
    max_str_chars: int = 1_000_000


# --------------------------------------------------------------------------- frames


@dataclass
class Frame:
    """A decoded frame: the JSON envelope and the raw body its arrays point into."""

    header: dict[str, Any]
    body: bytes


def pack_frame(header: dict[str, Any], buffers: list[memoryview] | None = None) -> list[Any]:
    """Return the pieces of one frame, ready to be written in order.

    ``buffers`` are the array buffers the header refers to; they must have been laid out by
    :class:`Encoder` (which also adds the alignment padding).
    """
    text = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    blen = sum(len(b) for b in buffers or ())
    return [PREFIX.pack(MAGIC, len(text), blen), text, *(buffers or ())]


def frame_bytes(header: dict[str, Any], buffers: list[memoryview] | None = None) -> bytes:
    """One frame as a single bytes object."""
    return b"".join(
        bytes(p) if not isinstance(p, bytes) else p for p in pack_frame(header, buffers)
    )


def parse_prefix(prefix: bytes, limits: WireLimits) -> tuple[int, int]:
    """Validate a frame prefix and return (header length, body length)."""
    magic, hlen, blen = PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise WireError("not a grader frame (bad magic)")
    if hlen > limits.max_header_bytes:
        raise TooLarge(f"header of {hlen} bytes is over the limit", hlen)
    if PREFIX.size + hlen + blen > limits.max_frame_bytes:
        raise TooLarge(f"frame of {PREFIX.size + hlen + blen} bytes is over the limit", hlen + blen)
    return hlen, blen


def _reject_constant(name: str) -> Any:
    raise WireError(f"non-standard JSON constant {name!r}")


def parse_header(raw: bytes) -> dict[str, Any]:
    """Parse a JSON envelope; anything but a JSON object is an error."""
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except WireError:
        raise
    except (ValueError, RecursionError, UnicodeDecodeError, MemoryError) as exc:
        raise WireError(f"header is not valid JSON: {type(exc).__name__}") from None
    if type(header) is not dict:
        raise WireError("header is not a JSON object")
    return header


class FrameReader:
    """Incremental frame parser for bytes arriving from an untrusted pipe.

    ``feed`` never buffers more than one frame's worth of bytes beyond what is needed: it
    refuses a frame whose announced length is over the limit before reading its body.
    """

    #: A body at least this big is read straight into a buffer of its own (``direct``).
    DIRECT_BYTES = 1 << 18

    def __init__(self, limits: WireLimits) -> None:
        self.limits = limits
        self._buf = bytearray()
        self._need: tuple[int, int] | None = None
        self._header: bytes | None = None  # of the big frame being received directly
        self._body: bytearray | None = None
        self._have = 0

    @property
    def pending(self) -> int:
        """Bytes received but not yet returned as a frame."""
        return len(self._buf)

    def read_size(self, small: int = 1 << 16, large: int = 1 << 24) -> int:
        """How much to ask ``read`` for next: the rest of a big frame being received, else
        ``small`` (a huge read buffer for a few bytes costs an allocation every time)."""
        if self._need is None:
            return small
        hlen, blen = self._need
        return max(small, min(large, PREFIX.size + hlen + blen - len(self._buf)))

    def direct(self) -> memoryview | None:
        """Where the next bytes must be read to (the rest of a big body), or None: then
        read ``read_size()`` bytes and ``feed`` them."""
        if self._body is None:
            return None
        return memoryview(self._body)[self._have :]

    def filled(self, n: int) -> Iterator[Frame]:
        """``n`` bytes were read into ``direct()``; the frame, once complete."""
        assert self._body is not None and self._header is not None
        self._have += n
        if self._have < len(self._body):
            return
        header, body = self._header, self._body
        self._header = self._body = None
        self._have = 0
        self._need = None
        yield Frame(parse_header(header), body)  # type: ignore[arg-type]

    def feed(self, data: bytes) -> Iterator[Frame]:
        if self._body is not None:
            raise WireError("feed() while a big frame is being read directly")
        self._buf += data
        while True:
            if self._need is None:
                if len(self._buf) < PREFIX.size:
                    return
                self._need = parse_prefix(bytes(self._buf[: PREFIX.size]), self.limits)
            hlen, blen = self._need
            total = PREFIX.size + hlen + blen
            if len(self._buf) < total:
                start = PREFIX.size + hlen
                if blen >= self.DIRECT_BYTES and len(self._buf) >= start:
                    # Header complete, big body incomplete: the rest goes straight into the
                    # body's own buffer (no growing buffer, no copy out of it).
                    self._body = bytearray(blen)
                    self._have = len(self._buf) - start
                    self._body[: self._have] = self._buf[start:]
                    self._header = bytes(self._buf[PREFIX.size : start])
                    self._buf.clear()
                return
            with memoryview(self._buf) as view:  # one copy of the body, not two
                raw_header = bytes(view[PREFIX.size : PREFIX.size + hlen])
                body = bytes(view[PREFIX.size + hlen : total])
            del self._buf[:total]
            self._need = None
            yield Frame(parse_header(raw_header), body)


# --------------------------------------------------------------------------- encoding


def _float_tag(x: float) -> list[Any]:
    if math.isnan(x):
        return ["f", "nan"]
    if math.isinf(x):
        return ["f", "inf" if x > 0 else "-inf"]
    return ["f", x]


def _type_name(value: Any) -> str:
    cls = type(value)
    try:
        name = type.__getattribute__(cls, "__qualname__")
    except Exception:
        name = "object"
    return name if isinstance(name, str) else "object"


def _wire_array(arr: np.ndarray) -> np.ndarray | None:
    """The base-ndarray, little-endian, C-contiguous form of ``arr``, or None if impossible.

    Viewing as the base class never calls subclass methods.  Floats wider than float64
    (longdouble) become float64; complex, object, string and structured arrays are refused.
    """
    base = _ndarray.view(arr, _ndarray)
    kind = base.dtype.kind
    if kind not in "biuf" or base.dtype.fields is not None:
        return None
    if kind == "f" and base.dtype.itemsize > 8:
        base = base.astype("<f8")
    dt = base.dtype.newbyteorder("<") if base.dtype.itemsize > 1 else base.dtype
    out = _ndarray.astype(base, dt, order="C", copy=False)
    if out.dtype.str not in DTYPES:
        return None
    return out


@dataclass
class Encoder:
    """Turns Python values into tagged JSON plus array buffers.

    ``strict`` (used by the parent for arguments) raises on anything that is not plain data;
    otherwise (used by the child for results) such values become :class:`Opaque`.
    Identical array objects are sent once and referenced twice; the decoder makes a fresh
    copy per reference, so sharing never leaks between calls.
    """

    strict: bool = False
    max_bytes: int = 64 * 2**20
    max_depth: int = 32
    max_items: int = 1_000_000
    buffers: list[memoryview] = field(default_factory=list)
    nbytes: int = 0
    items: int = 0
    _memo: dict[int, tuple[np.ndarray, list[Any]]] = field(default_factory=dict)

    def encode(self, value: Any, depth: int = 0) -> list[Any]:
        self.items += 1
        if self.items > self.max_items:
            raise TooLarge(f"more than {self.max_items} values", self.nbytes)
        if depth > self.max_depth:
            raise WireError(f"nested more than {self.max_depth} levels deep")
        if value is None:
            return ["n"]
        # Decide on the real type (``type``, ``issubclass``), never on ``isinstance``, which a
        # student object can fool with a ``__class__`` property; convert with the base
        # class's own methods, never the object's overrides.
        cls = type(value)
        if cls is bool or cls is np.bool_:
            return ["b", bool(value)]
        if issubclass(cls, int):
            return ["i", int.__int__(value)]
        if issubclass(cls, np.integer):
            return ["i", int(value)]
        if issubclass(cls, float):
            return _float_tag(float.__float__(value))
        if issubclass(cls, np.floating):
            return _float_tag(float(value))
        if issubclass(cls, str):
            return ["s", str.__str__(value)]
        if cls is RngSeed:
            return ["r", value.seed]
        if issubclass(cls, _ndarray):
            return self._array(value)
        if issubclass(cls, tuple):
            return ["t", [self.encode(v, depth + 1) for v in tuple.__iter__(value)]]
        if issubclass(cls, list):
            return ["l", [self.encode(v, depth + 1) for v in list.__iter__(value)]]
        if issubclass(cls, dict):
            return self._dict(value, depth)
        if cls is Opaque:
            return ["o", value.type_name]
        return self._opaque(value)

    def _opaque(self, value: Any, suffix: str = "") -> list[Any]:
        if self.strict:
            raise WireError(f"cannot send a {_type_name(value)}{suffix}")
        return ["o", (_type_name(value) + suffix)[:200]]

    def _dict(self, value: dict[Any, Any], depth: int) -> list[Any]:
        pairs = []
        for key, item in dict.items(value):
            if type(key) is not str:
                return self._opaque(value, " with non-string keys")
            pairs.append([key, self.encode(item, depth + 1)])
        return ["d", pairs]

    def _array(self, value: np.ndarray) -> list[Any]:
        memo = self._memo.get(id(value))
        if memo is not None and memo[0] is value:
            return memo[1]
        arr = _wire_array(value)
        if arr is None:
            return self._opaque(value, f"[{_ndarray.view(value, _ndarray).dtype}]")
        size = arr.nbytes
        if self.nbytes + size > self.max_bytes:
            raise TooLarge(f"{self.nbytes + size} bytes of array data", self.nbytes + size)
        offset = self.nbytes
        self.buffers.append(memoryview(arr).cast("B") if size else memoryview(b""))
        pad = -size % ALIGN
        if pad:
            self.buffers.append(memoryview(b"\0" * pad))
        self.nbytes += size + pad
        tag = ["a", arr.dtype.str, list(arr.shape), offset, size]
        self._memo[id(value)] = (value, tag)
        return tag


# --------------------------------------------------------------------------- decoding


@dataclass
class Decoder:
    """Turns tagged JSON plus a body back into values, validating everything.

    ``rng`` (child side) turns an RngSeed into a Generator; without it RngSeed is kept as is.
    ``allow_rng`` / ``allow_opaque`` say which of the two special tags this side accepts.
    """

    body: bytes
    limits: WireLimits = field(default_factory=WireLimits)
    allow_rng: bool = False
    allow_opaque: bool = True
    rng: Callable[[int], Any] | None = None
    items: int = 0

    def decode(self, node: Any, depth: int = 0) -> Any:
        self.items += 1
        if self.items > self.limits.max_items:
            raise WireError("too many values")
        if depth > self.limits.max_depth:
            raise WireError("nested too deeply")
        if type(node) is not list or not node or type(node[0]) is not str:
            raise WireError("malformed value")
        tag, args = node[0], node[1:]
        handler = _HANDLERS.get(tag)
        if handler is None:
            raise WireError(f"unknown value tag {tag!r}")
        return handler(self, args, depth)

    def _none(self, args: list[Any], depth: int) -> None:
        _arity(args, 0)

    def _bool(self, args: list[Any], depth: int) -> bool:
        _arity(args, 1)
        if type(args[0]) is not bool:
            raise WireError("bad bool")
        return args[0]

    def _int(self, args: list[Any], depth: int) -> int:
        _arity(args, 1)
        if type(args[0]) is not int:
            raise WireError("bad int")
        return args[0]

    def _float(self, args: list[Any], depth: int) -> float:
        _arity(args, 1)
        x = args[0]
        if type(x) is float or type(x) is int:
            return float(x)
        special = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
        if type(x) is str and x in special:
            return special[x]
        raise WireError("bad float")

    def _str(self, args: list[Any], depth: int) -> str:
        _arity(args, 1)
        if type(args[0]) is not str or len(args[0]) > self.limits.max_str_chars:
            raise WireError("bad string")
        return args[0]

    def _seq(self, args: list[Any], depth: int) -> list[Any]:
        _arity(args, 1)
        if type(args[0]) is not list:
            raise WireError("bad sequence")
        return [self.decode(v, depth + 1) for v in args[0]]

    def _tuple(self, args: list[Any], depth: int) -> tuple[Any, ...]:
        return tuple(self._seq(args, depth))

    def _dict(self, args: list[Any], depth: int) -> dict[str, Any]:
        _arity(args, 1)
        if type(args[0]) is not list:
            raise WireError("bad dict")
        out: dict[str, Any] = {}
        for pair in args[0]:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise WireError("bad dict entry")
            if pair[0] in out or len(pair[0]) > self.limits.max_str_chars:
                raise WireError("bad dict key")
            out[pair[0]] = self.decode(pair[1], depth + 1)
        return out

    def _array(self, args: list[Any], depth: int) -> np.ndarray:
        _arity(args, 4)
        dtype, shape, offset, nbytes = args
        if type(dtype) is not str or dtype not in DTYPES:
            raise WireError(f"dtype {dtype!r} not allowed")
        if type(shape) is not list or len(shape) > self.limits.max_ndim:
            raise WireError("bad shape")
        count = 1
        for dim in shape:
            if type(dim) is not int or dim < 0:
                raise WireError("bad shape")
            count *= dim
        if type(offset) is not int or type(nbytes) is not int or offset < 0 or nbytes < 0:
            raise WireError("bad buffer reference")
        dt = np.dtype(dtype)
        if count * dt.itemsize != nbytes or offset + nbytes > len(self.body):
            raise WireError("array shape does not match its buffer")
        if count == 0:
            return np.zeros(tuple(shape), dtype=dt)
        if dt.kind == "b":  # normalise: a byte other than 0/1 must not become a strange bool
            raw = _frombuffer(self.body, dtype=np.uint8, count=count, offset=offset)
            return (raw != 0).reshape(tuple(shape))
        return (
            _frombuffer(self.body, dtype=dt, count=count, offset=offset)
            .reshape(tuple(shape))
            .copy()
        )

    def _rng(self, args: list[Any], depth: int) -> Any:
        _arity(args, 1)
        seed = args[0]
        if not self.allow_rng or type(seed) is not int or seed < 0 or seed.bit_length() > 128:
            raise WireError("bad rng seed")
        return self.rng(seed) if self.rng else RngSeed(seed)

    def _opaque(self, args: list[Any], depth: int) -> Opaque:
        _arity(args, 1)
        if not self.allow_opaque or type(args[0]) is not str or len(args[0]) > 200:
            raise WireError("bad opaque value")
        return Opaque(args[0])


def _arity(args: list[Any], n: int) -> None:
    if len(args) != n:
        raise WireError("malformed value")


_HANDLERS: dict[str, Callable[[Decoder, list[Any], int], Any]] = {
    "n": Decoder._none,
    "b": Decoder._bool,
    "i": Decoder._int,
    "f": Decoder._float,
    "s": Decoder._str,
    "l": Decoder._seq,
    "t": Decoder._tuple,
    "d": Decoder._dict,
    "a": Decoder._array,
    "r": Decoder._rng,
    "o": Decoder._opaque,
}


# --------------------------------------------------------------------------- conveniences


def encode_values(
    values: dict[str, Any], *, strict: bool, max_bytes: int, max_depth: int = 32
) -> tuple[dict[str, Any], list[memoryview]]:
    """Encode several named values sharing one body; returns (tagged dict, buffers)."""
    enc = Encoder(strict=strict, max_bytes=max_bytes, max_depth=max_depth)
    tagged = {name: enc.encode(v) for name, v in values.items()}
    return tagged, enc.buffers


def decode_value(frame_body: bytes, node: Any, limits: WireLimits | None = None) -> Any:
    """Decode one tagged value of a reply (parent side: Opaque allowed, RngSeed not).

    Every failure, including ones numpy raises on absurd shapes, becomes a WireError.
    """
    try:
        return Decoder(frame_body, limits or WireLimits()).decode(node)
    except WireError:
        raise
    except (ValueError, TypeError, OverflowError, MemoryError, RecursionError) as exc:
        raise WireError(f"undecodable value: {type(exc).__name__}") from None


def roundtrip(value: Any, limits: WireLimits | None = None) -> Any:
    """Encode then decode ``value`` as a reply would be (used by tests and by doctor)."""
    tagged, buffers = encode_values({"v": value}, strict=False, max_bytes=2**62)
    data = frame_bytes({"v": tagged["v"]}, buffers)
    frames = list(FrameReader(limits or WireLimits(max_frame_bytes=2**62)).feed(data))
    return decode_value(frames[0].body, frames[0].header["v"], limits)
