"""The sandboxed child process: runs a submission's code and answers calls over pipes.

This file is copied, with wire.py, into a private directory and started as
``python -I -S -B child.py CONFIG_JSON``; it never imports the ``grader`` package.  Order of
events: import wire.py and numpy; isolate (strong mode: mounts, pivot_root, drop privileges;
fallback: become a subreaper); import the rest of numpy; set rlimits; start the lifeline
thread; say "ready"; then serve frames on the request pipe until it closes.

The same file is also the fork server ("zygote", ``child.py --zygote CONFIG_JSON``, see
``zygote.py``): it imports wire.py and numpy once, never runs student code, and per request
forks a fresh process that takes the request's pipes as its stdio and protocol fds, closes
every other descriptor, creates the namespaces the ``unshare`` command would have created
(strong mode: the forked process unshares, then forks the namespace's init, and waits for it
as ``unshare --fork --kill-child`` does) and then goes through exactly the steps above.

The child serves frames on the request pipe until it closes:

* ``load``  run the chunks statement by statement in one ``__main__`` namespace, reporting
  each statement before it runs (so the parent knows which one hung or killed the process);
* ``calls`` call one function on a list of argument tuples, one reply frame per call;
* ``probe`` report isolation facts (used by ``describe_isolation``).

The student's prints go to fds 1/2, which are pipes the parent drains; the protocol uses
its own fds.  Everything this process sends is untrusted by the parent.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import ctypes
import importlib
import importlib.machinery
import itertools
import json
import linecache
import os
import resource
import select
import signal
import socket
import sys
import threading
import types
import warnings
from typing import Any

wire: Any = None  # the private copy of grader/sandbox/wire.py, imported by main()

# Kept before student code runs, so that rebinding os/json functions cannot break the protocol.
_write = os.write
_read = os.read
_readv = os.readv
_exit = os._exit

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 1, 38, 36
PR_CAPBSET_DROP = 24
PR_SET_DUMPABLE = 4
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
#: What ``unshare --net --pid --mount --ipc --uts`` creates (isolation.UNSHARE_FLAGS).
NAMESPACES = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}

MAX_MESSAGE_CHARS = 2000
MAX_TRACEBACK_CHARS = 8000
MAX_NAMES = 5000
MAX_CHUNK_ERRORS = 200
MAX_ITEMS = 200_000  # Python values (not array elements) in one reply
MAX_WARNINGS = 5  # warnings reported per call
MAX_WARNING_CHARS = 300


class SetupError(Exception):
    """Isolation could not be set up; reported to the parent, which falls back or fails."""


class LoadInterrupt(BaseException):  # noqa: N818 - a control-flow signal, not an error
    """Raised by SIGUSR1 while a top-level statement runs past the load time limit."""


# --------------------------------------------------------------------------- pipes


class Channel:
    """Blocking frame I/O on the request/reply fds."""

    def __init__(self, req_fd: int, rep_fd: int, limits: wire.WireLimits) -> None:
        self.req_fd = req_fd
        self.rep_fd = rep_fd
        self.reader = wire.FrameReader(limits)
        self.frames: list[wire.Frame] = []

    def send(self, header: dict[str, Any], buffers: list[memoryview] | None = None) -> None:
        try:
            for piece in wire.pack_frame(header, buffers):
                view = memoryview(piece).cast("B")
                while view:
                    view = view[_write(self.rep_fd, view) :]
        except OSError:  # the grader closed the channel
            shut_down()

    def receive(self) -> wire.Frame:
        while not self.frames:
            target = self.reader.direct()
            if target is not None:  # the rest of a big frame, straight into its buffer
                with target:
                    n = _readv(self.req_fd, [target])
                if not n:
                    shut_down()
                self.frames.extend(self.reader.filled(n))
                continue
            data = _read(self.req_fd, self.reader.read_size())
            if not data:
                shut_down()  # the grader went away
            self.frames.extend(self.reader.feed(data))
        return self.frames.pop(0)


# --------------------------------------------------------------------------- isolation


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(err)}")


def _mount(
    libc: Any, src: str | None, dst: str, fstype: str | None, flags: int, data: str = ""
) -> None:
    def enc(s: str | None) -> bytes | None:
        return None if s is None else os.fsencode(s)

    _check(
        libc.mount(enc(src), enc(dst), enc(fstype), ctypes.c_ulong(flags), enc(data or None)),
        f"mount {src or fstype} on {dst}",
    )


def _locked_flags(path: str) -> int:
    """Mount flags of ``path`` that a read-only remount must keep (they may be locked)."""
    f = os.statvfs(path).f_flag
    out = 0
    for st, ms in (
        (os.ST_NOSUID, MS_NOSUID),
        (os.ST_NODEV, MS_NODEV),
        (os.ST_NOEXEC, MS_NOEXEC),
        (os.ST_NOATIME, MS_NOATIME),
        (os.ST_NODIRATIME, MS_NODIRATIME),
        (getattr(os, "ST_RELATIME", 4096), MS_RELATIME),
    ):
        if f & st:
            out |= ms
    return out


def _make_mountpoint(path: str, like: str) -> None:
    if os.path.isdir(like):
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.exists(path):
            with open(path, "wb"):
                pass


def _bind_ro(libc: Any, src: str, dst: str) -> None:
    _make_mountpoint(dst, src)
    _mount(libc, src, dst, None, MS_BIND)
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | _locked_flags(dst)
    _mount(libc, None, dst, None, flags)


def _pivot_root(libc: Any, new_root: str) -> None:
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise SetupError(f"pivot_root syscall number unknown on {os.uname().machine}")
    os.chdir(new_root)
    _check(libc.syscall(number, b".", b"."), "pivot_root")
    # The old root is now stacked under the new one at "/": detach it entirely, so that no
    # path (and no chroot trick in a user namespace) leads back to the real filesystem.
    _check(libc.umount2(b".", MNT_DETACH), "detach old root")
    os.chdir("/")


def build_root(libc: Any, plan: dict[str, Any]) -> None:
    """Build the child's whole filesystem view from an allowlist, then pivot into it.

    The private /tmp is mounted first: Python, a virtual environment or the allowed packages
    may live under the real /tmp (CI runners, tox, ``pip install --target``), and their
    read-only binds then go on top of it (on root-owned 0755 mountpoints, which the sandbox
    user can neither remove nor write into) instead of being hidden by it.
    """
    root = plan["root"]
    os.umask(0o022)
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    os.makedirs(root + "/tmp")
    size = f"mode=1777,size={plan['tmp_mb']}m,nr_inodes=4096"
    _mount(libc, "tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, size)
    for target, link in plan["symlinks"]:
        os.symlink(target, root + link)
    for src in plan["binds"]:
        _bind_ro(libc, src, root + src)
    masks = [root + m for m in plan["masks"] if os.path.isdir(root + m)]
    for m in masks:
        _mount(libc, "tmpfs", m, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
    for src in plan["packages"]:
        _bind_ro(libc, src, root + src)
    for m in masks:
        flags = MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
        _mount(libc, "tmpfs", m, "tmpfs", flags, "mode=0755,size=64k")
    _build_dev(libc, root + "/dev")
    os.makedirs(root + "/proc")
    _mount(libc, "proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _pivot_root(libc, root)
    _mount(libc, "tmpfs", "/", "tmpfs", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755")


def _build_dev(libc: Any, dev: str) -> None:
    os.makedirs(dev)
    _mount(libc, "tmpfs", dev, "tmpfs", MS_NOSUID, "mode=0755,size=64k")
    for name in ("null", "zero", "full", "random", "urandom"):
        if os.path.exists("/dev/" + name):
            _make_mountpoint(dev + "/" + name, "/dev/" + name)
            _mount(libc, "/dev/" + name, dev + "/" + name, None, MS_BIND)
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{i}", f"{dev}/{name}")
    os.symlink("/proc/self/fd", dev + "/fd")
    _mount(libc, "tmpfs", dev, "tmpfs", MS_REMOUNT | MS_RDONLY | MS_NOSUID, "mode=0755")


def drop_privileges(libc: Any, plan: dict[str, Any]) -> None:
    """Become an unprivileged user after the mounts, so they cannot be undone."""
    if plan["userns"]:
        _drop_capabilities(libc)
    else:
        os.setgroups([])
        os.setresgid(plan["gid"], plan["gid"], plan["gid"])
        os.setresuid(plan["uid"], plan["uid"], plan["uid"])
        if os.geteuid() == 0 or os.getuid() == 0:
            raise SetupError("still root after setuid")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if not plan.get("direct"):
        # Changing credentials cleared the parent-death signal that unshare --kill-child
        # (or the zygote's waiter) set.  A child forked by the zygote straight into its
        # namespace does not die with the zygote: the grader's lifeline pipe ends it.
        _check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")


def _drop_capabilities(libc: Any) -> None:
    """In a user namespace we stay uid 0 there, but without any capability."""
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and cap < 41:
            _check(-1, f"drop capability {cap} from the bounding set")

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]

    header = Header(0x20080522, 0)
    data = (Data * 2)()
    _check(libc.capset(ctypes.byref(header), data), "capset")


def set_rlimits(limits: dict[str, int | None]) -> None:
    """Lower (never raise) each limit; soft = hard so student code cannot raise it again."""
    names = {
        "as": resource.RLIMIT_AS,
        "cpu": resource.RLIMIT_CPU,
        "nofile": resource.RLIMIT_NOFILE,
        "fsize": resource.RLIMIT_FSIZE,
        "core": resource.RLIMIT_CORE,
        "nproc": resource.RLIMIT_NPROC,
    }
    for key, value in limits.items():
        if value is None:
            continue
        which = names[key]
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def isolate(cfg: dict[str, Any]) -> None:
    libc = _libc()
    if cfg["mode"] == "strong":
        plan = cfg["strong"]
        try:
            build_root(libc, plan)
            drop_privileges(libc, plan)
        except (OSError, SetupError) as exc:
            raise SetupError(str(exc)) from None
    elif sys.platform.startswith("linux"):
        # Orphans of the submission re-parent here instead of to init, so the parent can
        # still find (and kill) them through /proc.
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    os.chdir(cfg["workdir"])


def _kill_descendants() -> None:
    """Fallback mode: SIGKILL every descendant of this process (found through /proc)."""
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
                parents[int(name)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), [os.getpid()]
    while frontier:
        cur = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == cur and pid not in found:
                found.add(pid)
                frontier.append(pid)
    for pid in found:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


_STRONG = False  # set by main(): in strong mode the kernel empties the namespace for us


def shut_down() -> None:
    """Exit, taking every process of the sandbox along (the grader is gone or done)."""
    if not _STRONG:
        with contextlib.suppress(Exception):
            _kill_descendants()
        with contextlib.suppress(OSError):
            os.killpg(0, signal.SIGKILL)
    _exit(0)


def start_lifeline(fd: int) -> None:
    """Shut down as soon as the grader's end of ``fd`` closes (the grader exited or was
    killed without closing the sandbox), even while student code is running."""

    def watch() -> None:
        while True:
            try:
                if not _read(fd, 64):
                    break
            except InterruptedError:
                continue
            except OSError:
                break
        shut_down()

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


# --------------------------------------------------------------------------- student code


class IPythonStub:
    """What ``get_ipython()`` returns: every method exists and does nothing."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def display(*objects: Any, **kwargs: Any) -> None:
    for obj in objects:
        print(repr(obj))


