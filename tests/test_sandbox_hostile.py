"""Genuinely hostile or broken submissions: the grader must survive each one, keep grading
the honest functions, and leave nothing behind.

Tests that hold in both isolation modes run in both; strong-mode-only threats (network, the
answer key on disk, the report file) are skipped with the reason when strong mode is absent.
"""

from __future__ import annotations

import math
import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from grader.loading import LoadedSource, SourceChunk
from grader.sandbox import Limits, Opaque, Sandbox, describe_isolation
from grader.sandbox.isolation import private_files, project_root
from tests.sources import notebook

LIMITS = Limits(
    call_seconds=0.75,
    load_seconds=0.75,
    submission_seconds=30.0,
    memory_mb=512,
    output_bytes=10_000,
    max_message_bytes=8 * 2**20,
)
STRONG = describe_isolation().mode == "strong"
NEEDS_STRONG = pytest.mark.skipif(
    not STRONG, reason=f"strong isolation unavailable here: {describe_isolation().reason}"
)


def module(code: str) -> LoadedSource:
    return LoadedSource(Path("hostile.py"), "py", (SourceChunk(code, "hostile.py", "hostile.py"),))


HONEST = "def honest(x):\n    return x + 1\n"


def processes_with_arg(marker: str) -> list[int]:
    """Live (non-zombie) processes whose command line contains ``marker``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            state = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def unique_sleep() -> str:
    """A sleep duration that doubles as a unique marker on the command line."""
    return f"1000.{os.getpid()}{time.monotonic_ns() % 10**6:06d}"


# --------------------------------------------------------------------------- time


def test_infinite_loop_in_one_function_times_out_and_the_others_are_graded(mode):
    code = "def spin(x):\n    while True:\n        pass\n" + HONEST
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        out = box.call("spin", (1,))
        assert out.error.kind == "timeout"
        assert "spin took longer than 0.75 s" in out.error.message
        assert box.call("honest", (1,)).value == 2


def test_infinite_loop_at_import_is_stopped_and_the_code_around_it_still_runs(mode):
    code = "def before():\n    return 1\nwhile True:\n    pass\ndef after():\n    return 2\n"
    with Sandbox(module(code), LIMITS, isolation=mode) as box:
        loaded = box.start()
        assert loaded.ok
        assert loaded.names == {"before": "function", "after": "function"}
        (err,) = loaded.chunk_errors
        assert (err.label, err.line, err.kind) == ("hostile.py", 3, "timeout")
        assert box.call("after", ()).value == 2


def test_import_loop_that_swallows_interrupts_is_killed_and_skipped(mode):
    swallow = (
        "import signal\n"
        "signal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "while True:\n"
        "    try:\n"
        "        while True:\n"
        "            pass\n"
        "    except BaseException:\n"
        "        pass\n"
    )
    box = Sandbox(notebook(HONEST, swallow, "def later():\n    return 3\n"), LIMITS, isolation=mode)
    with box:
        loaded = box.start()
        assert loaded.names.keys() >= {"honest", "later"}
        assert [(e.label, e.line, e.kind) for e in loaded.chunk_errors] == [
            ("cell 2", 4, "timeout")
        ]
        # The restarted child skips the statement, so calls do not pay for it again.
        restarts = box.restarts
        assert box.call("later", ()).value == 3
        assert box.call("honest", (1,)).value == 2
        assert box.restarts == restarts


def test_code_that_ignores_sigterm_is_still_killed(mode):
    code = (
        "import signal, time\n"
        "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "def stubborn():\n"
        "    while True:\n"
        "        time.sleep(0.01)\n" + HONEST
    )
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        assert box.call("stubborn", ()).error.kind == "timeout"
        assert box.call("honest", (2,)).value == 3


def test_repeated_timeouts_strike_a_function_out_instead_of_eating_the_budget(mode):
    code = "def spin(x):\n    while True:\n        pass\n" + HONEST
    limits = Limits(call_seconds=0.3, load_seconds=1, submission_seconds=30, memory_mb=512)
    with Sandbox(notebook(code), limits, isolation=mode) as box:
        batch = box.call_many("spin", [(i,) for i in range(50)])
        assert [o.error.kind for o in batch] == ["timeout"] * 50
        assert box.call("spin", (0,)).error.kind == "timeout"
        restarts = box.restarts
        struck = box.call("spin", (0,))
        assert struck.error.kind == "timeout" and "already failed" in struck.error.message
        assert struck.seconds == 0.0 and box.restarts == restarts  # refused, never sent
        assert box.call("honest", (1,)).value == 2
        assert box.seconds_left > 25


# --------------------------------------------------------------------------- memory, stack


MEMORY = Limits(call_seconds=5, load_seconds=5, memory_mb=256)


def test_memory_bomb_in_a_function_is_a_memory_error(mode):
    code = (
        "import numpy as np\n"
        "def bomb():\n"
        "    hoard = []\n"
        "    while True:\n"
        "        hoard.append(np.ones(10**7))\n"
        "def huge():\n"
        "    return np.ones((10**6, 10**6))\n" + HONEST
    )
    with Sandbox(notebook(code), MEMORY, isolation=mode) as box:
        out = box.call("bomb", ())
        assert out.error.kind == "memory" and "256 MB" in out.error.message
        assert box.call("huge", ()).error.kind == "memory"
        assert box.call("honest", (1,)).value == 2


def test_memory_bomb_at_import_is_reported_and_loading_continues(mode):
    code = "import numpy as np\nbig = np.ones(10**10)\nh = [np.ones(10**6) for i in range(10**4)]\n"
    with Sandbox(module(code + HONEST), MEMORY, isolation=mode) as box:
        loaded = box.start()
        assert [(e.line, e.kind) for e in loaded.chunk_errors] == [(2, "memory"), (3, "memory")]
        assert box.call("honest", (1,)).value == 2


def test_deep_recursion_and_native_crashes(mode):
    code = (
        "import sys, ctypes\n"
        "def recurse(n):\n"
        "    return recurse(n + 1)\n"
        "def segfault():\n"
        "    ctypes.string_at(0)\n"
        "def deep_native(n):\n"
        "    sys.setrecursionlimit(10**8)\n"
        "    return deep_native.__call__(n + 1)\n" + HONEST
    )
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        out = box.call("recurse", (0,))
        assert out.error.kind == "exception" and "RecursionError" in out.error.message
        assert box.call("honest", (1,)).value == 2
        crash = box.call("segfault", ())
        assert crash.error.kind == "crashed" and "SIGSEGV" in crash.error.message
        assert box.call("honest", (2,)).value == 3
        assert box.call("deep_native", (0,)).error.kind in ("crashed", "memory", "exception")
        assert box.call("honest", (3,)).value == 4


# --------------------------------------------------------------------------- output


def test_fifty_megabytes_of_output_is_truncated_and_grading_goes_on(mode):
    spam = (
        "import sys\n"
        "LINE = 'x' * 999 + '\\n'\n"
        "def spam():\n"
        "    for _ in range(25_000):\n"
        "        sys.stdout.write(LINE)\n"
        "        sys.stderr.write(LINE)\n"
        "    return 7\n"
    )
    with Sandbox(notebook(spam + "spam()\n", HONEST), LIMITS, isolation=mode) as box:
        loaded = box.start()
        assert loaded.truncated and len(loaded.stdout) + len(loaded.stderr) <= 10_000
        out = box.call("spam", ())
        assert out.value == 7 and out.truncated
        assert len(out.stdout) + len(out.stderr) <= 10_000
        assert out.stdout.startswith("x" * 999)
        assert box.call("honest", (1,)).value == 2
        assert box.restarts == 0  # drained and dropped, never killed for it


def test_endless_output_is_stopped(mode):
    code = "def flood():\n    while True:\n        print('y' * 10_000)\n" + HONEST
    limits = Limits(call_seconds=5, memory_mb=512, output_abort_bytes=20 * 2**20)
    with Sandbox(notebook(code), limits, isolation=mode) as box:
        out = box.call("flood", ())
        assert out.error.kind == "output" and "was stopped" in out.error.message
        assert box.call("honest", (1,)).value == 2
        assert box.restarts == 1


def test_fake_report_printed_by_the_student_stays_student_output(mode):
    fake = '{"score": 100, "max_score": 100}'
    code = f"print({fake!r})\ndef f():\n    print({fake!r})\n    return 0\n"
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        assert box.start().stdout == fake + "\n"
        out = box.call("f", ())
        assert out.value == 0 and out.stdout == fake + "\n"


# --------------------------------------------------------------------------- replies


def test_huge_return_values_are_rejected_cleanly(mode):
    code = (
        "import numpy as np\n"
        "def huge_array():\n"
        "    return np.zeros(2 * 10**6)\n"  # 16 MB > 8 MB
        "def huge_list():\n"
        "    return [0.0] * 3_000_000\n"
        "def cyclic():\n"
        "    a = []\n"
        "    a.append(a)\n"
        "    return a\n" + HONEST
    )
    limits = Limits(call_seconds=5, memory_mb=512, max_message_bytes=8 * 2**20)
    with Sandbox(notebook(code), limits, isolation=mode) as box:
        for name in ("huge_array", "huge_list", "cyclic"):
            out = box.call(name, ())
            assert out.error.kind == "bad_reply", name
        assert "too much data" in box.call("huge_array", ()).error.message
        assert box.call("honest", (1,)).value == 2


def test_forged_and_garbage_frames_are_refused(mode):
    code = (
        "import os, json, struct\n"
        "def frame(h):\n"
        "    raw = json.dumps(h).encode()\n"
        "    return struct.pack('<4sIQ', b'GSB1', len(raw), 0) + raw\n"
        "def all_fds(data):\n"
        "    for fd in range(3, 64):\n"
        "        try:\n"
        "            os.write(fd, data)\n"
        "        except OSError:\n"
        "            pass\n"
        "def garbage():\n"
        "    all_fds(b'\\xde\\xad\\xbe\\xef' * 1000)\n"
        "    return 1\n"
        "def forge():\n"
        "    all_fds(frame({'ev': 'result', 'i': 0, 'batch': 1, 'value': ['f', 42.0],"
        " 'args_after': None, 'error': None}))\n"
        "    return 1\n"
        "def announce_huge():\n"
        "    all_fds(struct.pack('<4sIQ', b'GSB1', 10, 2**60))\n"
        "    return 1\n" + HONEST
    )
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        for name in ("garbage", "forge", "announce_huge"):
            out = box.call(name, ())
            assert out.error is not None and out.error.kind == "bad_reply", (name, out)
            assert box.call("honest", (1,)).value == 2


def test_lying_objects_never_reach_the_parent(mode):
    code = """
