"""The fork server ("zygote") behind the sandbox: every submission still gets a fresh,
isolated process, and nothing one submission does reaches the next one.

Each test runs in both isolation modes (strong is skipped, with the reason, where this machine
cannot give it).  No timings are asserted.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox import Limits, Sandbox, describe_isolation, isolation, prewarm, wire, zygote
from grader.sandbox.isolation import DEFAULT_PACKAGES
from grader.sandbox.process import ChildProcess
from tests.sources import notebook

LIMITS = Limits(call_seconds=1.0, load_seconds=1.0, submission_seconds=30.0, memory_mb=512)
STRONG = describe_isolation().mode == "strong"
ZYGOTE_ON = zygote.enabled()
needs_zygote = pytest.mark.skipif(not ZYGOTE_ON, reason="GRADER_SANDBOX_ZYGOTE=0")


HONEST = "def honest(x):\n    return x + 1\n"
PROBES = """
import os, sys, tempfile
import numpy as np
def facts():
    return {
        "pid": os.getpid(), "ppid": os.getppid(), "uid": os.getuid(), "cwd": os.getcwd(),
        "tmp": tempfile.gettempdir(), "fds": sorted(os.listdir("/proc/self/fd")),
    }
def exists(paths):
    return [p for p in paths if os.path.exists(p)]
def links():
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return out
def cmdlines():
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                out.append(open(f"/proc/{p}/cmdline", "rb").read().decode("latin-1"))
            except OSError:
                pass
    return out
