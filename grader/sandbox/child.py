"""The sandboxed child process: runs a submission's code and answers calls over pipes.

This file is copied, with wire.py, into a private directory and started as
``python -I -S -B child.py CONFIG_JSON``; it never imports the ``grader`` package.  Order of
events: import wire.py and numpy; isolate (strong mode: mounts, pivot_root, drop privileges;
fallback: become a subreaper); import the rest of numpy; set rlimits; start the lifeline
thread; say "ready"; then serve frames on the request pipe until it closes:

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
import json
import linecache
import os
import resource
import signal
import sys
import threading
import types
from typing import Any

wire: Any = None  # the private copy of grader/sandbox/wire.py, imported by main()

# Kept before student code runs, so that rebinding os/json functions cannot break the protocol.
_write = os.write
_read = os.read
_exit = os._exit

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 1, 38, 36
PR_CAPBSET_DROP = 24
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}

MAX_MESSAGE_CHARS = 2000
MAX_TRACEBACK_CHARS = 8000
MAX_NAMES = 5000
MAX_CHUNK_ERRORS = 200
MAX_ITEMS = 200_000  # Python values (not array elements) in one reply


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
            data = _read(self.req_fd, 1 << 20)
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
    """Build the child's whole filesystem view from an allowlist, then pivot into it."""
    root = plan["root"]
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
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
    os.makedirs(root + "/tmp")
    size = f"mode=1777,size={plan['tmp_mb']}m,nr_inodes=4096"
    _mount(libc, "tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, size)
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
    # Changing credentials cleared the parent-death signal that unshare --kill-child set.
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


class Student:
    """The submission's namespace and what is needed to talk about its code in its terms."""

    def __init__(self) -> None:
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


class Runner:
    """Serves the parent's requests."""

    def __init__(self, chan: Channel, cfg: dict[str, Any]) -> None:
        self.chan = chan
        self.cfg = cfg
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
                self.chan.send({"ev": "probe", "facts": probe(frame.header)})
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
            value = fn(*args)
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
        return self._encode_result(name, value, args if want_args else None)

    def _encode_result(
        self, name: str, value: Any, args: Any
    ) -> tuple[dict[str, Any], list[memoryview]]:
        # Python-level items are slow to encode (arrays are not): cap them well below what a
        # plain-data answer needs, so that encoding cannot eat the call's time limit.
        enc = wire.Encoder(strict=False, max_bytes=self.max_reply - 65536, max_items=MAX_ITEMS)
        try:
            out: dict[str, Any] = {"value": enc.encode(value)}
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


def _default_rng(seed: int) -> Any:
    import numpy

    return numpy.random.default_rng(seed)


def _error(kind: str, message: str, traceback: str | None = None) -> dict[str, Any]:
    return {
        "value": None,
        "args_after": None,
        "error": {"kind": kind, "message": message[:MAX_MESSAGE_CHARS], "traceback": traceback},
    }


def probe(header: dict[str, Any]) -> dict[str, Any]:
    """Facts about this process's isolation, checked by the parent (never trusted for security)."""
    facts: dict[str, Any] = {"pid": os.getpid(), "uid": os.getuid(), "euid": os.geteuid()}
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


def main() -> None:
    cfg = json.loads(sys.argv[1])
    sys.argv = [""]
    _import_wire(cfg["sys_path"])
    builtins.exit = builtins.quit = _exit_builtin  # normally added by site, which -S skips
    req_fd, rep_fd, life_fd = cfg["fds"]
    chan = Channel(req_fd, rep_fd, wire.WireLimits(max_frame_bytes=2**62, max_header_bytes=2**31))
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True, errors="backslashreplace")
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


if __name__ == "__main__":
    main()