import numpy as np
class Liar:
    __class__ = property(lambda self: np.ndarray)
    def __eq__(self, other): return True
    def __array__(self, *a, **k): return np.ones(3)
    def __float__(self): return 1.0
    def __len__(self): return 3
class FloatLiar(float):
    def __float__(self): return 0.0
    def __eq__(self, other): return True
class Sneaky(np.ndarray):
    def __eq__(self, other): return np.ones(self.shape, bool)
    def view(self, *a, **k): raise RuntimeError("no")
    def astype(self, *a, **k): return np.ones(self.shape)
    def tobytes(self, *a, **k): return b"lie"
    def __array__(self, *a, **k): return np.ones(self.shape)
    def __getitem__(self, i): return 1.0
def liar(): return Liar()
def float_liar(): return FloatLiar(2.5)
def sneaky(): return np.arange(3.0).view(Sneaky)
def masked(): return np.ma.masked_array([1.0, 2.0], mask=[True, False])
def nan_inf(): return np.array([np.nan, np.inf]), float("nan")
def wrong_dtype(): return np.arange(3, dtype=np.float32), np.arange(3)
def recarray(): return np.zeros(2, dtype=[("a", "f8")])
"""
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        got = {n: box.call(n, ()) for n in ("liar", "float_liar", "sneaky", "masked", "nan_inf")}
        assert got["liar"].value == Opaque("Liar")
        assert type(got["float_liar"].value) is float and got["float_liar"].value == 2.5
        assert type(got["sneaky"].value) is np.ndarray
        assert np.array_equal(got["sneaky"].value, [0.0, 1.0, 2.0])
        assert type(got["masked"].value) is np.ndarray  # the raw data; the mask is dropped
        arr, x = got["nan_inf"].value
        assert np.isnan(arr[0]) and np.isinf(arr[1]) and math.isnan(x)
        f32, i64 = box.call("wrong_dtype", ()).value
        assert f32.dtype == np.float32 and i64.dtype == np.int64
        assert isinstance(box.call("recarray", ()).value, Opaque)


# --------------------------------------------------------------------------- exits


@pytest.mark.parametrize(
    "statement, kind",
    [
        ("import sys; sys.exit(0)", "exception"),
        ("raise SystemExit(3)", "exception"),
        ("raise KeyboardInterrupt", "exception"),
        ("exit()", "exception"),
        ("import os; os._exit(0)", "crashed"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", None),
    ],
)
def test_exits_at_import_do_not_stop_loading(mode, statement, kind):
    code = "def before():\n    return 1\n" + statement + "\ndef after():\n    return 2\n"
    with Sandbox(module(code), LIMITS, isolation=mode) as box:
        loaded = box.start()
        assert loaded.names.keys() >= {"before", "after"}
        errors = [(e.line, e.kind) for e in loaded.chunk_errors]
        if kind is not None:
            assert errors == [(3, kind)]
        assert box.call("after", ()).value == 2


@pytest.mark.parametrize(
    "body, kind, words",
    [
        ("import sys; sys.exit(0)", "exception", "sys.exit(0)"),
        ("raise SystemExit", "exception", "SystemExit"),
        ("raise KeyboardInterrupt", "exception", "KeyboardInterrupt"),
        ("import os; os._exit(0)", "crashed", "exit code 0"),
    ],
)
def test_exits_inside_a_function_fail_only_that_call(mode, body, kind, words):
    code = f"def quitter():\n    {body}\n" + HONEST
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        out = box.call("quitter", ())
        assert out.error.kind == kind and words in out.error.message
        assert box.call("honest", (1,)).value == 2


# --------------------------------------------------------------------------- reach


def test_monkeypatching_in_the_child_does_not_reach_the_parent(mode):
    code = """
