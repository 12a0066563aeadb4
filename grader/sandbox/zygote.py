"""A fork server ("zygote") per grader process: interpreter start and ``import numpy`` once.

A fresh sandbox child costs a Python start-up plus ``import numpy`` (~75 ms, much more on a
busy machine).  The zygote pays that once per grader process (per batch worker): it is
``child.py --zygote``, started lazily on the first spawn, and it never runs student code and
never receives any (source, arguments and results travel on each child's own pipes, never
through the zygote).  Per submission it forks a FRESH process, which then applies exactly the
isolation of a fresh start (``child._spawned``):

* its stdio and protocol descriptors are the ones the grader just created and passed over a
  Unix socket (SCM_RIGHTS); every other descriptor it inherited is closed (the zygote's
  socket, the pidfds of other children), and the probe checks that none is left;
* strong mode: it unshares new PID/network/mount/IPC/UTS namespaces (and a user namespace
  when not root), forks the namespace's init and waits for it, as ``unshare --fork
  --kill-child`` does; the init builds the pivot_root'ed allowlisted root with a fresh
  private /tmp, drops to a new random uid with no_new_privs, sets the rlimits: the same code
  as a fresh start (``child.run``);
* fallback mode: a new session, a subreaper, its own fresh private working directory, the
  rlimits, the reduced ``sys.path``: again ``child.run``;
* the legacy global ``numpy.random`` state is reseeded from the OS, as a fresh import does.

So one submission cannot affect the next: each child is a copy-on-write copy of a process
that never ran student code (a monkeypatched numpy, a changed cwd or a /tmp file die with the
child); killing a child kills everything it started (its PID namespace in strong mode, its
process tree in fallback) exactly as before.  What the forked children do share with each
other is what a fork shares by construction: the interpreter's hash seed and the address
layout (ASLR) of the zygote.  Neither carries information about another submission.

The zygote is not dumpable (no ptrace, no /proc/<pid>/mem for processes of the same user);
in strong mode no submission can even see it.  In fallback mode a deliberately malicious
submission running as the grader's own user could still signal it (it is then replaced) and,
if that user is root, tamper with it: the same gap as "can see and signal the grader's
processes" and "can write any file the grader's user can write" (numpy's own files included),
which fallback already documents.  Nothing a submission does by accident carries over.

Lifetime: the zygote belongs to the process that started it.  It exits when that process
closes the socket or dies (the socket is not inherited by ``exec``, and a ``fork`` of the
owner drops its copy: see ``_after_fork_in_child``).  Children do not die with the zygote
(a crashed zygote does not fail the submissions in flight; the next spawn starts a new one)
but with the grader, through its lifeline pipe, exactly as before.  After a
``fork`` of the owner (a ProcessPoolExecutor worker), the child starts its own zygote on
first use.  ``GRADER_SANDBOX_ZYGOTE=0`` turns the fork server off (fresh starts everywhere).

A child's exit status comes from the zygote (it is the parent); the zygote keeps the zombie
until the grader releases it, so a pid the grader may still signal is never reused.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ENV_SWITCH = "GRADER_SANDBOX_ZYGOTE"
#: After a zygote died this many times in one process, its mode goes back to fresh starts.
MAX_RESTARTS = 3
#: How long to wait for the zygote to report a child's exit status once the child is gone.
STATUS_SECONDS = 5.0


def enabled() -> bool:
    """Whether sandboxes should be forked from a zygote (``GRADER_SANDBOX_ZYGOTE``, default on)."""
    value = os.environ.get(ENV_SWITCH, "1").strip().lower()
    return value not in ("0", "no", "off", "false")


class ZygoteError(OSError):
    """The zygote could not start, or died; the caller falls back to a fresh start."""


class Zygote:
    """One running fork server and the grader's end of its socket.  Thread-safe."""

    def __init__(
        self,
        mode: str,
        config: dict[str, Any],
        env: dict[str, str],
        staging: Path,
        spawn_config: dict[str, Any],
    ) -> None:
        self.mode = mode
        self.staging = staging
        self.spawn_config = spawn_config  # what isolation.py adds to each child's config
        self.owner = os.getpid()
        self.lock = threading.Lock()
        self.statuses: dict[int, int] = {}
        self.released: set[int] = set()  # closed before their exit was reported
        self.broken: str | None = None
        self.ready = False
        self.started = time.monotonic()
        self.ready_seconds: float | None = None
        self.spawns = 0
        self._next_id = 0
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            argv = [
                sys.executable,
                "-I",
                "-S",
                "-B",
                str(staging / "_sbx_child.py"),
                "--zygote",
                json.dumps(dict(config, sock=theirs.fileno())),
            ]
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                env=env,
                cwd=staging,
                start_new_session=True,
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours

    # ------------------------------------------------------------------ messages

    def _recv(self, deadline: float) -> tuple[dict[str, Any], list[int]] | None:
        """One message (None at the deadline); exit reports are filed on the way.  Lock held."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([self.sock], [], [], remaining)
        if not ready:
            return None
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, 1 << 16, 4)
        except OSError as exc:
            self._break(f"the zygote's socket failed: {exc}")
            raise ZygoteError(self.broken) from None
        if not data:
            self._break("the zygote exited")
            raise ZygoteError(self.broken)
        message = json.loads(data)
        if message.get("ev") == "exit":
            pid = int(message["pid"])
            if pid in self.released:
                self.released.discard(pid)
            else:
                self.statuses[pid] = int(message["status"])
        return message, fds

    def _break(self, why: str) -> None:
        if self.broken is None:
            self.broken = why
        with contextlib.suppress(OSError):
            self.proc.kill()

    def _wait_ready(self, deadline: float) -> None:
        """Lock held."""
        while not self.ready:
            if self.broken:
                raise ZygoteError(self.broken)
            got = self._recv(deadline)
            if got is None:
                self._break("the zygote did not start in time")
                raise ZygoteError(self.broken)
            message, fds = got
            for fd in fds:
                os.close(fd)
            if message.get("ev") == "ready":
                if message.get("threads") != 1:
                    self._break(f"the zygote runs {message.get('threads')} threads, not 1")
                    raise ZygoteError(self.broken)
                self.ready = True
                self.ready_seconds = time.monotonic() - self.started

    def wait_ready(self, deadline: float) -> None:
        with self.lock:
            self._wait_ready(deadline)

    # ------------------------------------------------------------------ spawning

    def spawn(
        self, config: dict[str, Any], env: dict[str, str], fds: list[int], deadline: float
    ) -> tuple[int, int]:
        """Fork a child with these five descriptors; returns (pid, pidfd)."""
        with self.lock:
            if os.getpid() != self.owner:
                raise ZygoteError("this zygote belongs to another process")
            self._wait_ready(deadline)
            self._next_id += 1
            ident = self._next_id
            request = {"op": "spawn", "id": ident, "config": config, "env": env}
            try:
                socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
            except OSError as exc:
                self._break(f"cannot reach the zygote: {exc}")
                raise ZygoteError(self.broken) from None
            while True:
                got = self._recv(deadline)
                if got is None:
                    self._break("the zygote did not answer in time")
                    raise ZygoteError(self.broken)
                message, got_fds = got
                if message.get("id") != ident:
                    for fd in got_fds:
                        os.close(fd)
                    continue
                if message.get("ev") == "spawned" and len(got_fds) == 1:
                    self.spawns += 1
                    return int(message["pid"]), got_fds[0]
                for fd in got_fds:
                    os.close(fd)
                raise ZygoteError(str(message.get("error", "the zygote refused to fork")))

    def status(self, pid: int, deadline: float) -> int | None:
        """The exit status of a child that has exited (None if the zygote cannot tell)."""
        with self.lock:
            while pid not in self.statuses:
                if self.broken or os.getpid() != self.owner:
                    return None
                try:
                    if self._recv(deadline) is None:
                        return None
                except ZygoteError:
                    return None
            return self.statuses.pop(pid)

    def release(self, pid: int, collected: bool) -> None:
        """The grader is done with this child: its zombie may be reaped (its pid reused).
        ``collected``: its status was taken with ``status()``."""
        with self.lock:
            if self.statuses.pop(pid, None) is None and not collected:
                self.released.add(pid)  # its exit report is still to come: drop it then
            if self.broken or os.getpid() != self.owner:
                return
            with contextlib.suppress(OSError):
                self.sock.send(json.dumps({"op": "release", "pid": pid}).encode())

    # ------------------------------------------------------------------ stop

    def close(self, wait: float = 1.0) -> None:
        """Stop the zygote (closing the socket is the signal) and remove its staging."""
        with self.lock:
            self.broken = self.broken or "closed"
            with contextlib.suppress(OSError):
                self.sock.close()
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.staging, ignore_errors=True)

    def abandon(self) -> None:
        """In a forked copy of the owner: forget this zygote without touching it."""
        self.broken = "inherited through fork"
        self.owner = -1
        with contextlib.suppress(OSError):
            self.sock.close()  # the owner's own copy stays open
        self.proc.returncode = 0  # not our child: never wait for it here


class ZygoteProc:
    """A zygote-forked child as ``ChildProcess`` needs it: the subset of ``Popen`` it uses."""

    def __init__(self, zygote: Zygote, pid: int, pidfd: int) -> None:
        self.zygote = zygote
        self.pid = pid
        self.pidfd = pidfd
        self.returncode: int | None = None
        self._released = False

    def _gone(self, timeout: float | None) -> bool:
        if self.pidfd < 0:
            return True
        wait = None if timeout is None else max(0.0, timeout)
        ready, _, _ = select.select([self.pidfd], [], [], wait)
        return bool(ready)

    def _collect(self) -> None:
        status = self.zygote.status(self.pid, time.monotonic() + STATUS_SECONDS)
        # Unknown only when the zygote died before reporting it (reported as a SIGKILL).
        self.returncode = -signal.SIGKILL if status is None else status

    def poll(self) -> int | None:
        if self.returncode is None and self._gone(0):
            self._collect()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not self._gone(timeout):
                raise subprocess.TimeoutExpired(f"sandbox child {self.pid}", timeout or 0)
            self._collect()
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None and self.pidfd >= 0:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self.pidfd, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def close(self) -> None:
        """Free the pidfd; release the zombie once its status is known."""
        if self.pidfd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = -1
        if not self._released:
            self._released = True
            self.zygote.release(self.pid, self.returncode is not None)


# --------------------------------------------------------------------------- registry

_ZYGOTES: dict[tuple[str, tuple[str, ...]], Zygote] = {}
_RESTARTS: dict[tuple[str, tuple[str, ...]], int] = {}
_DISABLED: dict[tuple[str, tuple[str, ...]], str] = {}
_ABANDONED: list[Zygote] = []  # inherited through fork: kept alive, never used
_LOCK = threading.Lock()
_ATEXIT = False


def acquire(
    mode: str,
    packages: tuple[str, ...],
    setup: Any,
) -> Zygote | None:
    """This process's zygote for (mode, packages), started if needed; None when the fork
    server is off or failed for this mode.  ``setup()`` returns (config, env, staging,
    spawn_config) for a new zygote."""
    global _ATEXIT
    if not enabled():
        return None
    key = (mode, tuple(packages))
    with _LOCK:
        if key in _DISABLED:
            return None
        zygote = _ZYGOTES.get(key)
        if zygote is not None and zygote.broken is None and zygote.proc.poll() is not None:
            zygote.broken = "the zygote exited"
        if zygote is not None and zygote.broken is None:
            return zygote
        if zygote is not None:
            _ZYGOTES.pop(key)
            _RESTARTS[key] = _RESTARTS.get(key, 0) + 1
            _retire(zygote)
            if _RESTARTS[key] > MAX_RESTARTS:
                _DISABLED[key] = f"the zygote died {_RESTARTS[key]} times: {zygote.broken}"
                return None
        config, env, staging, spawn_config = setup()
        try:
            zygote = Zygote(mode, config, env, staging, spawn_config)
        except OSError as exc:
            _DISABLED[key] = f"cannot start the zygote: {exc}"
            return None
        _ZYGOTES[key] = zygote
        if not _ATEXIT:
            _ATEXIT = True
            atexit.register(shutdown)
        return zygote


def _retire(zygote: Zygote) -> None:
    threading.Thread(target=zygote.close, daemon=True).start()


def disable(mode: str, packages: tuple[str, ...], why: str) -> None:
    """Use fresh starts for (mode, packages) in this process from now on."""
    key = (mode, tuple(packages))
    with _LOCK:
        _DISABLED[key] = why
        zygote = _ZYGOTES.pop(key, None)
    if zygote is not None:
        zygote.close()


def state(mode: str, packages: tuple[str, ...]) -> str:
    """How children of (mode, packages) are started here, in words (for describe_isolation)."""
    key = (mode, tuple(packages))
    if not enabled():
        return f"fresh interpreter per child ({ENV_SWITCH}=0)"
    if key in _DISABLED:
        return f"fresh interpreter per child (fork server off: {_DISABLED[key]})"
    return "forked from a per-process fork server (zygote) that has imported numpy"


def running(mode: str, packages: tuple[str, ...]) -> Zygote | None:
    """The live zygote for (mode, packages) in this process, if any (for tests and bench)."""
    zygote = _ZYGOTES.get((mode, tuple(packages)))
    return zygote if zygote is not None and zygote.broken is None else None


def shutdown() -> None:
    """Kill this process's live sandbox children, then stop its zygotes (atexit)."""
    from . import process

    process._kill_all_children()
    with _LOCK:
        zygotes = list(_ZYGOTES.values())
        _ZYGOTES.clear()
    for zygote in zygotes:
        if zygote.owner == os.getpid():
            with contextlib.suppress(Exception):
                zygote.close()


def _after_fork_in_child() -> None:
    global _LOCK
    _LOCK = threading.Lock()
    for zygote in _ZYGOTES.values():
        zygote.lock = threading.Lock()
        zygote.abandon()
        _ABANDONED.append(zygote)
    _ZYGOTES.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


__all__ = [
    "ENV_SWITCH",
    "Zygote",
    "ZygoteError",
    "ZygoteProc",
    "acquire",
    "disable",
    "enabled",
    "running",
    "shutdown",
    "state",
]
