"""The sandbox API and its wire format: values round-trip exactly, bad bytes are refused,
student code is loaded and called the way a student expects."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from grader.loading import LoadedSource, SourceChunk
from grader.sandbox import (
    CallError,
    Limits,
    Opaque,
    RngSeed,
    Sandbox,
    WireError,
    describe_isolation,
    wire,
)
from tests.sources import notebook, python_file

FAST = Limits(call_seconds=2.0, load_seconds=3.0, submission_seconds=30.0, memory_mb=512)


ECHO = "def echo(*args):\n    return args[0] if len(args) == 1 else args\n"


@pytest.fixture(scope="module")
def echo_box():
    with Sandbox(notebook(ECHO), FAST) as box:
        assert box.start().ok
        yield box


def same(a, b) -> bool:
    """Exact structural equality, including types, dtypes, shapes, NaN and -0.0."""
    if isinstance(a, np.ndarray):
        return (
            type(b) is np.ndarray
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    if isinstance(a, float):
        return type(b) is float and (
            (math.isnan(a) and math.isnan(b))
            or (a == b and math.copysign(1, a) == math.copysign(1, b))
        )
    if isinstance(a, tuple | list):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


VALUES = [
    None,
    True,
    False,
    0,
    -(2**70),
    1.5,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    "héllo",
    np.array(3.25),  # 0-d
    np.zeros((0, 3)),  # empty
    np.zeros((2, 0, 4), dtype=np.int32),
    np.arange(12, dtype=np.float64).reshape(3, 4),
    np.array([True, False, True]),
    np.arange(6, dtype=np.uint8).reshape(2, 3),
    np.array([np.nan, np.inf, -np.inf, -0.0]),
    {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1)), "b2": 0.5},
    (1.0, [2, (3.0, {"k": np.arange(3)})], {}),
    [],
    (),
]
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
DTYPES += ["float16", "float32", "float64"]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_wire_roundtrip_in_process(value):
    assert same(value, wire.roundtrip(value))


def test_every_supported_value_round_trips_through_the_child(echo_box):
    outcomes = echo_box.call_many("echo", [(v,) for v in VALUES])
    for value, out in zip(VALUES, outcomes, strict=True):
        assert out.ok, out.error
        assert same(value, out.value), (value, out.value)
        assert same((value,), out.args_after)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_numeric_dtype_round_trips(echo_box, dtype):
    a = (np.arange(24) % 3).astype(dtype).reshape(2, 3, 4)
    out = echo_box.call("echo", (a,))
    assert out.ok and same(a, out.value)


def test_layout_is_normalised_to_little_endian_c_order(echo_box):
    a = np.arange(12.0).reshape(3, 4)
    for variant in (a.T, a[:, ::2], a.astype(">f8"), np.asfortranarray(a)):
        out = echo_box.call("echo", (variant,))
        assert out.ok and np.array_equal(out.value, variant)
        assert out.value.dtype == np.dtype("<f8") and out.value.flags.c_contiguous


def test_numpy_scalars_become_python_scalars():
    box_src = notebook(
        "import numpy as np\n"
        "def scalars():\n"
        "    return (np.float64(1.5), np.float32(2.5), np.int64(3), np.uint8(4), np.bool_(True),"
        " np.longdouble(0.25))\n"
    )
    with Sandbox(box_src, FAST) as box:
        out = box.call("scalars", ())
    assert out.ok
    assert out.value == (1.5, 2.5, 3, 4, True, 0.25)
    assert [type(v) for v in out.value] == [float, float, int, int, bool, float]


def test_rng_seed_becomes_a_generator_in_the_child():
    code = "def draw(rng, n):\n    return type(rng).__name__, rng.standard_normal(n)\n"
    with Sandbox(notebook(code), FAST) as box:
        out = box.call("draw", (RngSeed(7), 4))
    assert out.ok
    name, values = out.value
    assert name == "Generator"
    assert np.array_equal(values, np.random.default_rng(7).standard_normal(4))
    assert out.args_after == (Opaque("Generator"), 4)


def test_values_that_are_not_plain_data_come_back_opaque():
    code = """
import numpy as np
class Liar:
    def __eq__(self, other):
        return True
class Sub(np.ndarray):
    def __eq__(self, other):
        return True
