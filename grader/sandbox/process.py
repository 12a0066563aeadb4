"""One child process: spawning it, talking to it without ever blocking, killing its whole tree.

Every wait is bounded by a deadline: the parent multiplexes the reply pipe, the student's
stdout/stderr pipes (drained into capped buffers) and, where available, a pidfd that tells
when the child died even if a stray grandchild still holds the pipes open.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import errno
import fcntl
import itertools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import wire

HERE = Path(__file__).resolve().parent
READ_CHUNK = 1 << 16  # stdout/stderr; replies are read in frame-sized pieces
#: Capacity asked for the request and reply pipes (Linux's default is 64 KiB): a 100,000-
#: parameter network (800 KB) then crosses in one write instead of a dozen wake-ups.
PIPE_BYTES = 1 << 20


def _widen(*fds: int) -> None:
    """Grow pipes to PIPE_BYTES where the system allows (never an error if it does not)."""
    setpipe = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setpipe is None:
        return
    for fd in fds:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, setpipe, PIPE_BYTES)


# Children alive in this process, killed at interpreter exit if nobody closed them.
_LIVE: set[ChildProcess] = set()
_LIVE_LOCK = threading.Lock()
_SWEPT = False


@dataclass
class Event:
    """A frame from the child."""

    header: dict[str, Any]
    body: bytes


@dataclass
class Timeout:
    """The deadline passed with no frame."""


@dataclass
class Died:
    """The child exited; ``status`` is its wait status as Popen reports it (-signal or code)."""

    status: int | None


@dataclass
class Flooded:
    """The child printed more than the abort limit."""


@dataclass
class Bad:
    """The child sent bytes that are not a valid frame; the channel cannot be trusted any more."""

    reason: str


class Capture:
    """stdout and stderr of one phase or call, kept up to a cap and counted in full.

    Captures created with the same ``pool`` (a one-item list) share one cap between them.
    """

    def __init__(self, cap: int, pool: list[int] | None = None) -> None:
        self.pool = pool if pool is not None else [cap]
        self.kept = {1: bytearray(), 2: bytearray()}
        self.total = 0

    def add(self, stream: int, data: bytes) -> None:
        self.total += len(data)
        room = self.pool[0]
        if room > 0:
            piece = data[:room]
            self.kept[stream] += piece
            self.pool[0] -= len(piece)

    @property
    def truncated(self) -> bool:
        return self.total > len(self.kept[1]) + len(self.kept[2])

    def text(self, stream: int) -> str:
        return self.kept[stream].decode("utf-8", errors="replace")


class Splitter:
    """Splits one output stream at the child's end-of-call markers.

    The child writes a marker to fd 1 and fd 2 after each call and before its reply, so the
    bytes before the i-th marker are exactly call i's output (a student who forges markers
    only scrambles the attribution of their own output).
    """

    def __init__(self, marker: bytes) -> None:
        self.marker = marker
        self.pending = b""

    def feed(self, data: bytes) -> list[bytes | None]:
        """Pieces of output in order, with None where a marker was."""
        buf = self.pending + data
        out: list[bytes | None] = []
        while (k := buf.find(self.marker)) >= 0:
            out += [buf[:k], None]
            buf = buf[k + len(self.marker) :]
        # Keep back the longest end of buf that could be the start of a marker.
        keep = 0
        first = self.marker[:1]
        k = buf.find(first, max(0, len(buf) - len(self.marker) + 1))
        while k >= 0:
            if self.marker.startswith(buf[k:]):
                keep = len(buf) - k
                break
            k = buf.find(first, k + 1)
        out.append(buf[: len(buf) - keep])
        self.pending = buf[len(buf) - keep :]
        return out


class Outbox:
    """Frames waiting to be written, kept as the pieces they were packed in (the JSON header,
    then memoryviews of the argument arrays): written with writev, never copied here."""

    def __init__(self) -> None:
        self.pieces: collections.deque[memoryview] = collections.deque()
        self.size = 0

    def __bool__(self) -> bool:
        return self.size > 0

    def add(self, pieces: list[Any]) -> None:
        for piece in pieces:
            view = memoryview(piece).cast("B")
            if len(view):
                self.pieces.append(view)
                self.size += len(view)

    def write(self, fd: int) -> None:
        batch = list(itertools.islice(self.pieces, 64))
        n = os.writev(fd, batch)
        self.size -= n
        while n:
            head = self.pieces[0]
            if len(head) <= n:
                n -= len(head)
                self.pieces.popleft()
            else:
                self.pieces[0] = head[n:]
                n = 0

    def clear(self) -> None:
        self.pieces.clear()
        self.size = 0


@dataclass
class SpawnSpec:
    """Everything needed to start a child (built by isolation.py)."""

    mode: str  # "strong" or "fallback"
    argv_prefix: list[str]  # e.g. ["unshare", "--net", ..., "--"] or []
    config: dict[str, Any]  # passed to child.py as JSON (fds are filled in here)
    env: dict[str, str]
    staging: Path | None  # private directory (child.py/wire.py, a workdir); removed on kill
    zygote: Any = None  # a zygote.Zygote to fork the child from, instead of a fresh start
    fresh: Any = None  # () -> SpawnSpec for a fresh start, should the zygote fail


STAGING_PREFIX = "grader-sandbox-"


def _remove_stale_staging() -> None:
    """Remove staging directories left by graders that were killed (their pid is gone)."""
    tmp = Path(tempfile.gettempdir())
    for entry in tmp.glob(STAGING_PREFIX + "*-*"):
        pid = entry.name[len(STAGING_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(entry, ignore_errors=True)


def make_staging(copy_code: bool = True) -> Path:
    """A private directory with copies of child.py and wire.py for the child to run
    (``copy_code=False``: an empty one, e.g. for a forked child's working directory)."""
    global _SWEPT
    if not _SWEPT:
        _SWEPT = True
        with contextlib.suppress(OSError):
            _remove_stale_staging()
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-"))
    staging.chmod(0o755)
    if copy_code:
        shutil.copyfile(HERE / "child.py", staging / "_sbx_child.py")
        shutil.copyfile(HERE / "wire.py", staging / "_sbx_wire.py")
    return staging


class ChildProcess:
    """A running child.  Not thread-safe; one per Sandbox at a time."""

    def __init__(self, spec: SpawnSpec, limits: wire.WireLimits) -> None:
        self.spec = spec
        self.reader = wire.FrameReader(limits)
        self.marker = b"\x00\x1bGSB" + os.urandom(8).hex().encode() + b"\x00"
        self.splitters = {1: Splitter(self.marker), 2: Splitter(self.marker)}
        self.captures = [Capture(0)]
        self.segment = {1: 0, 2: 0}
        self.output_total = 0
        self.markers_ok = True  # False once a marker failed to arrive (see wait_markers)
        self.frames: list[wire.Frame] = []
        self.outbuf = Outbox()
        self.proc: Any = None  # a subprocess.Popen, or a zygote.ZygoteProc
        self.pidfd: int | None = None
        self.init_pid: int | None = None  # strong mode: the namespace's init, seen from outside
        self.init_pidfd: int | None = None
        self.killed_by_us = False
        self.capture_abort = 2**62  # bytes of output after which next_event reports Flooded
        self.owner = os.getpid()  # a forked copy of the grader must not kill our children
        self._fds: list[int] = []
        self._stream_fds: list[int] = []
        self._poll_key: tuple[Any, ...] | None = None
        self._poll: Any = None

    # ------------------------------------------------------------------ start

    def spawn(self, deadline: float | None = None) -> None:
        """Start the child: forked from the spec's zygote if it has one, else a fresh
        interpreter (``deadline`` bounds waiting for the zygote)."""
        if self.spec.zygote is not None:
            self._spawn_forked(deadline if deadline is not None else time.monotonic() + 20)
            return
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        life_r, life_w = os.pipe()
        _widen(req_w, rep_w)
        config = dict(self.spec.config, fds=[req_r, rep_w, life_r])
        argv = [
            *self.spec.argv_prefix,
            sys.executable,
            "-I",
            "-S",
            "-B",
            str(self.spec.staging / "_sbx_child.py"),
            json.dumps(config),
        ]
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(req_r, rep_w, life_r),
                env=self.spec.env,
                cwd=self.spec.staging,
                start_new_session=True,
            )
        finally:
            for fd in (req_r, rep_w, life_r):
                os.close(fd)
        self.req_w, self.rep_r, self.life_w = req_w, rep_r, life_w
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.out_r, self.err_r = self.proc.stdout.fileno(), self.proc.stderr.fileno()
        self._fds = [req_w, rep_r, life_w]
        for fd in (req_w, rep_r, self.out_r, self.err_r):
            os.set_blocking(fd, False)
        with contextlib.suppress(AttributeError, OSError):
            self.pidfd = os.pidfd_open(self.proc.pid)
        with _LIVE_LOCK:
            _LIVE.add(self)

    def _spawn_forked(self, deadline: float) -> None:
        from .zygote import ZygoteProc

        ends = [os.pipe() for _ in range(5)]  # request, reply, lifeline, stdout, stderr
        (req_r, req_w), (rep_r, rep_w), (life_r, life_w), (out_r, out_w), (err_r, err_w) = ends
        theirs = [req_r, rep_w, life_r, out_w, err_w]
        ours = [req_w, rep_r, life_w, out_r, err_r]
        _widen(req_w, rep_w)
        try:
            pid, pidfd = self.spec.zygote.spawn(self.spec.config, self.spec.env, theirs, deadline)
        except BaseException:
            for fd in ours:
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        self.proc = ZygoteProc(self.spec.zygote, pid, pidfd)
        self.req_w, self.rep_r, self.life_w = req_w, rep_r, life_w
        self.out_r, self.err_r = out_r, err_r
        self._fds = [req_w, rep_r, life_w]
        self._stream_fds = [out_r, err_r]
        for fd in (req_w, rep_r, out_r, err_r):
            os.set_blocking(fd, False)
        self.pidfd = os.dup(pidfd)
        with _LIVE_LOCK:
            _LIVE.add(self)

    def locate_init(self) -> None:
        """Strong mode: find the pid (outside the namespace) of the child unshare forked, and
        hold a pidfd on it so that a later signal cannot reach a recycled pid."""
        if self.proc is None or self.spec.mode != "strong":
            return
        if self.spec.config.get("strong", {}).get("direct"):
            # Forked by the zygote straight into its PID namespace: the child is the init.
            # (The zygote keeps its zombie until we release it: the pid stays ours.)
            self.init_pid = self.proc.pid
            if self.init_pidfd is None and self.pidfd is not None:
                self.init_pidfd = os.dup(self.pidfd)
            return
        path = f"/proc/{self.proc.pid}/task/{self.proc.pid}/children"
        with contextlib.suppress(OSError, ValueError):
            kids = Path(path).read_text().split()
            if kids:
                self.init_pid = int(kids[0])
        if self.init_pid is not None and self.init_pidfd is None:
            with contextlib.suppress(AttributeError, OSError):
                self.init_pidfd = os.pidfd_open(self.init_pid)

    @property
    def python_pid(self) -> int | None:
        """The pid of the Python process running child.py (signals go there)."""
        if self.spec.mode == "strong":
            return self.init_pid
        return self.proc.pid if self.proc else None

    # ------------------------------------------------------------------ talk

    def send(self, header: dict[str, Any], buffers: list[memoryview] | None = None) -> None:
        """Queue a frame; it is written while waiting for events, never blocking."""
        self.outbuf.add(wire.pack_frame(header, buffers))

    def interrupt(self) -> None:
        """Ask the child to stop the top-level statement it is running (it may refuse)."""
        if self.spec.mode == "strong" and self.init_pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self.init_pidfd, signal.SIGUSR1)
            return
        pid = self.python_pid
        if pid is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGUSR1)

    def next_event(self, deadline: float) -> Event | Timeout | Died | Bad | Flooded:
        """Wait until a frame arrives, the child dies, the channel breaks or the deadline."""
        while True:
            if self.frames:
                frame = self.frames.pop(0)
                return Event(frame.header, frame.body)
            if self.proc is None:
                return Died(None)
            if self.output_total > self.capture_abort:
                return Flooded()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Timeout()
            outcome = self._poll_once(remaining)
            if outcome is not None:
                return outcome

    def _poller(self) -> select.poll:
        """A poll object for the descriptors of interest now (reused while they stay)."""
        wanted = tuple(fd for fd in (self.rep_r, self.out_r, self.err_r) if fd >= 0)
        key = (wanted, self.req_w if self.outbuf else -1, self.pidfd)
        if self._poll_key != key:
            poller = select.poll()
            for fd in wanted:
                poller.register(fd, select.POLLIN)
            if self.outbuf:
                poller.register(self.req_w, select.POLLOUT)
            if self.pidfd is not None:
                poller.register(self.pidfd, select.POLLIN)
            self._poll_key, self._poll = key, poller
        return self._poll

    def _poll_once(self, remaining: float) -> Died | Bad | None:
        poller = self._poller()
        # Without a pidfd, wake up regularly to notice a dead child whose pipes stay open.
        wait = remaining if self.pidfd is not None else min(remaining, 0.05)
        try:
            ready = poller.poll(max(0, int(wait * 1000) + 1))
        except InterruptedError:
            return None
        for fd, _ev in ready:
            if fd == self.rep_r:
                bad = self._read_reply()
                if bad is not None:
                    return bad
            elif fd in (self.out_r, self.err_r):
                self._read_output(fd)
            elif fd == self.req_w:
                self._write_some()
        if self.frames:
            return None
        if self.rep_r < 0 or self._exited(ready):
            return self._on_exit()
        return None

    def _exited(self, ready: list[tuple[int, int]]) -> bool:
        if self.pidfd is not None:
            return any(fd == self.pidfd for fd, _ in ready)
        return self.proc is not None and self.proc.poll() is not None

    def _on_exit(self) -> Died | None:
        """The child is gone (or closed its reply pipe): collect what it left, then report."""
        self.drain(0.2)
        if self.frames:
            return None
        if self.proc is not None and self.proc.poll() is None:
            # Reply pipe closed but the process lives on: it broke the protocol.
            self.kill()
        status = self.proc.wait() if self.proc is not None else None
        return Died(status)

    def _read_reply(self) -> Bad | None:
        target = self.reader.direct()
        try:
            if target is not None:
                n = os.readv(self.rep_r, [target])
                data = b"" if n == 0 else None
            else:
                data = os.read(self.rep_r, self.reader.read_size())
        except BlockingIOError:
            return None
        except OSError as exc:
            return Bad(f"reply pipe: {exc}")
        finally:
            if target is not None:
                target.release()
        if data == b"":
            os.close(self.rep_r)
            self._fds.remove(self.rep_r)
            self.rep_r = -1
            return None
        try:
            if data is None:
                self.frames.extend(self.reader.filled(n))
            else:
                self.frames.extend(self.reader.feed(data))
        except wire.WireError as exc:
            return Bad(str(exc))
        return None

    def _read_output(self, fd: int) -> None:
        stream = 1 if fd == self.out_r else 2
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.output_total += len(data)
            for piece in self.splitters[stream].feed(data):
                if piece is None:
                    self.segment[stream] += 1
                elif piece:
                    index = min(self.segment[stream], len(self.captures) - 1)
                    self.captures[index].add(stream, piece)
        elif stream == 1:
            self.out_r = -1
        else:
            self.err_r = -1

    def _write_some(self) -> None:
        try:
            self.outbuf.write(self.req_w)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            self.outbuf.clear()  # the child is gone; _on_exit will report it

    @property
    def capture(self) -> Capture:
        """The capture of the current phase (the load, or the first call of a batch)."""
        return self.captures[0]

    def set_captures(self, captures: list[Capture]) -> None:
        """Route output to ``captures[i]`` until the i-th end-of-call marker on each stream."""
        self.captures = captures
        self.segment = {1: 0, 2: 0}
        self.output_total = 0

    def wait_markers(self, count: int, deadline: float) -> None:
        """Wait (up to ``deadline``) until both streams passed ``count`` markers.

        If a marker ever fails to arrive (the submission redirected its fds), later calls do
        not wait again: attribution becomes approximate instead of slow.
        """
        while self.segment[1] < count or self.segment[2] < count:
            if not self.markers_ok:
                self.drain()
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.markers_ok = False
                return
            if self.proc is None or (self.out_r < 0 and self.err_r < 0):
                return
            if self._poll_once(remaining) is not None:
                return

    def drain(self, seconds: float = 0.0) -> None:
        """Read whatever output and reply bytes are already there (up to ``seconds``)."""
        end = time.monotonic() + seconds
        while True:
            fds = [fd for fd in (self.rep_r, self.out_r, self.err_r) if fd >= 0]
            if not fds:
                return
            left = max(0.0, end - time.monotonic())
            ready, _, _ = select.select(fds, [], [], left)
            if not ready:
                return
            for fd in ready:
                if fd == self.rep_r:
                    if self._read_reply() is not None:
                        return
                else:
                    self._read_output(fd)

    # ------------------------------------------------------------------ stop

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the child and everything it started; wait for them; free the resources."""
        if self.proc is None:
            return
        if os.getpid() != self.owner:
            self.close_fds()  # inherited through fork: the grader that started it kills it
            return
        self.killed_by_us = True
        if self.spec.mode == "strong":
            if self.init_pid is None:
                self.locate_init()
            kill_namespace(self.proc, self.init_pid, self.init_pidfd)
        else:
            kill_tree(self.proc.pid)
            self.proc.wait()
        self.close_fds()

    def close_fds(self) -> None:
        for fd in self._fds + self._stream_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []
        self._stream_fds = []
        self.rep_r = -1
        for name in ("pidfd", "init_pidfd"):
            fd = getattr(self, name)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, None)
        if self.proc is not None:
            for stream in (getattr(self.proc, "stdout", None), getattr(self.proc, "stderr", None)):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            if os.getpid() == self.owner and hasattr(self.proc, "close"):
                self.proc.close()  # a zygote child: release its zombie
        self.out_r = self.err_r = -1
        if self.spec.staging is not None and os.getpid() == self.owner:
            shutil.rmtree(self.spec.staging, ignore_errors=True)
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def __hash__(self) -> int:
        return id(self)


def kill_namespace(proc: Any, init_pid: int | None, init_pidfd: int | None = None) -> None:
    """Strong mode: killing the PID namespace's init makes the kernel kill every process in
    the namespace, detached or not; unshare (or the zygote's waiter) then exits.  Waiting for
    it therefore waits until the namespace is empty."""
    if init_pidfd is not None:
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(init_pidfd, signal.SIGKILL)
    elif init_pid is not None:
        with contextlib.suppress(OSError):
            os.kill(init_pid, signal.SIGKILL)
    if init_pid is not None or init_pidfd is not None:
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            pass
    # unshare --kill-child turns our SIGKILL of unshare into SIGKILL of the init.
    with contextlib.suppress(OSError):
        proc.kill()
    proc.wait()


def _parent_map() -> dict[int, int]:
    """pid -> ppid of every process, from /proc."""
    out: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            out[int(entry.name)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return out


def descendants(pid: int) -> set[int]:
    parents = _parent_map()
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        cur = frontier.pop()
        for child, parent in parents.items():
            if parent == cur and child not in found:
                found.add(child)
                frontier.append(child)
    return found


def kill_tree(pid: int) -> None:
    """Fallback mode: stop then kill the child, its process group and every descendant.

    The child is a subreaper, so orphans of the submission stay its descendants and are found
    here; descendants are stopped first so that a fork loop cannot outrun the sweep.
    """
    seen: set[int] = set()
    for _ in range(20):
        found = descendants(pid) if os.path.isdir("/proc") else set()
        new = found - seen
        if not new:
            break
        for p in new:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGSTOP)
        seen |= new
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    for p in seen | {pid}:
        with contextlib.suppress(OSError):
            os.kill(p, signal.SIGKILL)


@atexit.register
def _kill_all_children() -> None:
    with _LIVE_LOCK:
        live = [child for child in _LIVE if child.owner == os.getpid()]
    for child in live:
        with contextlib.suppress(Exception):
            child.kill()


def _forget_children_after_fork() -> None:
    """A forked copy of the grader does not own (and must never kill) the sandboxes of the
    process it was forked from."""
    global _LIVE_LOCK
    _LIVE_LOCK = threading.Lock()
    _LIVE.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_children_after_fork)