import builtins, math
import numpy as np
import numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
math.isclose = lambda *a, **k: True
builtins.abs = lambda x: 0
builtins.max = lambda *a, **k: 0
def f(x):
    return np.asarray(x) * 2
"""
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        out = box.call("f", (np.arange(3.0),))
    assert np.array_equal(out.value, [0.0, 2.0, 4.0])
    assert not np.allclose(1.0, 2.0) and not math.isclose(1.0, 2.0)
    assert abs(-3) == 3 and max(1, 2) == 2
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(1.0, 2.0)


def test_importing_the_answer_key_or_the_grader_fails(mode):
    code = (
        "def attempt(name):\n"
        "    try:\n"
        "        __import__(name)\n"
        "        return 'imported'\n"
        "    except ImportError as e:\n"
        "        return 'refused'\n"
    )
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        outs = box.call_many("attempt", [("reference",), ("exercises",), ("grader",)])
        assert [o.value for o in outs] == ["refused"] * 3


def test_detached_processes_do_not_survive_close(mode):
    tag_import, tag_call = unique_sleep(), unique_sleep() + "1"
    code = (
        "import os\n"
        "def detach(tag):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            os.closerange(0, 1000)\n"
        "            os.execvp('sleep', ['sleep', tag])\n"
        "        os._exit(0)\n"
        "    os.waitpid(pid, 0)\n"
        "    return pid\n"
        f"detach({tag_import!r})\n"
    )
    box = Sandbox(notebook(code), LIMITS, isolation=mode)
    box.start()
    assert box.call("detach", (tag_call,)).ok
    # Waits for events, generous on a loaded machine; no bound on how fast anything is.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (
        processes_with_arg(tag_import) and processes_with_arg(tag_call)
    ):
        time.sleep(0.02)
    assert processes_with_arg(tag_import) and processes_with_arg(tag_call)
    box.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (
        processes_with_arg(tag_import) or processes_with_arg(tag_call)
    ):
        time.sleep(0.02)
    assert processes_with_arg(tag_import) == [] and processes_with_arg(tag_call) == []


def test_processes_of_a_timed_out_call_are_killed(mode):
    tag = unique_sleep()
    code = (
        "import subprocess, time\n"
        "def spawn_and_hang(tag):\n"
        "    subprocess.Popen(['sleep', tag], start_new_session=True)\n"
        "    while True:\n"
        "        time.sleep(0.01)\n" + HONEST
    )
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        assert box.call("spawn_and_hang", (tag,)).error.kind == "timeout"
        assert processes_with_arg(tag) == []
        assert box.call("honest", (1,)).value == 2


def test_atexit_handlers_never_run(mode, tmp_path):
    report = tmp_path / "report.json"
    report.write_text("genuine")
    code = (
        "import atexit\n"
        f"atexit.register(lambda: open({str(report)!r}, 'w').write('fake'))\n" + HONEST
    )
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        assert box.call("honest", (1,)).value == 2
    assert report.read_text() == "genuine"


# --------------------------------------------------------------------------- strong mode only


STRONG_PROBES = """
import os, socket, sys
def connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return "connected"
    except OSError as e:
        return type(e).__name__