def liar(): return Liar()
def objarr(): return np.array([1, "a", None], dtype=object)
def complexarr(): return np.ones(2) * 1j
def intkeys(): return {1: 2.0}
def sub(): return np.arange(3.0).view(Sub)
def func(): return liar
def strarr(): return np.array(["a", "b"])
"""
    names = ["liar", "objarr", "complexarr", "intkeys", "sub", "func", "strarr"]
    with Sandbox(notebook(code), FAST) as box:
        got = {n: box.call(n, ()).value for n in names}
    assert got["liar"] == Opaque("Liar")
    assert got["objarr"] == Opaque("Sub".replace("Sub", "ndarray[object]"))
    assert got["complexarr"] == Opaque("ndarray[complex128]")
    assert got["intkeys"] == Opaque("dict with non-string keys")
    assert type(got["sub"]) is np.ndarray and np.array_equal(got["sub"], [0.0, 1.0, 2.0])
    assert got["func"] == Opaque("function")
    assert isinstance(got["strarr"], Opaque)


def test_parent_refuses_to_send_non_plain_arguments(echo_box):
    with pytest.raises(TypeError):
        echo_box.call("echo", (object(),))
    with pytest.raises(TypeError):
        echo_box.call("echo", (np.array([1, None], dtype=object),))


# --------------------------------------------------------------------------- hostile bytes


def frame(header: dict | bytes, body: bytes = b"", *, magic: bytes = b"GSB1", hlen=None, blen=None):
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    hl = len(raw) if hlen is None else hlen
    bl = len(body) if blen is None else blen
    return struct.pack("<4sIQ", magic, hl, bl) + raw + body


def read_frames(data: bytes, limits: wire.WireLimits | None = None):
    return list(wire.FrameReader(limits or wire.WireLimits()).feed(data))


def decode(header_value, body=b"", limits=None):
    return wire.decode_value(body, header_value, limits)


def test_decoder_accepts_a_well_formed_frame():
    body = np.arange(6.0).tobytes()
    frames = read_frames(frame({"v": ["a", "<f8", [2, 3], 0, 48]}, body))
    assert np.array_equal(
        decode(frames[0].header["v"], frames[0].body), np.arange(6.0).reshape(2, 3)
    )


@pytest.mark.parametrize(
    "data",
    [
        frame({"v": ["n"]}, magic=b"EVIL"),
        frame({"v": ["n"]}, hlen=2**31),  # header length over the limit
        frame({"v": ["n"]}, blen=2**40),  # body length over the limit
        frame(b"not json"),
        frame(b"[1, 2]"),  # not an object
        frame(b'{"v": NaN}'),
        frame(b'{"v": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        frame(b"\xff\xfe{}"),
    ],
    ids=["magic", "hlen", "blen", "json", "array", "nan", "deep-json", "utf8"],
)
def test_decoder_rejects_malformed_frames(data):
    with pytest.raises(WireError):
        read_frames(data)


def test_decoder_never_buffers_an_oversized_frame():
    reader = wire.FrameReader(wire.WireLimits(max_frame_bytes=1000))
    with pytest.raises(WireError):
        list(reader.feed(frame({"v": ["n"]}, blen=10_000)[:20]))


BODY = np.arange(4.0).tobytes()


@pytest.mark.parametrize(
    "value",
    [
        ["a", "|O", [1], 0, 8],  # object dtype
        ["a", "<c16", [1], 0, 16],  # complex
        ["a", ">f8", [4], 0, 32],  # big-endian not on the wire
        ["a", "<f8", [5], 0, 32],  # shape says more than the buffer
        ["a", "<f8", [2, 2], 8, 32],  # runs past the body
        ["a", "<f8", [-4], 0, 32],
        ["a", "<f8", [4], -8, 32],
        ["a", "<f8", [1] * 40, 0, 8],  # too many dimensions
        ["a", "<f8", [2**40, 2**40], 0, 32],
        ["a", "<f8", "4", 0, 32],
        ["x", 1],  # unknown tag
        ["f", "1e999x"],
        ["i", 1.5],
        ["b", 1],
        ["d", [[1, ["n"]]]],  # non-string key
        ["d", [["k", ["n"]], ["k", ["n"]]]],  # duplicate key
        ["r", 5],  # RngSeed is for arguments only
        ["s", 5],
        "plain",
        ["l", [["l", [["l", [["l", [["n"]]]]]]]]],  # depth over a limit of 2 (below)
        ["o", "x" * 1000],
    ],
)
def test_decoder_rejects_forged_values(value):
    limits = wire.WireLimits(max_depth=2)
    with pytest.raises(WireError):
        decode(value, BODY, limits)


def test_decoder_bounds_item_count():
    value = ["l", [["n"]] * 1000]
    with pytest.raises(WireError):
        decode(value, b"", wire.WireLimits(max_items=100))


def test_decoder_normalises_bool_bytes_and_copies_buffers():
    body = bytes([0, 1, 2, 255])
    arr = decode(["a", "|b1", [4], 0, 4], body)
    assert arr.tolist() == [False, True, True, True]
    assert arr.view(np.uint8).tolist() == [0, 1, 1, 1]
    floats = decode(["a", "<f8", [4], 0, 32], BODY)
    floats[0] = 99.0  # writable, owns its memory
    assert floats.flags.owndata or floats.base is not None


# --------------------------------------------------------------------------- loading


def test_syntax_error_in_chunk_two_of_three_keeps_the_others():
    src = LoadedSource(
        Path("nb.ipynb"),
        "ipynb",
        (
            SourceChunk("def first():\n    return 1\n", "cell 1", "<cell 1>"),
            SourceChunk("x = 1\ndef broken(:\n    pass\n", "cell 2", "<cell 2>"),
            SourceChunk("def third():\n    return 3\n", "cell 3", "<cell 3>"),
        ),
    )
    with Sandbox(src, FAST) as box:
        loaded = box.start()
        assert loaded.names == {"first": "function", "third": "function"}
        (err,) = loaded.chunk_errors
        assert (err.label, err.line, err.kind) == ("cell 2", 2, "syntax")
        assert "def broken(:" in err.message
        assert box.call("third", ()).value == 3


def test_line_numbers_are_mapped_through_first_line():
    src = LoadedSource(
        Path("folder"),
        "folder",
        (SourceChunk("a = 1\n\nb = undefined_name\n", "helpers.py", "helpers.py", first_line=10),),
    )
    with Sandbox(src, FAST) as box:
        (err,) = box.start().chunk_errors
    assert (err.label, err.line, err.kind) == ("helpers.py", 12, "exception")
    assert "NameError" in err.message


def test_top_level_errors_are_reported_and_loading_continues():
    code = "import numpy as np\ndata = np.load('missing.npy')\ndef f():\n    return 2\n"
    with Sandbox(python_file(code), FAST) as box:
        loaded = box.start()
        assert loaded.names["f"] == "function"
        (err,) = loaded.chunk_errors
        assert err.label == "solution.py" and err.line == 2 and "FileNotFoundError" in err.message
        assert box.call("f", ()).value == 2


def test_names_display_and_ipython_stub():
    code = (
        "import numpy as np\nclass Model: pass\nx = np.zeros(2)\nk = 3\n"
        "display(x, 'hi')\nget_ipython().run_line_magic('matplotlib', 'inline')\n"
        "f = lambda z: z\nrelu = np.maximum\n"
    )
    with Sandbox(notebook(code), FAST) as box:
        loaded = box.start()
    assert loaded.chunk_errors == []
    assert loaded.names == {
        "np": "module",
        "Model": "type",
        "x": "ndarray",
        "k": "int",
        "f": "function",
        "relu": "function",
    }
    assert loaded.stdout == "array([0., 0.])\n'hi'\n"


def test_traceback_shows_only_student_frames_with_student_line_numbers():
    cell4 = (
        "import numpy as np\n"
        "def helper(a, b):\n"
        "    return a + b\n"
        "def sigmoid2_backward(X):\n"
        "    return helper(X, X.T)\n"
    )
    src = LoadedSource(
        Path("nb.ipynb"),
        "ipynb",
        (SourceChunk("pass\n", "cell 1", "<cell 1>"), SourceChunk(cell4, "cell 4", "<cell 4>", 1)),
    )
    with Sandbox(src, FAST) as box:
        out = box.call("sigmoid2_backward", (np.ones((2, 3)),))
    assert out.error is not None and out.error.kind == "exception"
    assert "ValueError: operands could not be broadcast" in out.error.message
    lines = out.error.traceback.splitlines()
    assert lines[0] == "cell 4, line 5, in sigmoid2_backward"
    assert lines[1].strip() == "return helper(X, X.T)"
    assert lines[2] == "cell 4, line 3, in helper"
    assert "_sbx" not in out.error.traceback and "grader" not in out.error.traceback


# --------------------------------------------------------------------------- calls


def test_exceptions_leave_the_child_usable_and_missing_names_are_reported():
    code = "def bad(x):\n    raise ValueError('nope')\ndef good(x):\n    return x * 2\nn = 3\n"
    with Sandbox(notebook(code), FAST) as box:
        assert box.call("bad", (1,)).error.kind == "exception"
        assert box.call("good", (2,)).value == 4
        assert box.call("absent", ()).error == CallError("missing", "absent is not defined")
        assert box.call("n", ()).error.kind == "not_callable"


def test_call_many_times_each_call_and_attributes_output():
    code = "import time\ndef f(i):\n    print('call', i)\n    time.sleep(0.05 * i)\n    return i\n"
    with Sandbox(notebook(code), FAST) as box:
        outs = box.call_many("f", [(i,) for i in range(4)])
    assert [o.value for o in outs] == [0, 1, 2, 3]
    assert [o.stdout for o in outs] == [f"call {i}\n" for i in range(4)]
    # Each call has a duration of its own (how long is the business of bench/, not of a test).
    assert all(isinstance(o.seconds, float) and o.seconds >= 0 for o in outs)


def test_args_after_reveals_modified_inputs():
    code = "def inplace(params):\n    params['W'] -= 1\n    return None\n"
    with Sandbox(notebook(code), FAST) as box:
        params = {"W": np.ones(2)}
        out = box.call("inplace", (params,))
        assert np.array_equal(params["W"], np.ones(2))  # the parent's copy is untouched
        assert np.array_equal(out.args_after[0]["W"], np.zeros(2))
        assert box.call("inplace", (params,), return_args=False).args_after is None


def test_shared_argument_arrays_are_independent_copies_in_the_child():
    code = "def bump(a):\n    a += 1\n    return a.sum()\n"
    x = np.zeros(3)
    with Sandbox(notebook(code), FAST) as box:
        outs = box.call_many("bump", [(x,), (x,), (x,)])
    assert [o.value for o in outs] == [3.0, 3.0, 3.0]


def test_calls_after_close_raise_and_close_is_idempotent():
    box = Sandbox(notebook(ECHO), FAST)
    assert box.call("echo", (1,)).value == 1  # start() is implicit
    box.close()
    box.close()
    with pytest.raises(RuntimeError):
        box.call("echo", (1,))


def test_submission_budget_is_enforced():
    code = "import time\ndef slow():\n    time.sleep(0.6)\n    return 1\n"
    limits = Limits(call_seconds=5, load_seconds=5, submission_seconds=1.0)
    with Sandbox(notebook(code), limits) as box:
        first = box.call("slow", ())
        second = box.call("slow", ())
        restarts = box.restarts
        third = box.call("slow", ())
        assert box.restarts == restarts and box.seconds_left == 0
    assert first.ok
    assert second.error.kind == "budget"
    assert third.error.kind == "budget" and "budget" in third.error.message
    assert third.seconds == 0.0 and third.error.message.startswith("not run")  # refused


# --------------------------------------------------------------------------- diagnostic calls


HANGS = (
    "import time\ndef forward(x):\n    while x < 0:\n        time.sleep(0.01)\n    return 2 * x\n"
)


def test_a_diagnostic_call_that_hangs_costs_no_budget_and_no_strike():
    limits = Limits(
        call_seconds=0.3, load_seconds=3, submission_seconds=30, memory_mb=512, strikes=1
    )
    with Sandbox(notebook(HANGS), limits) as box:
        assert box.call("forward", (1.0,)).value == 2.0
        before = box.seconds_left
        (hung,) = box.call_many("forward", [(-1.0,)], return_args=False, diagnostic=True)
        assert hung.error.kind == "timeout"
        assert box.seconds_left == before  # neither the call nor the restart is charged
        assert 0 < box.diagnostic_seconds_left < limits.diagnostic_seconds
        assert box.restarts == 1  # the child was killed and a fresh one already serves
        # No strike: with strikes=1 a normal timeout would bar every later call of forward.
        assert box.call("forward", (3.0,)).value == 6.0
        outs = box.call_many("forward", [(1.0,), (2.0,)], return_args=False, diagnostic=True)
        assert [o.value for o in outs] == [2.0, 4.0] and outs[0].args_after is None


def test_diagnostic_calls_are_skipped_once_their_cap_is_spent():
    limits = Limits(
        call_seconds=5,
        load_seconds=3,
        submission_seconds=30,
        memory_mb=512,
        diagnostic_seconds=0.5,
    )
    with Sandbox(notebook(HANGS), limits) as box:
        box.start()
        before = box.seconds_left
        # The cap, not call_seconds, stops this one; the rest of its batch is not run.
        outs = box.call_many("forward", [(-1.0,), (1.0,)], diagnostic=True)
        assert [o.error.kind for o in outs] == ["budget", "budget"]
        assert "diagnosis skipped" in outs[0].error.message
        assert box.diagnostic_seconds_left == 0 and box.seconds_left == before
        skipped = box.call_many("forward", [(1.0,), (2.0,)], diagnostic=True)
        assert [o.error.kind for o in skipped] == ["budget", "budget"]
        assert all("diagnosis skipped" in o.error.message for o in skipped)
        assert box.restarts == 1  # skipped: nothing ran, nothing restarted
        assert box.call("forward", (1.0,)).value == 2.0  # normal calls go on


def test_diagnostic_calls_are_skipped_when_the_budget_runs_short():
    limits = Limits(call_seconds=1, load_seconds=3, submission_seconds=20, memory_mb=512)
    with Sandbox(notebook(HANGS), limits) as box:
        box.start()
        box._spent = 0.8 * limits.submission_seconds  # 4 s left: less than 25 % of 20 s
        outs = box.call_many("forward", [(1.0,)], diagnostic=True)
        assert outs[0].error.kind == "budget" and "diagnosis skipped" in outs[0].error.message
        assert box.diagnostic_seconds_left == limits.diagnostic_seconds
        assert box.call("forward", (1.0,)).value == 2.0


def test_diagnostic_seconds_is_a_limit():
    assert Limits().diagnostic_seconds == 2.0
    assert Limits(diagnostic_seconds=0).diagnostic_seconds == 0
    with pytest.raises(ValueError):
        Limits(diagnostic_seconds=-1)


def test_describe_isolation_explains_the_mode():
    info = describe_isolation()
    assert info.mode in ("strong", "fallback")
    assert info.reason
    assert info.protects
    if info.mode == "fallback":
        assert info.does_not_protect


def test_starts_and_calls_in_each_mode(mode):
    """(How fast it starts is measured by ``python -m bench``, not asserted here.)"""
    with Sandbox(notebook(ECHO), FAST, isolation=mode) as box:
        assert box.start().ok
        assert box.call("echo", (1,)).value == 1
        assert box.mode == mode and box.restarts == 0


def test_strong_mode_is_there_when_required():
    """With GRADER_SANDBOX=strong (e.g. in CI), losing strong isolation fails instead of
    silently skipping every strong-mode test."""
    import os

    if os.environ.get("GRADER_SANDBOX", "").strip().lower() != "strong":
        pytest.skip("GRADER_SANDBOX=strong is not set")
    info = describe_isolation()
    assert info.mode == "strong", info.reason


# --------------------------------------------------------------------------- big arguments


def test_arguments_come_back_in_full_whatever_the_student_patches():
    """The child never claims an argument is "unchanged": every argument comes back as a
    plain array, even when the submission rebinds numpy's comparison functions or reaches
    the child's copy of the wire module, and the parent decides what was modified."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "np.array_equal = lambda *a, **k: True\n"
        "np.frombuffer = lambda *a, **k: np.zeros(0)\n"
        "for m in list(sys.modules.values()):\n"
        "    if getattr(m, '__name__', '').endswith('wire'):\n"
        "        for attr in ('_same_bytes', '_unchanged'):\n"
        "            setattr(m, attr, lambda *a, **k: True)\n"
        "def keep(params, x):\n"
        "    return float(params['W'].sum())\n"
        "def scale(params, x):\n"
        "    params['W'] *= 2\n"
        "    x[0] = -1.0\n"
        "    return None\n"
        "def swap(params, x):\n"
        "    params['W'] = params['W'].copy()\n"
        "    params['extra'] = np.ones(1000)\n"
        "    return params['W']\n"
    )
    params = {"W": np.arange(10_000, dtype=np.float64).reshape(100, 100), "b": np.zeros((100, 1))}
    x = np.linspace(0, 1, 5000).astype(">f8")  # not in wire byte order: normalised
    with Sandbox(notebook(code), FAST) as box:
        kept = box.call("keep", (params, x))
        scaled = box.call("scale", (params, x))
        swapped = box.call("swap", (params, x))
    assert kept.value == float(params["W"].sum())
    after_params, after_x = kept.args_after
    assert same(params["W"], after_params["W"]) and same(params["b"], after_params["b"])
    assert np.array_equal(after_x, x) and after_x.dtype == np.dtype("<f8")
    after_params["W"][0, 0] = 99.0  # a copy of its own, not a view of what was sent
    assert params["W"][0, 0] == 0.0
    changed_params, changed_x = scaled.args_after
    assert np.array_equal(changed_params["W"], 2 * params["W"])
    assert changed_x[0] == -1.0 and np.array_equal(changed_x[1:], x[1:])
    swapped_params, _ = swapped.args_after
    assert swapped_params.keys() == {"W", "b", "extra"}
    assert np.array_equal(swapped_params["W"], params["W"])
    assert np.array_equal(swapped.value, params["W"])