# Display-only libraries a notebook imports to plot or show progress; the sandbox does not
# carry them, and a failed `import matplotlib.pyplot as plt` should not count as an error.
STAND_INS = frozenset({"matplotlib", "seaborn", "plotly", "IPython", "tqdm"})


class NoOp:
    """Stands for anything of a stand-in library: calls, attributes, `with`, unpacking."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        first = args[0] if args else None
        if hasattr(first, "__iter__") and not isinstance(first, str | bytes):
            return first  # tqdm(iterable): the loop over it still runs
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __iter__(self) -> Any:
        return iter((self, self))  # fig, ax = plt.subplots()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False


NOOP = NoOp()


class StandIn(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return NOOP


class StandInFinder:
    """Last on sys.meta_path: only libraries that cannot be imported for real get a stand-in."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname.partition(".")[0] not in STAND_INS:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: Any) -> types.ModuleType:
        return StandIn(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__path__ = []


class Student:
    """The submission's namespace and what is needed to talk about its code in its terms."""

    def __init__(self) -> None:
        if not any(isinstance(f, StandInFinder) for f in sys.meta_path):
            sys.meta_path.append(StandInFinder())
        module = types.ModuleType("__main__")
        module.__dict__.update(display=display, get_ipython=lambda: _IPYTHON)
        sys.modules["__main__"] = module
        self.ns = module.__dict__
        self.chunks: dict[str, tuple[str, int]] = {}  # filename -> (label, first_line)

    def register(self, chunk: dict[str, Any]) -> None:
        self.chunks[chunk["filename"]] = (chunk["label"], chunk["first_line"])
        lines = chunk["code"].splitlines(True)
        linecache.cache[chunk["filename"]] = (len(chunk["code"]), None, lines, chunk["filename"])

    def where(self, filename: str, lineno: int | None) -> tuple[str, int | None]:
        label, first = self.chunks.get(filename, (filename, 1))
        return label, (None if lineno is None else first + lineno - 1)

    def traceback(self, exc: BaseException) -> str:
        """Student frames only, in the student's line numbers, then the exception line.

        Runs of the same frame (deep recursion) are collapsed, as Python itself does.
        """
        frames: list[tuple[str, int | None, str, str]] = []
        tb = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename in self.chunks:
                label, line = self.where(code.co_filename, tb.tb_lineno)
                text = linecache.getline(code.co_filename, tb.tb_lineno).strip()
                frames.append((label, line, code.co_name, text))
            tb = tb.tb_next
        out: list[str] = []
        i = 0
        while i < len(frames):
            j = i
            while j + 1 < len(frames) and frames[j + 1] == frames[i]:
                j += 1
            label, line, name, text = frames[i]
            out.append(f"{label}, line {line}, in {name}")
            if text:
                out.append(f"    {text}")
            if j > i:
                out.append(f"  [the frame above repeated {j - i} more times]")
            i = j + 1
        out.append(describe_exception(exc))
        text = "\n".join(out)
        if len(text) > MAX_TRACEBACK_CHARS:
            text = "...\n" + text[-MAX_TRACEBACK_CHARS:]
        return text

    def last_line(self, exc: BaseException) -> tuple[str | None, int | None]:
        found: tuple[str | None, int | None] = (None, None)
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename in self.chunks:
                found = self.where(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
            tb = tb.tb_next
        return found

    def names(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in list(self.ns.items())[: MAX_NAMES * 2]:
            if type(name) is not str or name.startswith("__"):
                continue
            if (name == "display" and value is display) or name == "get_ipython":
                continue
            out[name] = kind_of(value)
            if len(out) >= MAX_NAMES:
                break
        return out


_IPYTHON = IPythonStub()


def kind_of(value: Any) -> str:
    if callable(value) and not isinstance(value, type):
        return "function"
    return wire._type_name(value)


def describe_exception(exc: BaseException) -> str:
    name = wire._type_name(exc)
    try:
        text = str(exc)
    except BaseException:
        text = "<the exception's message could not be shown>"
    if isinstance(exc, SystemExit):
        return f"SystemExit: sys.exit({text}) was called"
    line = f"{name}: {text}" if text else name
    return line[:MAX_MESSAGE_CHARS]


def flush_output() -> None:
    streams = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    for stream in {id(s): s for s in streams}.values():
        try:
            stream.flush()
        except BaseException:  # a student's replacement stream may raise anything
            continue


def compile_chunk(chunk: dict[str, Any]) -> list[tuple[types.CodeType, int]]:
    """Compile a chunk into one code object per top-level statement (SyntaxError if any fails).

    Running statement by statement lets the grader skip exactly the statement that hung or
    killed the process, and keep everything defined before and after it.
    """
    import __future__

    tree = ast.parse(chunk["code"], chunk["filename"], "exec")
    compile(tree, chunk["filename"], "exec", dont_inherit=True)  # whole-chunk errors first
    flags = 0
    out = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
        module = ast.Module(body=[node], type_ignores=[])
        out.append(
            (compile(module, chunk["filename"], "exec", flags, dont_inherit=True), node.lineno)
        )
    return out


_ABSENT = object()


class CallGuard:
    """The numpy error state and the warnings filter every student call runs under.

    Built before the submission's first statement runs, from objects bound then and never
    looked up again: a top-level ``np.seterr(all="ignore")``, ``warnings.simplefilter("ignore")``
    or ``filterwarnings``, a rebound ``np.errstate`` or ``warnings.catch_warnings``, a patched
    ``warnings._showwarnmsg``, another module in ``sys.modules["warnings"]``: none of it reaches
    a call.  During a call numpy warns on divide, over and invalid and ignores underflow (its
    defaults: a stable sigmoid's ``exp(-|z|)`` underflows to 0, harmlessly), and every warning
    is recorded, whatever filter the submission installed.  (Code inside the call can still
    change this for itself; the child is never trusted for security.)
    """

    #: The entries of the warnings module that decide whether and how a warning is shown.
    PINNED = ("filters", "_showwarnmsg", "WarningMessage")

    def __init__(self, numpy: Any) -> None:
        self._modules = sys.modules  # the interpreter's own dict, whatever sys.modules becomes
        self._warnings = warnings
        self._names = warnings.__dict__
        self._message_class = warnings.WarningMessage
        # Tells the C side of warnings that the filters changed (renamed in Python 3.14).
        self._filters_mutated = getattr(warnings, "_filters_mutated", None) or getattr(
            warnings, "_filters_mutated_lock_held", lambda: None
        )
        cls = numpy.errstate
        self._errstate = (cls, cls.__init__, cls.__enter__, cls.__exit__)
        self._state: Any = None
        self._saved: tuple[Any, dict[str, Any]] | None = None

    def __enter__(self) -> list[Any]:
        caught: list[Any] = []
        names = self._names
        self._saved = (
            self._modules.get("warnings", _ABSENT),
            {key: names.get(key, _ABSENT) for key in self.PINNED},
        )
        self._modules["warnings"] = self._warnings
        names["filters"] = [("always", None, Warning, None, 0)]
        names["_showwarnmsg"] = caught.append
        names["WarningMessage"] = self._message_class
        self._filters_mutated()
        cls, init, enter, _leave = self._errstate
        self._state = object.__new__(cls)
        init(self._state, divide="warn", over="warn", invalid="warn", under="ignore")
        enter(self._state)
        return caught

    def __exit__(self, *exc: object) -> None:
        self._errstate[3](self._state, None, None, None)
        module, saved = self._saved or (_ABSENT, {})
        if module is _ABSENT:
            self._modules.pop("warnings", None)
        else:
            self._modules["warnings"] = module
        for key, value in saved.items():
            if value is _ABSENT:
                self._names.pop(key, None)
            else:
                self._names[key] = value
        self._filters_mutated()


class Runner:
    """Serves the parent's requests."""

    def __init__(self, chan: Channel, cfg: dict[str, Any]) -> None:
        self.chan = chan
        self.cfg = cfg
        # Bound now, before the submission's first statement (see CallGuard).
        self.guard = CallGuard(sys.modules["numpy"])
        self.student = Student()
        self.in_load_statement = False
        self.max_reply = int(cfg["max_message_bytes"])
        signal.signal(signal.SIGUSR1, self._interrupt)

    def _interrupt(self, signum: int, frame: Any) -> None:
        if self.in_load_statement:
            self.in_load_statement = False
            raise LoadInterrupt

    def serve(self) -> None:
        while True:
            frame = self.chan.receive()
            op = frame.header.get("op")
            if op == "load":
                self.load(frame.header)
            elif op == "calls":
                self.calls(frame)
            elif op == "probe":
                own = (self.chan.req_fd, self.chan.rep_fd, *self.cfg["fds"])
                self.chan.send({"ev": "probe", "facts": probe(frame.header, own)})
            else:
                shut_down()

    # ---------------------------------------------------------------- load

    def load(self, header: dict[str, Any]) -> None:
        skip = {(c, s) for c, s in header.get("skip", [])}
        errors: list[dict[str, Any]] = []
        for ci, chunk in enumerate(header["chunks"]):
            self.student.register(chunk)
            try:
                statements = compile_chunk(chunk)
            except (SyntaxError, ValueError) as exc:
                errors.append(self._syntax_error(ci, chunk, exc))
                continue
            for si, (code, lineno) in enumerate(statements):
                if (ci, si) in skip:
                    continue
                line = chunk["first_line"] + lineno - 1
                self.chan.send({"ev": "stmt", "chunk": ci, "stmt": si, "line": line})
                error = self._run_statement(code)
                flush_output()
                if error == "interrupted":
                    self.chan.send({"ev": "interrupted", "chunk": ci, "stmt": si})
                elif error is not None:
                    error.update(chunk=ci, label=chunk["label"])
                    error["line"] = error["line"] or line
                    errors.append(error)
        self.chan.send(
            {"ev": "loaded", "names": self.student.names(), "errors": errors[:MAX_CHUNK_ERRORS]}
        )

    def _run_statement(self, code: types.CodeType) -> dict[str, Any] | str | None:
        try:
            self.in_load_statement = True
            exec(code, self.student.ns)
            self.in_load_statement = False
            return None
        except LoadInterrupt:
            return "interrupted"
        except BaseException as exc:
            self.in_load_statement = False
            return self._statement_error(exc)

    def _statement_error(self, exc: BaseException) -> dict[str, Any]:
        kind = "memory" if isinstance(exc, MemoryError) else "exception"
        _label, line = self.student.last_line(exc)
        message = describe_exception(exc)
        if kind == "memory":
            message = f"ran out of memory (limit {self.cfg['memory_mb']} MB)"
        return {
            "line": line,
            "kind": kind,
            "message": message,
            "traceback": self.student.traceback(exc),
        }

    def _syntax_error(self, ci: int, chunk: dict[str, Any], exc: BaseException) -> dict[str, Any]:
        lineno = getattr(exc, "lineno", None)
        line = None if lineno is None else chunk["first_line"] + lineno - 1
        msg = getattr(exc, "msg", None) or str(exc)
        text = (getattr(exc, "text", None) or "").strip()
        message = f"SyntaxError: {msg}" + (f": {text}" if text else "")
        return {
            "chunk": ci,
            "label": chunk["label"],
            "line": line,
            "kind": "syntax",
            "message": message[:MAX_MESSAGE_CHARS],
            "traceback": None,
        }

    # ---------------------------------------------------------------- calls

    def calls(self, frame: wire.Frame) -> None:
        header = frame.header
        name = header["name"]
        want_args = bool(header.get("return_args", True))
        mark = str(header.get("mark", "")).encode("latin-1")
        limits = wire.WireLimits(max_frame_bytes=2**62, max_items=2**62, max_depth=64)
        decoder = wire.Decoder(frame.body, limits, allow_rng=True, rng=_default_rng)
        for i, tagged in enumerate(header["sets"]):
            try:
                args = tuple(decoder.decode(tagged))
            except Exception as exc:  # the grader sent something this copy cannot read
                reply, buffers = _error("bad_reply", f"bad arguments: {exc}"), []
            else:
                reply, buffers = self._one_call(name, args, want_args)
            reply.update(ev="result", i=header["first"] + i, batch=header.get("batch"))
            for fd in (1, 2):  # end of this call's output (see process.Splitter)
                with contextlib.suppress(OSError):
                    _write(fd, mark)
            self.chan.send(reply, buffers)

    def _one_call(
        self, name: str, args: tuple[Any, ...], want_args: bool
    ) -> tuple[dict[str, Any], list[memoryview]]:
        fn = self.student.ns.get(name)
        if fn is None and name not in self.student.ns:
            return _error("missing", f"{name} is not defined"), []
        if not callable(fn):
            return _error("not_callable", f"{name} is a {wire._type_name(fn)}, not a function"), []
        try:
            with self.guard as caught:
                value = fn(*args)
                if isinstance(value, types.GeneratorType):  # `yield` where a list is due
                    value = list(itertools.islice(value, MAX_ITEMS + 1))
        except MemoryError:
            return _error(
                "memory", f"{name} ran out of memory (limit {self.cfg['memory_mb']} MB)"
            ), []
        except RecursionError as exc:
            msg = f"{name} raised RecursionError (infinite recursion?)"
            return _error("exception", msg, self.student.traceback(exc)), []
        except BaseException as exc:
            tb = self.student.traceback(exc)
            return _error("exception", f"{name} raised {describe_exception(exc)}", tb), []
        finally:
            flush_output()
        reply, buffers = self._encode_result(name, value, args if want_args else None)
        if caught and reply.get("error") is None:
            reply["warnings"] = [warning_text(w) for w in caught[:MAX_WARNINGS]]
        return reply, buffers

    def _encode_result(
        self, name: str, value: Any, args: Any
    ) -> tuple[dict[str, Any], list[memoryview]]:
        # Python-level items are slow to encode (arrays are not): cap them well below what a
        # plain-data answer needs, so that encoding cannot eat the call's time limit.
        enc = wire.Encoder(strict=False, max_bytes=self.max_reply - 65536, max_items=MAX_ITEMS)
        try:
            out: dict[str, Any] = {"value": enc.encode(value)}
            # The arguments go back in full: whether they changed is the parent's call.
            out["args_after"] = enc.encode(tuple(args)) if args is not None else None
        except wire.TooLarge as exc:
            if enc.items > MAX_ITEMS:
                msg = f"{name} returned more than {MAX_ITEMS} Python values (use an ndarray)"
                return _error("bad_reply", msg), []
            mb = exc.nbytes / 2**20
            limit = self.max_reply / 2**20
            msg = (
                f"{name} returned too much data ({mb:.0f} MB or more; the limit is {limit:.0f} MB)"
            )
            return _error("bad_reply", msg), []
        except BaseException as exc:
            msg = f"{name} returned a value that cannot be sent back ({describe_exception(exc)})"
            return _error("bad_reply", msg), []
        out["error"] = None
        return out, enc.buffers


def warning_text(caught: Any) -> str:
    """One recorded warning as "RuntimeWarning: overflow encountered in exp"."""
    try:
        return f"{caught.category.__name__}: {caught.message}"[:MAX_WARNING_CHARS]
    except BaseException:  # a student's warning class may have a hostile __str__
        return "a warning"


def _default_rng(seed: int) -> Any:
    import numpy

    return numpy.random.default_rng(seed)


def _error(kind: str, message: str, traceback: str | None = None) -> dict[str, Any]:
    return {
        "value": None,
        "args_after": None,
        "error": {"kind": kind, "message": message[:MAX_MESSAGE_CHARS], "traceback": traceback},
    }


def probe(header: dict[str, Any], own_fds: tuple[int, ...] = ()) -> dict[str, Any]:
    """Facts about this process's isolation, checked by the parent (never trusted for security)."""
    facts: dict[str, Any] = {"pid": os.getpid(), "uid": os.getuid(), "euid": os.geteuid()}
    facts["extra_fds"] = sorted(set(_open_fds()) - {0, 1, 2, *own_fds})
    try:
        with open("/proc/self/net/dev") as f:
            facts["interfaces"] = [ln.split(":")[0].strip() for ln in f.readlines()[2:]]
    except OSError as exc:
        facts["interfaces"] = [f"? {exc}"]
    try:
        with open("/proc/self/status") as f:
            status = dict(ln.split(":", 1) for ln in f if ":" in ln)
        facts["cap_eff"] = int(status["CapEff"].strip(), 16)
        facts["no_new_privs"] = int(status.get("NoNewPrivs", "0").strip())
    except (OSError, KeyError, ValueError):
        facts["cap_eff"] = -1
    facts["visible"] = [p for p in header.get("paths", []) if os.path.exists(p)]
    importable = []
    for mod in header.get("modules", []):
        try:
            __import__(mod)
            importable.append(mod)
        except BaseException:
            pass
    facts["importable"] = importable
    return facts


# --------------------------------------------------------------------------- main


def _import_wire(site: list[str]) -> None:
    """Import our copy of wire.py (it sits next to this file) and numpy (from ``site``)."""
    global wire
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.extend(site)
    sys.path.insert(0, here)
    import _sbx_wire

    sys.path.remove(here)
    wire = _sbx_wire


def _exit_builtin(code: Any = None) -> None:
    raise SystemExit(code)


def prepare(site: list[str]) -> None:
    """What every child needs before isolation, whether started fresh or forked."""
    sys.argv = [""]
    _import_wire(site)
    builtins.exit = builtins.quit = _exit_builtin  # normally added by site, which -S skips
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True, errors="backslashreplace")


def run(cfg: dict[str, Any]) -> None:
    """Isolate this process, set its limits, say "ready" and serve (never returns)."""
    req_fd, rep_fd, life_fd = cfg["fds"]
    chan = Channel(req_fd, rep_fd, wire.WireLimits(max_frame_bytes=2**62, max_header_bytes=2**31))
    try:
        isolate(cfg)
        importlib.invalidate_caches()
        for name in cfg["preimport"]:
            __import__(name)
        set_rlimits(cfg["rlimits"])
    except (SetupError, OSError, ImportError, ValueError) as exc:
        chan.send({"ev": "setup_failed", "error": f"{type(exc).__name__}: {exc}"})
        _exit(3)
    global _STRONG
    _STRONG = cfg["mode"] == "strong"
    start_lifeline(life_fd)
    chan.send({"ev": "ready", "pid": os.getpid(), "uid": os.getuid()})
    Runner(chan, cfg).serve()
    _exit(0)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--zygote":
        zygote_main(json.loads(sys.argv[2]))
        return
    cfg = json.loads(sys.argv[1])
    prepare(cfg["sys_path"])
    run(cfg)


# --------------------------------------------------------------------------- fork server


def _open_fds() -> list[int]:
    """This process's open descriptors (not counting the one that listed them)."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return []
    out = []
    for name in names:
        if name.isdigit():
            try:
                os.fstat(int(name))
            except OSError:
                continue  # the descriptor listdir used, closed by now
            out.append(int(name))
    return out


def _close_all_but(keep: set[int]) -> None:
    for fd in _open_fds():
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _send_frame(fd: int, header: dict[str, Any]) -> None:
    with contextlib.suppress(Exception):
        _write(fd, wire.frame_bytes(header))


def zygote_main(zcfg: dict[str, Any]) -> None:
    """Serve spawn requests on the socket in ``zcfg["sock"]`` until it closes.

    Requests (JSON, one per SOCK_SEQPACKET message): ``spawn`` with five descriptors attached
    (request, reply, lifeline, stdout, stderr) and the child's config and environment; answer
    ``spawned`` with a pidfd attached.  ``release`` lets a child's zombie be reaped.  When a
    child exits, its status is reported (``exit``) but the zombie is kept until released, so
    that its pid cannot be reused while the grader may still signal it.
    """
    prepare(zcfg["sys_path"])
    for name in zcfg["preimport"]:
        __import__(name)
    import gc

    gc.collect()
    gc.freeze()  # the forked children do not dirty the zygote's pages by collecting them
    # Not dumpable: a process of the same user (a fallback-mode submission) cannot ptrace
    # the zygote or read its memory to tamper with the children it will fork.
    _libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    sock = socket.socket(fileno=zcfg["sock"])
    sock.setblocking(True)
    own_pid = os.getpid()
    try:
        own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        own_pid_ns = -1
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    watched: dict[int, int] = {}  # pidfd -> pid of a running child
    exited: set[int] = set()  # reported, zombie kept
    released: set[int] = set()  # the grader is done with it: reap as soon as it exits

    def tell(message: dict[str, Any], fds: list[int] | None = None) -> None:
        data = json.dumps(message).encode()
        try:
            if fds:
                socket.send_fds(sock, [data], fds)
            else:
                sock.send(data)
        except OSError:
            _exit(0)  # the grader is gone

    tell({"ev": "ready", "pid": own_pid, "threads": _thread_count()})
    while True:
        try:
            events = poller.poll()
        except InterruptedError:
            continue
        for fd, _mask in events:
            if fd != sock.fileno():
                pid = watched.pop(fd)
                poller.unregister(fd)
                os.close(fd)
                info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
                code = info.si_status if info.si_code == os.CLD_EXITED else -info.si_status
                if pid in released:
                    released.discard(pid)
                    os.waitpid(pid, 0)
                else:
                    exited.add(pid)
                tell({"ev": "exit", "pid": pid, "status": code})
                continue
            try:
                data, fds, _flags, _addr = socket.recv_fds(sock, 1 << 16, 8)
            except OSError:
                _exit(0)
            if not data:
                _exit(0)  # the grader closed its end or died
            request = json.loads(data)
            if request.get("op") == "release":
                pid = int(request["pid"])
                if pid in exited:
                    exited.discard(pid)
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(pid, 0)
                else:
                    released.add(pid)
                continue
            try:
                pid = _fork_for(request, own_pid_ns)
            except OSError as exc:
                pid = -1
                tell({"ev": "error", "id": request.get("id"), "error": f"fork: {exc}"})
            if pid == 0:
                _spawned(request, fds, sock)  # never returns
            for f in fds:
                os.close(f)
            if pid > 0:
                pidfd = os.pidfd_open(pid)
                watched[pidfd] = pid
                poller.register(pidfd, select.POLLIN)
                tell({"ev": "spawned", "id": request.get("id"), "pid": pid}, [pidfd])


def _thread_count() -> int:
    """Threads of this process, native ones (a BLAS pool) included: forking needs exactly 1."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return threading.active_count()


def _direct(config: dict[str, Any]) -> bool:
    """Strong mode as root: the child is forked straight into a new PID namespace, as its
    init (no waiter process in between)."""
    return config.get("mode") == "strong" and bool(config.get("strong", {}).get("direct"))


def _fork_for(request: dict[str, Any], own_pid_ns: int) -> int:
    """Fork the child of a request; in direct strong mode, as the init of a new PID namespace
    (the zygote's own children-namespace is restored right after the fork)."""
    if not _direct(request["config"]) or own_pid_ns < 0:
        return os.fork()
    libc = _libc()
    if libc.unshare(ctypes.c_int(CLONE_NEWPID)) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWPID)")
    try:
        return os.fork()
    finally:
        if os.getpid() != 1 and libc.setns(own_pid_ns, CLONE_NEWPID) != 0:
            _exit(70)  # cannot restore: every later child would share a namespace


def _spawned(request: dict[str, Any], fds: list[int], sock: socket.socket) -> None:
    """In the freshly forked child of the zygote: become what a fresh start would be."""
    rep_fd = -1
    sock.detach()  # closed below with every other descriptor of the zygote
    try:
        req_fd, rep_fd, life_fd, out_fd, err_fd = fds
        _libc().prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # as a freshly started process is
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        # Nothing of the zygote (its socket, other children's pidfds) survives in the child.
        _close_all_but({0, 1, 2, req_fd, rep_fd, life_fd})
        os.environ.clear()
        os.environ.update(request["env"])
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            numpy.random.seed()  # a fresh import seeds the global RandomState from the OS
        cfg = dict(request["config"], fds=[req_fd, rep_fd, life_fd])
        if _direct(cfg):
            if os.getpid() != 1:
                raise SetupError("not the init of a new PID namespace")
            _check(_libc().unshare(ctypes.c_int(NAMESPACES & ~CLONE_NEWPID)), "unshare")
        elif cfg["mode"] == "strong":
            _enter_namespaces(cfg)
        run(cfg)
    except BaseException as exc:
        if rep_fd >= 0:
            _send_frame(rep_fd, {"ev": "setup_failed", "error": f"{type(exc).__name__}: {exc}"})
        _exit(3)
    _exit(0)


def _enter_namespaces(cfg: dict[str, Any]) -> None:
    """What ``unshare [--user --map-root-user] --net --pid --mount --ipc --uts --fork
    --kill-child`` does: new namespaces, then fork their init, which returns from here; this
    process stays outside, waits for the init and exits with its status."""
    libc = _libc()
    # No parent-death signal from the zygote: should it die, this submission goes on (the
    # grader still holds its pipes and a pidfd); the grader's death reaches the init through
    # its lifeline pipe, as with unshare.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    plan = cfg["strong"]
    flags = NAMESPACES | (CLONE_NEWUSER if plan["userns"] else 0)
    uid, gid = os.geteuid(), os.getegid()
    _check(libc.unshare(ctypes.c_int(flags)), "unshare")
    if plan["userns"]:
        maps = (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1"))
        for name, text in maps:
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    alive_r, alive_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pid 1 of the new PID namespace
        os.close(alive_w)
        _check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
        if select.select([alive_r], [], [], 0)[0]:
            _exit(1)  # the waiter died before pdeathsig was set
        os.close(alive_r)
        return
    os.close(alive_r)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    _close_all_but({0, 1, 2, alive_w})
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    _exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


if __name__ == "__main__":
    main()