def interfaces():
    with open("/proc/net/dev") as f:
        return [line.split(":")[0].strip() for line in f.readlines()[2:]]
def read(path):
    try:
        with open(path, "rb") as f:
            return f.read(100).decode("latin-1")
    except OSError as e:
        return "refused"
def write(path):
    try:
        with open(path, "w") as f:
            f.write("fake")
        return "written"
    except OSError as e:
        return "refused"
def exists(path):
    return os.path.exists(path)
def pids():
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
def signal(pid):
    try:
        os.kill(pid, 0)
        return "reached"
    except OSError as e:
        return type(e).__name__
def cmdlines():
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                out.append(open(f"/proc/{p}/cmdline", "rb").read().decode("latin-1"))
            except OSError:
                pass
    return out
def whoami():
    return os.getuid(), os.geteuid(), os.getpid(), os.getppid()
def shell(cmd):
    import subprocess
    r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=5)
    return r.returncode, r.stdout[-2000:], r.stderr[-2000:]
"""


@pytest.fixture(scope="module")
def strong_box():
    if not STRONG:
        pytest.skip(f"strong isolation unavailable here: {describe_isolation().reason}")
    with Sandbox(notebook(STRONG_PROBES), LIMITS, isolation="strong") as box:
        assert box.start().ok
        yield box


@NEEDS_STRONG
def test_strong_no_network(strong_box):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    try:
        out = strong_box.call("connect", (server.getsockname()[1],))
        assert out.value in ("OSError", "ConnectionRefusedError", "TimeoutError")
        assert out.value != "connected"
        with pytest.raises(TimeoutError):
            server.accept()
    finally:
        server.close()
    assert strong_box.call("interfaces", ()).value == ["lo"]


@NEEDS_STRONG
def test_strong_answer_key_and_grader_are_invisible(strong_box):
    files = private_files()
    assert files, "expected the grader's own files to be found"
    root = project_root()
    reference = [str(p) for p in Path(root, "reference").rglob("*") if p.is_file()]
    for path in files + reference + [root, str(Path(root, "reference"))]:
        assert strong_box.call("exists", (path,)).value is False, path
        assert strong_box.call("read", (path,)).value == "refused", path
    site_dirs = [p for p in __import__("sys").path if p.endswith("site-packages")]
    for d in site_dirs:
        assert strong_box.call("exists", (os.path.join(d, "grader"),)).value is False
        assert strong_box.call("exists", (os.path.join(d, "numpy"),)).value is True


@NEEDS_STRONG
def test_strong_report_path_cannot_be_written(strong_box, tmp_path):
    report = tmp_path / "report.json"
    report.write_text("genuine")
    for target in (str(report), str(Path(project_root(), "report.json")), "/etc/passwd", "/x"):
        assert strong_box.call("write", (target,)).value == "refused", target
    assert report.read_text() == "genuine"
    assert not Path(project_root(), "report.json").exists()
    # its private /tmp is writable, and private
    assert strong_box.call("write", ("/tmp/scratch",)).value == "written"


@NEEDS_STRONG
def test_strong_other_processes_are_invisible_and_unreachable(strong_box):
    uid, euid, pid, ppid = strong_box.call("whoami", ()).value
    assert uid != 0 and euid != 0 and pid == 1 and ppid == 0
    assert max(strong_box.call("pids", ()).value) < 100
    assert strong_box.call("signal", (os.getpid(),)).value == "ProcessLookupError"
    assert not any("pytest" in c for c in strong_box.call("cmdlines", ()).value)


@NEEDS_STRONG
def test_strong_mounts_cannot_be_undone_from_a_user_namespace(strong_box):
    site = next(p for p in __import__("sys").path if p.endswith("site-packages"))
    cmd = (
        f"unshare -Urm sh -c 'umount -l {site} 2>&1; umount -l / 2>&1; "
        f"ls {site}/grader 2>&1; ls {project_root()} 2>&1; echo done'"
    )
    code, stdout, stderr = strong_box.call("shell", (cmd,)).value
    assert "done" in stdout or "unshare" in stderr
    assert "__init__.py" not in stdout and "pyproject.toml" not in stdout


@NEEDS_STRONG
def test_strong_fork_bomb_is_bounded_and_cleaned_up():
    tag = unique_sleep()
    code = (
        "import os, time\n"
        "def bomb(tag):\n"
        "    n = 0\n"
        "    for _ in range(1000):\n"
        "        try:\n"
        "            if os.fork() == 0:\n"
        "                os.execvp('sleep', ['sleep', tag])\n"
        "            n += 1\n"
        "        except OSError:\n"
        "            break\n"
        "    return n\n" + HONEST
    )
    with Sandbox(notebook(code), LIMITS, isolation="strong") as box:
        started = box.call("bomb", (tag,)).value
        assert 0 < started < LIMITS.processes
        assert box.call("honest", (1,)).value == 2
    assert processes_with_arg(tag) == []


GRADER_SCRIPT = """
import sys, time
from pathlib import Path
from grader.loading import LoadedSource, SourceChunk
from grader.sandbox import Limits, Sandbox
code = '''
import os, subprocess, time
def detach(tag):
    subprocess.Popen(['sleep', tag], start_new_session=True)
def spin():
    while True:
        time.sleep(0.01)
'''
src = LoadedSource(Path('x.py'), 'py', (SourceChunk(code, 'x.py', 'x.py'),))
box = Sandbox(src, Limits(call_seconds=60, submission_seconds=120), isolation=sys.argv[1])
box.call('detach', (sys.argv[2],))
print('ready', flush=True)
box.call('spin', ())
"""


def test_a_killed_grader_leaves_no_student_process_behind(mode):
    import subprocess
    import sys

    tag = unique_sleep()
    grader = subprocess.Popen(
        [sys.executable, "-c", GRADER_SCRIPT, mode, tag], stdout=subprocess.PIPE, text=True
    )
    try:
        assert grader.stdout.readline().strip() == "ready"
        assert processes_with_arg(tag)
        grader.kill()  # SIGKILL: no close(), no atexit
        grader.wait()
        deadline = time.monotonic() + 3
        while processes_with_arg(tag) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert processes_with_arg(tag) == []
    finally:
        grader.kill()


def test_fallback_is_announced_once(monkeypatch):
    import warnings

    from grader.sandbox import IsolationInfo, IsolationWarning, isolation

    fake = IsolationInfo("fallback", "pretend: no namespaces", (), ("everything",))
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)
    monkeypatch.setattr(isolation, "_INFO", fake)
    monkeypatch.setattr(isolation, "_WARNED", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert isolation.resolve_mode("auto") == "fallback"
        assert isolation.resolve_mode("auto") == "fallback"
    assert [w.category for w in caught] == [IsolationWarning]
    assert "pretend: no namespaces" in str(caught[0].message)
    with pytest.raises(RuntimeError, match="pretend"):
        isolation.resolve_mode("strong")


@NEEDS_STRONG
def test_user_namespace_variant_isolates_too(monkeypatch):
    """The variant used when the grader is not root: a user namespace and no capabilities
    instead of a user id of its own (exercised here as root by forcing it)."""
    from grader.sandbox import isolation

    original = isolation.strong_plan

    def userns_plan(*args, **kwargs):
        return dict(original(*args, **kwargs), userns=True)

    monkeypatch.setattr(isolation, "strong_plan", userns_plan)
    with Sandbox(notebook(STRONG_PROBES), LIMITS, isolation="strong") as box:
        status = box.call("read", ("/proc/self/status",))
        assert box.call("interfaces", ()).value == ["lo"]
        assert box.call("exists", (project_root(),)).value is False
        code, out, err = box.call("shell", ("grep CapEff /proc/self/status; touch /usr/x",)).value
        assert "CapEff:\t0000000000000000" in out and "Read-only" in err
        assert box.call("write", ("/tmp/ok",)).value == "written"
        assert status.ok


def test_a_crash_in_a_batch_skips_the_rest_of_that_batch_only(mode):
    code = (
        "import os\ndef fragile(i):\n    if i == 3:\n        os._exit(1)\n    return i\n" + HONEST
    )
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        outs = box.call_many("fragile", [(i,) for i in range(200)])
        assert [o.value for o in outs[:3]] == [0, 1, 2]
        assert outs[3].error.kind == "crashed" and "exit code 1" in outs[3].error.message
        assert all(o.error.kind == "crashed" and "not run" in o.error.message for o in outs[4:])
        assert all(o.seconds == 0.0 for o in outs[4:])  # never sent to a child
        assert box.call("fragile", (5,)).value == 5  # a fresh child serves the next call
        assert box.restarts == 1


def test_output_tricks_do_not_break_grading(mode):
    code = """