def test_the_parent_refuses_an_unchanged_tag():
    """A forged "u" ("unchanged") tag in a reply is an error, never a view of what was sent."""
    assert "u" not in wire._HANDLERS
    for node in (
        ["u", [0, "W"]],
        ["l", [["u", [0]]]],
        ["t", [["a", "<f8", [0], 0, 0], ["u", [1]]]],
    ):
        with pytest.raises(WireError, match="unknown value tag"):
            decode(node, b"")


def test_a_big_frame_is_read_straight_into_its_own_buffer():
    body = np.arange(100_000, dtype=np.float64).tobytes()
    data = frame({"v": ["a", "<f8", [100_000], 0, len(body)]}, body)
    reader = wire.FrameReader(wire.WireLimits(max_frame_bytes=2**24))
    got = list(reader.feed(data[:5000]))
    target = reader.direct()
    assert got == [] and target is not None and len(target) == len(data) - 5000
    pos = 5000
    while target is not None:
        piece = data[pos : pos + 70_000]
        target[: len(piece)] = piece
        pos += len(piece)
        got += list(reader.filled(len(piece)))
        target = reader.direct()
    (whole,) = got
    assert np.array_equal(decode(whole.header["v"], whole.body), np.arange(100_000.0))
    assert reader.pending == 0 and list(reader.feed(frame({"v": ["n"]}))) != []


def test_strong_plan_never_masks_inside_a_mask(monkeypatch, tmp_path):
    """A non-editable install puts grader/ inside a masked site-packages: mask it once."""
    from grader.sandbox import isolation

    site_dir = tmp_path / "site-packages"
    (site_dir / "grader").mkdir(parents=True)
    monkeypatch.setattr(isolation.sys, "prefix", str(tmp_path))  # bound into the child's root
    monkeypatch.setattr(isolation, "private_paths", lambda: [str(site_dir / "grader")])
    monkeypatch.setattr(isolation.sys, "path", [*isolation.sys.path, str(site_dir)])
    masks = isolation.strong_plan("/tmp/root", ("numpy",), 64)["masks"]
    assert str(site_dir) in masks
    assert str(site_dir / "grader") not in masks


def test_warnings_raised_by_a_call_come_back_with_it():
    code = "import numpy as np\ndef f(z):\n    return np.exp(z)\n"
    with Sandbox(notebook(code), FAST) as box:
        box.start()
        loud = box.call("f", (np.array([1000.0]),))
        quiet = box.call("f", (np.array([1.0]),))
    assert loud.ok and loud.warnings == ("RuntimeWarning: overflow encountered in exp",)
    assert quiet.ok and quiet.warnings == ()