"""


def child_of(box: Sandbox) -> ChildProcess:
    child = box._child
    assert child is not None
    return child


def zygote_of(box: Sandbox) -> zygote.Zygote | None:
    return child_of(box).spec.zygote


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def processes_with_arg(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def unique_sleep() -> str:
    return f"1000.{os.getpid()}{time.monotonic_ns() % 10**6:06d}"


def run(code: str, mode: str, name: str, *args, limits: Limits = LIMITS):
    """Load ``code`` in a new sandbox, call ``name(*args)``, close; returns (value, the
    zygote the child was forked from or None)."""
    with Sandbox(notebook(code), limits, isolation=mode) as box:
        out = box.call(name, args)
        assert out.ok, out.error
        return out.value, zygote_of(box)


# --------------------------------------------------------------------------- fresh processes


@needs_zygote
def test_each_submission_gets_a_fresh_process_forked_from_one_zygote(mode):
    seen = []
    for _ in range(3):
        with Sandbox(notebook(PROBES), LIMITS, isolation=mode) as box:
            inside = box.call("facts", ()).value
            child = child_of(box)
            zyg = zygote_of(box)
            assert zyg is not None and zyg.proc.poll() is None
            outer = child.proc.pid  # the forked process (strong: the namespace's waiter)
            assert outer in children_of(zyg.proc.pid)
            seen.append((zyg.proc.pid, outer, child.python_pid, inside))
    zygote_pids = {z for z, _, _, _ in seen}
    assert len(zygote_pids) == 1  # one fork server for the whole run...
    assert len({outer for _, outer, _, _ in seen}) == 3  # ...and a new process each time
    assert len({python for _, _, python, _ in seen}) == 3
    for _, _, _, inside in seen:
        assert inside["uid"] != 0 or mode == "fallback"
    if mode == "strong":
        assert [inside["pid"] for *_, inside in seen] == [1, 1, 1]  # own PID namespace each
        assert len({inside["uid"] for *_, inside in seen}) == 3  # a new random uid each


def test_files_written_by_one_submission_are_gone_for_the_next(mode):
    writer = PROBES + (
        "def write():\n"
        "    paths = [os.path.join(tempfile.gettempdir(), 'leak.txt')]\n"
        "    paths.append(os.path.abspath('cwd.txt'))\n"
        "    if os.path.isdir('/tmp') and os.access('/tmp', os.W_OK) and os.getcwd() == '/tmp':\n"
        "        paths.append('/tmp/strong-leak.txt')\n"
        "    for p in paths:\n"
        "        with open(p, 'w') as f:\n"
        "            f.write('secret of the previous student')\n"
        "    return paths\n"
    )
    with Sandbox(notebook(writer), LIMITS, isolation=mode) as box:
        written = box.call("write", ()).value
        first = box.call("facts", ()).value
    assert written
    second, _ = run(PROBES, mode, "facts")
    still_there, _ = run(PROBES, mode, "exists", written)
    assert still_there == []
    if mode == "fallback":
        assert second["tmp"] != first["tmp"] and second["cwd"] != first["cwd"]
        assert not os.path.exists(first["cwd"])  # the private workdir was removed on close
    else:
        assert second["tmp"] == first["tmp"] == "/tmp"  # same path, a new empty tmpfs


def test_module_state_and_cwd_do_not_carry_over(mode):
    tamper = (
        "import builtins, os, sys, types\n"
        "import numpy as np\n"
        "np.sum = lambda *a, **k: 42\n"
        "np.linalg.solve = lambda *a, **k: 'patched'\n"
        "np.seterr(all='raise')\n"
        "np.set_printoptions(precision=1)\n"
        "sys.modules['planted'] = types.ModuleType('planted')\n"
        "sys.path.insert(0, '/planted')\n"
        "os.environ['PLANTED'] = '1'\n"
        "builtins.planted = True\n"
        "np.random.seed(0)\n"
        "os.chdir('/')\n"
        "def draw():\n"
        "    np.random.seed(0)\n"
        "    return float(np.random.rand())\n"
    )
    check = (
        "import builtins, os, sys\n"
        "import numpy as np\n"
        "def state():\n"
        "    return {\n"
        "        'sum': float(np.sum(np.arange(4.0))),\n"
        "        'solve': np.linalg.solve(np.eye(2), np.ones(2)).tolist(),\n"
        "        'err': np.geterr()['divide'],\n"
        "        'precision': np.get_printoptions()['precision'],\n"
        "        'planted': 'planted' in sys.modules or '/planted' in sys.path\n"
        "                   or 'PLANTED' in os.environ or hasattr(builtins, 'planted'),\n"
        "        'cwd': os.getcwd(),\n"
        "        'draw': float(np.random.rand()),\n"
        "    }\n"
    )
    seeded, _ = run(tamper, mode, "draw")
    first, _ = run(check, mode, "state")
    second, _ = run(check, mode, "state")
    for state in (first, second):
        assert state["sum"] == 6.0 and state["solve"] == [1.0, 1.0]
        assert state["err"] == "warn" and state["precision"] == 8
        assert state["planted"] is False
        assert state["cwd"] != "/"
    # The legacy global RandomState is seeded afresh for each child, as a fresh import does.
    assert len({seeded, first["draw"], second["draw"]}) == 3


def test_a_detached_process_dies_with_its_submission_and_is_invisible_to_the_next(mode):
    tag = unique_sleep()
    code = PROBES + (
        "def detach(tag):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            os.closerange(0, 1000)\n"
        "            os.execvp('sleep', ['sleep', tag])\n"
        "        os._exit(0)\n"
        "    os.waitpid(pid, 0)\n"
        "    return True\n"
    )
    box = Sandbox(notebook(code), LIMITS, isolation=mode)
    assert box.call("detach", (tag,)).value is True
    assert wait_until(lambda: processes_with_arg(tag))
    box.close()
    assert wait_until(lambda: processes_with_arg(tag) == [], 2.0)  # SIGKILLed, reaped soon
    lines, _ = run(PROBES, mode, "cmdlines")
    assert not any(tag in line for line in lines)


def test_nothing_of_the_zygote_is_inherited(mode):
    with Sandbox(notebook(PROBES), LIMITS, isolation=mode) as box:
        links = box.call("links", ()).value
        facts = box.call("facts", ()).value
    assert not [link for link in links if "socket" in link or "pidfd" in link], links
    # stdin, stdout, stderr, the request, reply and lifeline pipes, and nothing else
    # (the listing's own descriptor may show up once)
    assert len(facts["fds"]) <= 7, facts["fds"]


# --------------------------------------------------------------------------- the zygote


@needs_zygote
def test_hostile_submissions_do_not_break_the_zygote(mode):
    hostile = (
        "import numpy as np, os, ctypes\n"
        "def spin():\n"
        "    while True:\n"
        "        pass\n"
        "def bomb():\n"
        "    hoard = []\n"
        "    while True:\n"
        "        hoard.append(np.ones(10**7))\n"
        "def crash():\n"
        "    ctypes.string_at(0)\n"
        "def quit():\n"
        "    os._exit(7)\n"
        "os._exit(3)\n"
    )
    limits = Limits(call_seconds=0.5, load_seconds=1, submission_seconds=30, memory_mb=256)
    with Sandbox(notebook(PROBES, HONEST), LIMITS, isolation=mode) as box:
        assert box.call("honest", (1,)).value == 2
        zyg = zygote_of(box)
    assert zyg is not None
    with Sandbox(notebook(hostile, HONEST), limits, isolation=mode) as box:
        loaded = box.start()
        assert [e.kind for e in loaded.chunk_errors] == ["crashed"]
        kinds = [box.call(name, ()).error.kind for name in ("spin", "bomb", "crash", "quit")]
        assert kinds == ["timeout", "memory", "crashed", "crashed"]
        assert box.call("honest", (1,)).value == 2
        assert zygote_of(box) is zyg
    assert zyg.proc.poll() is None and zyg.broken is None
    value, used = run(HONEST, mode, "honest", 41)
    assert value == 42 and used is zyg
    # Every child was reaped: no zombie or stray process is left under the zygote.
    assert wait_until(lambda: children_of(zyg.proc.pid) == [])
    threads = Path(f"/proc/{zyg.proc.pid}/status").read_text().split("Threads:")[1].split()[0]
    assert threads == "1"


@needs_zygote
def test_a_dead_zygote_is_replaced_and_grading_goes_on(mode):
    with Sandbox(notebook(HONEST), LIMITS, isolation=mode) as box:
        assert box.call("honest", (1,)).value == 2
        old = zygote_of(box)
        assert old is not None
        old.proc.kill()
        old.proc.wait()
        # Strong-mode children die with their zygote; either way the sandbox carries on.
        assert box.call("honest", (2,)).value == 3
    value, new = run(HONEST, mode, "honest", 3)
    assert value == 4
    assert new is not None and new is not old and new.proc.pid != old.proc.pid


OWNER_SCRIPT = """
import sys, time
from pathlib import Path
from grader.loading import LoadedSource, SourceChunk
from grader.sandbox import Limits, Sandbox
code = '''
import subprocess
def detach(tag):
    subprocess.Popen(['sleep', tag], start_new_session=True)
'''
src = LoadedSource(Path('x.py'), 'py', (SourceChunk(code, 'x.py', 'x.py'),))
box = Sandbox(src, Limits(call_seconds=60, submission_seconds=120), isolation=sys.argv[1])
box.call('detach', (sys.argv[2],))
print(box._child.spec.zygote.proc.pid, flush=True)
time.sleep(600)
"""


@needs_zygote
def test_the_zygote_dies_with_its_owner(mode):
    tag = unique_sleep()
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER_SCRIPT, mode, tag], stdout=subprocess.PIPE, text=True
    )
    try:
        zygote_pid = int(owner.stdout.readline())
        assert alive(zygote_pid) and processes_with_arg(tag)
        owner.kill()  # SIGKILL: no close(), no atexit
        owner.wait()
        assert wait_until(lambda: not alive(zygote_pid))
        assert wait_until(lambda: processes_with_arg(tag) == [])
    finally:
        owner.kill()
        owner.wait()


@needs_zygote
def test_an_idle_zygote_exits_with_its_owner_at_exit(mode):
    script = (
        "import sys\n"
        "from grader.sandbox import prewarm, zygote\n"
        "from grader.sandbox.isolation import DEFAULT_PACKAGES\n"
        "mode = prewarm(sys.argv[1])\n"
        "print(zygote.running(mode, DEFAULT_PACKAGES).proc.pid, flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, mode], capture_output=True, text=True, timeout=60
    )
    zygote_pid = int(done.stdout)
    assert wait_until(lambda: not alive(zygote_pid))


def _grade_in_worker(code: str, mode: str) -> tuple[int, int | None, int]:
    with Sandbox(notebook(code), LIMITS, isolation=mode) as box:
        value = box.call("honest", (1,)).value
        zyg = zygote_of(box)
    return os.getpid(), zyg.proc.pid if zyg is not None else None, value


def test_sandboxes_work_after_fork_of_the_owner(mode):
    with Sandbox(notebook(HONEST), LIMITS, isolation=mode) as box:
        assert box.call("honest", (1,)).value == 2
        ours = zygote_of(box)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the forked copy of the grader grades on its own
            try:
                _, zygote_pid, value = _grade_in_worker(HONEST, mode)
                os.write(write_end, f"{zygote_pid} {value}".encode())
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end) as reader:
            zygote_pid, value = reader.read().split()
        os.waitpid(pid, 0)
        assert value == "2"
        if ours is not None:
            assert int(zygote_pid) != ours.proc.pid  # the fork started its own zygote...
            assert wait_until(lambda: not alive(int(zygote_pid)))  # ...which died with it
            assert ours.proc.poll() is None and ours.broken is None
        # The forked copy did not touch our live sandbox or our zygote.
        assert box.call("honest", (2,)).value == 3
    value, _ = run(HONEST, mode, "honest", 5)
    assert value == 6


def test_process_pool_workers_forked_from_the_grader_use_their_own_zygote(mode):
    prewarm(mode)
    ours = zygote.running(mode, DEFAULT_PACKAGES)
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        results = [pool.submit(_grade_in_worker, HONEST, mode).result() for _ in range(3)]
    assert [value for _, _, value in results] == [2, 2, 2]
    assert len({worker for worker, _, _ in results}) == 1
    if ours is not None:
        zygotes = {z for _, z, _ in results}
        assert len(zygotes) == 1 and ours.proc.pid not in zygotes  # one per worker, reused
        assert ours.proc.poll() is None


def test_concurrent_sandboxes_in_threads(mode):
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(3):
                with Sandbox(notebook(HONEST), LIMITS, isolation=mode) as box:
                    assert box.call("honest", (k * 10 + i,)).value == k * 10 + i + 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# --------------------------------------------------------------------------- switches


def test_fresh_starts_when_the_fork_server_is_off(mode, monkeypatch):
    monkeypatch.setenv(zygote.ENV_SWITCH, "0")
    with Sandbox(notebook(PROBES, HONEST), LIMITS, isolation=mode) as box:
        assert box.call("honest", (1,)).value == 2
        child = child_of(box)
        assert child.spec.zygote is None and isinstance(child.proc, subprocess.Popen)
        if mode == "strong":
            assert box.call("facts", ()).value["pid"] == 1


def test_describe_isolation_says_how_children_start():
    info = describe_isolation()
    assert info.details.get("spawn")
    assert any(line.startswith("children: ") for line in info.lines())


@needs_zygote
def test_prewarm_starts_the_zygote_ahead_of_the_first_submission():
    mode = prewarm()
    assert mode in ("strong", "fallback")
    zyg = zygote.running(mode, DEFAULT_PACKAGES)
    assert zyg is not None and zyg.ready
    value, used = run(HONEST, mode, "honest", 1)
    assert value == 2 and used is zyg


def test_an_exited_child_keeps_its_pid_until_the_grader_is_done_with_it(mode):
    """The zygote keeps an exited child's zombie until the grader has killed and waited for
    it, so a pid the grader may still signal cannot be recycled for another process."""
    limits = Limits()
    spec = isolation.spawn_spec(mode, limits, DEFAULT_PACKAGES)
    child, failure = isolation.start_child(spec, limits, time.monotonic() + 20)
    assert failure is None, failure
    pid = child.proc.pid
    if spec.zygote is None:
        pytest.skip("the fork server is off: Popen keeps the zombie until wait()")
    os.set_blocking(child.req_w, True)
    os.write(child.req_w, wire.frame_bytes({"op": "exit now"}))  # unknown: the child leaves
    assert wait_until(lambda: not alive(pid))
    time.sleep(0.1)
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    assert state == "Z" and pid in children_of(spec.zygote.proc.pid)  # exited, pid still held
    child.kill()
    assert isinstance(child.proc.returncode, int)
    assert wait_until(lambda: not Path(f"/proc/{pid}").exists())  # released, then reaped


def test_numpy_in_the_grader_is_untouched(mode):
    code = "import numpy as np\nnp.add = None\nnp.ones = None\n" + HONEST
    value, _ = run(code, mode, "honest", 1)
    assert value == 2
    assert np.ones(2).sum() == 2.0 and np.add(1, 1) == 2
    assert signal.SIGKILL  # the grader's process is unaffected as a whole