import os, sys, threading, time
def chatter():
    while True:
        print("background noise " * 50)
def start_chatter():
    threading.Thread(target=chatter, daemon=True).start()
def close_stdout():
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    print("gone")
def broken_stream():
    class Broken:
        def write(self, s): raise RuntimeError("no")
        def flush(self): raise RuntimeError("no")
    sys.stdout = sys.stderr = Broken()
def value(x):
    return x * 3
"""
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        assert box.call("start_chatter", ()).ok
        outs = box.call_many("value", [(i,) for i in range(50)])
        assert [o.value for o in outs] == [3 * i for i in range(50)]
        assert box.call("close_stdout", ()).ok
        assert box.call("broken_stream", ()).ok
        outs = box.call_many("value", [(i,) for i in range(50)])
        assert [o.value for o in outs] == [3 * i for i in range(50)]
        assert box.restarts == 0  # no call was killed for its output or timed out


def test_a_forgotten_sandbox_is_killed_when_garbage_collected(mode):
    import gc

    tag = unique_sleep()
    code = (
        "import subprocess\n"
        "def spawn(tag):\n"
        "    subprocess.Popen(['sleep', tag], start_new_session=True)\n"
    )
    box = Sandbox(notebook(code), LIMITS, isolation=mode)
    assert box.call("spawn", (tag,)).ok
    assert processes_with_arg(tag)
    del box
    gc.collect()
    deadline = time.monotonic() + 2
    while processes_with_arg(tag) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert processes_with_arg(tag) == []


@NEEDS_STRONG
def test_strong_nothing_outside_the_allowlist_is_visible(strong_box):
    for path in ("/work", "/home", "/srv", "/mnt", "/var", "/run", "/opt", "/boot"):
        assert strong_box.call("exists", (path,)).value is False, path
    assert strong_box.call("exists", ("/usr/bin/python3",)).value in (True, False)
    assert strong_box.call("read", ("/etc/shadow",)).value == "refused"
