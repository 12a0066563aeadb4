"""Which isolation this machine gives, and how a child is started in each mode.

STRONG mode (Linux, root, util-linux ``unshare``; nothing to install on Debian/Ubuntu):
the child is started as ``unshare --net --pid --mount --ipc --uts --fork --kill-child``.
Before any student code runs it

* builds a new root filesystem from an allowlist on a tmpfs and ``pivot_root``s into it,
  detaching the old root: read-only binds of /usr, /etc, the top-level /bin, /lib... links and
  the Python installation; every site-packages directory (and the project) covered by an
  empty tmpfs, with only the allowed packages (numpy) bound back in; a fresh /proc of its own
  PID namespace, a minimal /dev (null, zero, full, random, urandom), a private size-limited
  writable /tmp, and nothing else (no /home, /root, /work, /srv, /mnt, /var, /run);
* drops to a user id of its own (random, unused, per sandbox, so RLIMIT_NPROC really counts
  only its processes) with no supplementary groups, sets PR_SET_NO_NEW_PRIVS, then sets rlimits.

So the submission has no network (a new network namespace with only a down loopback), cannot
see or signal the grader or other processes, cannot read the answer key, the grader or other
submissions, cannot write anywhere but its private /tmp, cannot undo the mounts (they are
locked, and it has no capabilities), and every process it starts, detached or double-forked,
lives in its PID namespace and dies when the namespace's init is killed.

FALLBACK mode (anything else): the child runs as the grader's own user with rlimits
(address space, CPU, open files, file size, no core files), in a new session and process
group, as a child subreaper, from a private temporary directory, with ``sys.path`` reduced to
the standard library and a directory that links only the allowed packages.  Fallback does NOT
stop a submission from:

* reading any file the grader's user can read, including the answer key (``reference/``),
  the grader's code and other students' submissions, by absolute path or by adding a
  directory to ``sys.path``;
* writing any file the grader's user can write (a report file that the grader writes *after*
  grading is rewritten by the grader, but a file written concurrently could be tampered with);
* using the network;
* seeing other processes, reading ``/proc/<pid>/cmdline`` of the grader and signalling
  processes of the same user;
* leaving a process behind if it both disables the subreaper (prctl) and double-forks: such a
  process escapes the process-group and descendant sweep;
* fork-bombing the user's process table (RLIMIT_NPROC is not set, since it counts every
  process of the user, not just the sandbox's).

Set ``GRADER_SANDBOX=strong|fallback|auto`` to force a mode (strong fails loudly if it cannot
be had).  An explicit request (``Sandbox(isolation="strong"|"fallback")``, the commands'
``--isolation``) takes precedence over it; only "auto" follows it.  ``resolve`` says which mode
a request gets and why (the ``isolation`` field of every report); asking for strong where it
cannot be had raises ``IsolationUnavailable``.

Python, a virtual environment or the allowed packages may live under /tmp (CI runners, tox,
``pip install --target``): the child's private /tmp is mounted first and their read-only binds
go on top of it, so strong mode works wherever they are; Python installed straight into /tmp
is bound by its ``bin``/``lib`` directories only, never the whole real /tmp.

HOW A CHILD STARTS (both modes): by default it is forked from a per-process fork server
(``zygote.py``) that has already started Python and imported numpy, and the forked process
then goes through exactly the isolation steps above (in strong mode it unshares the same
namespaces itself, then forks their init); with ``GRADER_SANDBOX_ZYGOTE=0``, or when the fork
server fails for a mode (the strong probe is then repeated with a fresh start), each child is
a fresh interpreter as described above.  ``describe_isolation().details["spawn"]`` says which.
"""

from __future__ import annotations

import importlib.util
import math
import os
import random
import shutil
import site
import sys
import sysconfig
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import wire, zygote
from .model import Limits
from .process import ChildProcess, Died, Event, SpawnSpec, make_staging

#: Packages the submission may import besides the standard library.
DEFAULT_PACKAGES: tuple[str, ...] = ("numpy",)
#: Modules imported in the child before student code runs (under the memory limit later).
PREIMPORT = ("numpy", "numpy.random", "numpy.linalg")
#: Packages that hold the answer key or the grader: never importable in strong mode.
PRIVATE_PACKAGES = ("grader", "reference", "exercises")

UNSHARE_FLAGS = ["--net", "--pid", "--mount", "--ipc", "--uts", "--fork", "--kill-child"]
STARTUP_SECONDS = 20.0


class IsolationWarning(UserWarning):
    """Emitted once per process when student code runs without strong isolation."""


class IsolationUnavailable(RuntimeError):
    """Strong isolation was asked for (explicitly or by ``GRADER_SANDBOX=strong``) and cannot
    be had here; the message says why in one line."""


#: What a caller may ask for.
ISOLATION_CHOICES = ("auto", "strong", "fallback")


@dataclass(frozen=True)
class IsolationInfo:
    """What ``grader doctor`` shows: the mode this machine gives and why."""

    mode: str  # "strong" or "fallback"
    reason: str
    protects: tuple[str, ...]
    does_not_protect: tuple[str, ...]
    startup_seconds: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """A human-readable report, e.g. for ``grader doctor``."""
        out = [f"isolation: {self.mode} ({self.reason})"]
        if self.startup_seconds is not None:
            out.append(f"child start-up: {self.startup_seconds * 1000:.0f} ms")
        if self.details.get("spawn"):
            out.append(f"children: {self.details['spawn']}")
        out += [f"  protects: {p}" for p in self.protects]
        out += [f"  does NOT protect: {p}" for p in self.does_not_protect]
        return out


STRONG_PROTECTS = (
    "wall-clock limits per call, per load and per submission (SIGKILL)",
    "memory, CPU, open files, file size and process count limits (rlimits)",
    "no network (own network namespace)",
    "own PID namespace: no other process visible; every process it starts dies with it",
    "allowlisted filesystem: answer key, grader, project and other submissions invisible",
    "writes only to a private size-limited /tmp",
    "runs as an unprivileged user of its own with no_new_privs",
)
FALLBACK_PROTECTS = (
    "wall-clock limits per call, per load and per submission (SIGKILL)",
    "memory, CPU, open files and file size limits (rlimits)",
    "runs in its own process group as a subreaper; the tree is swept on close",
    "sys.path limited to the standard library and numpy",
)
FALLBACK_GAPS = (
    "can read the answer key and grader files by path (same user as the grader)",
    "can write any file the grader's user can write",
    "has network access",
    "can see and signal the grader's processes",
    "a process that leaves the subreaper tree (prctl + double fork) can outlive grading",
    "no process-count limit",
)


# --------------------------------------------------------------------------- paths


def _real(p: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.fspath(p))


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _package_dir(name: str) -> str | None:
    """Directory of an installed top-level package, without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return _real(list(spec.submodule_search_locations)[0])
    return _real(spec.origin) if spec.origin else None


def project_root() -> str:
    """The directory holding the grader package (the repository in a development install)."""
    return _real(Path(__file__).resolve().parents[2])


def private_paths() -> list[str]:
    """Directories a submission must not see: the project and the private packages."""
    out = [project_root()]
    for name in PRIVATE_PACKAGES:
        d = _package_dir(name)
        if d:
            out.append(d)
    return sorted(set(out))


def private_files() -> list[str]:
    """Concrete files whose visibility proves a leak (checked by the probe and the tests)."""
    out = []
    for d in private_paths():
        p = Path(d)
        candidates = [p / "__init__.py", p / "pyproject.toml", p / "grader" / "__init__.py"]
        out += [str(c) for c in candidates if c.exists()]
    return out


def _stdlib_dirs() -> set[str]:
    paths = sysconfig.get_paths()
    dirs = {_real(paths["stdlib"]), _real(paths["platstdlib"])}
    return dirs | {os.path.join(d, "lib-dynload") for d in dirs}


def package_dirs(packages: tuple[str, ...]) -> list[str]:
    """The allowed packages' directories plus their bundled-library siblings (numpy.libs)."""
    out = []
    for name in packages:
        d = _package_dir(name)
        if d is None:
            continue
        out.append(d)
        if os.path.isdir(d + ".libs"):
            out.append(d + ".libs")
    return out


def strong_plan(root: str, packages: tuple[str, ...], tmp_mb: int) -> dict[str, Any]:
    """The mounts that make up the child's filesystem (carried out by child.build_root)."""
    binds: list[str] = []
    symlinks: list[list[str]] = []
    for name in ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = "/" + name
        if os.path.islink(p):
            symlinks.append([os.readlink(p), p])
        elif os.path.isdir(p):
            binds.append(p)
    exe_prefix = str(Path(_real(sys.executable)).parent.parent)
    for prefix in (sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix, exe_prefix):
        real = _real(prefix)
        if real == "/tmp":
            # Python installed straight into /tmp: its own directories, never the whole /tmp
            # (other sandboxes' staging, other submissions).
            own = (real + "/bin", real + "/lib", real + "/lib64")
            binds += [d for d in own if os.path.isdir(d)]
        elif real != "/" and not _under(real, binds):
            binds.append(real)
    binds = sorted({b for b in binds if not _under(b, [o for o in binds if o != b])})
    stdlib = _stdlib_dirs()
    candidates = list(sys.path) + site.getsitepackages() + [site.getusersitepackages()]
    masks = set()
    for p in candidates + private_paths():
        real = _real(p or os.getcwd())
        if real in stdlib or not os.path.isdir(real):
            continue
        if _under(real, binds):
            masks.add(real)
    # A mask inside another is hidden by it already, and would no longer exist to mount on
    # (site-packages/grader under site-packages, in a non-editable install).
    masks = {m for m in masks if not _under(m, [o for o in masks if o != m])}
    return {
        "root": root,
        "binds": binds,
        "symlinks": symlinks,
        "masks": sorted(masks, key=len),
        "packages": package_dirs(packages),
        "tmp_mb": tmp_mb,
        "userns": os.geteuid() != 0,
        "uid": random.SystemRandom().randrange(1 << 20, 1 << 30),
        "gid": 0,
    }


def _site_farm(staging: Path, packages: tuple[str, ...]) -> str:
    """Fallback: a directory of symlinks to the allowed packages only, for sys.path."""
    farm = staging / "site"
    farm.mkdir()
    for d in package_dirs(packages):
        (farm / os.path.basename(d)).symlink_to(d)
    return str(farm)


def _rlimits(limits: Limits, strong: bool) -> dict[str, int | None]:
    return {
        "as": limits.memory_mb * 2**20,
        "cpu": math.ceil(limits.submission_seconds) + 1,
        "nofile": limits.open_files,
        "fsize": limits.file_mb * 2**20,
        "core": 0,
        "nproc": limits.processes if strong and os.geteuid() == 0 else None,
    }


def _env(workdir: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    # Set on some machines because older OpenBLAS builds compute wrong results without them.
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def _base_config(mode: str, limits: Limits, packages: tuple[str, ...]) -> dict[str, Any]:
    return {
        "mode": mode,
        "preimport": _preimport(packages),
        "rlimits": _rlimits(limits, mode == "strong"),
        "max_message_bytes": limits.max_message_bytes,
        "memory_mb": limits.memory_mb,
    }


def _preimport(packages: tuple[str, ...]) -> list[str]:
    return [p for p in PREIMPORT if p.split(".")[0] in packages]


def _random_id() -> int:
    return random.SystemRandom().randrange(1 << 20, 1 << 30)


def _zygote_setup(mode: str, packages: tuple[str, ...]) -> Any:
    """(config, env, staging, static part of each child's config) for a new zygote."""
    staging = make_staging()
    if mode == "strong":
        root = staging / "root"  # each child mounts its own tmpfs here, in its own namespace
        root.mkdir()
        plan = strong_plan(str(root), packages, 0)
        sys_path = sorted({os.path.dirname(d) for d in package_dirs(packages)})
        spawn_config = {"strong": plan, "workdir": "/tmp", "sys_path": sys_path}
    else:
        sys_path = [_site_farm(staging, packages)]
        spawn_config = {"sys_path": sys_path}
    config = {"mode": mode, "preimport": _preimport(packages), "sys_path": sys_path}
    return config, _env(str(staging)), staging, spawn_config


def _forked_spec(
    zyg: zygote.Zygote, mode: str, limits: Limits, packages: tuple[str, ...]
) -> SpawnSpec:
    config = dict(_base_config(mode, limits, packages), **zyg.spawn_config)
    if mode == "strong":
        # The plan is made afresh for each child, as for a fresh start (the mountpoint is
        # the zygote's: each child mounts its own tmpfs there, in its own mount namespace).
        plan = strong_plan(config["strong"]["root"], packages, limits.tmp_mb)
        config["strong"] = dict(plan, gid=plan["uid"])
        # As root the zygote forks the child straight into a new PID namespace; in the
        # user-namespace variant a waiter unshares first (see child._enter_namespaces).
        config["strong"]["direct"] = not config["strong"]["userns"]
        spec = SpawnSpec(mode, [], config, _env("/tmp"), None, zyg)
    else:
        staging = make_staging(copy_code=False)
        work = staging / "work"
        work.mkdir(mode=0o700)
        config["workdir"] = str(work)
        spec = SpawnSpec(mode, [], config, _env(str(work)), staging, zyg)
    spec.fresh = lambda: spawn_spec(mode, limits, packages, fork=False)
    return spec


def spawn_spec(
    mode: str, limits: Limits, packages: tuple[str, ...], *, fork: bool = True
) -> SpawnSpec:
    """Everything needed to start one child in ``mode``: forked from this process's zygote
    when the fork server is on for this mode (``fork=False``: always a fresh start)."""
    if fork:
        zyg = zygote.acquire(mode, packages, lambda: _zygote_setup(mode, packages))
        if zyg is not None:
            return _forked_spec(zyg, mode, limits, packages)
    staging = make_staging()
    config = _base_config(mode, limits, packages)
    if mode == "strong":
        root = staging / "root"
        root.mkdir()
        plan = strong_plan(str(root), packages, limits.tmp_mb)
        plan["gid"] = plan["uid"]
        config.update(strong=plan, workdir="/tmp")
        config["sys_path"] = sorted({os.path.dirname(d) for d in package_dirs(packages)})
        unshare = shutil.which("unshare") or "/usr/bin/unshare"
        userns = ["--user", "--map-root-user"] if plan["userns"] else []
        prefix = [unshare, *userns, *UNSHARE_FLAGS, "--"]
        return SpawnSpec(mode, prefix, config, _env("/tmp"), staging)
    work = staging / "work"
    work.mkdir(mode=0o700)
    config.update(workdir=str(work), sys_path=[_site_farm(staging, packages)])
    return SpawnSpec(mode, [], config, _env(str(work)), staging)


# --------------------------------------------------------------------------- probe


def start_child(
    spec: SpawnSpec, limits: Limits, deadline: float
) -> tuple[ChildProcess, str | None]:
    """Spawn a child and wait for "ready"; returns (child, None) or (child, why it failed)."""
    child = ChildProcess(spec, wire.WireLimits(max_frame_bytes=limits.max_message_bytes))
    try:
        child.spawn(deadline)
    except zygote.ZygoteError as exc:
        child.close_fds()
        if spec.fresh is None:
            return child, f"the fork server failed: {exc}"
        # The zygote died or hung (it is restarted for the next child): start this one fresh.
        return start_child(spec.fresh(), limits, deadline)
    except OSError as exc:
        child.close_fds()
        return child, f"cannot start Python: {exc}"
    event = child.next_event(deadline)
    if isinstance(event, Event) and event.header.get("ev") == "ready":
        child.locate_init()
        return child, None
    child.drain(0.2)
    stderr = child.capture.text(2).strip().splitlines()
    child.kill()
    if isinstance(event, Event) and event.header.get("ev") == "setup_failed":
        return child, str(event.header.get("error"))[:500]
    if isinstance(event, Died):
        tail = stderr[-1] if stderr else ""
        return child, f"the child exited during start-up (status {event.status}) {tail}".strip()
    return child, f"the child did not start ({type(event).__name__})"


def _probe_strong(packages: tuple[str, ...]) -> tuple[bool, str, float | None, dict[str, Any]]:
    """Probe strong mode the way children will be started (forked from the zygote), and if
    that fails, with a fresh start; the zygote is then turned off for strong mode here."""
    if not sys.platform.startswith("linux"):
        return False, "strong isolation needs Linux namespaces", None, {}
    forked = zygote.enabled()
    ok, reason, startup, facts = _probe_strong_once(packages, fork=forked)
    if forked and not ok:
        fresh = _probe_strong_once(packages, fork=False)
        if fresh[0]:
            zygote.disable("strong", packages, f"the strong probe failed when forked: {reason}")
            ok, reason, startup, facts = fresh
    facts["spawn"] = zygote.state("strong", packages)
    return ok, reason, startup, facts


def _probe_strong_once(
    packages: tuple[str, ...], *, fork: bool
) -> tuple[bool, str, float | None, dict[str, Any]]:
    if not fork and shutil.which("unshare") is None and not os.path.exists("/usr/bin/unshare"):
        return False, "the util-linux `unshare` command is not installed", None, {}
    limits = Limits()
    t0 = time.monotonic()
    child, failure = start_child(
        spawn_spec("strong", limits, packages, fork=fork), limits, t0 + STARTUP_SECONDS
    )
    startup = time.monotonic() - t0
    if failure is not None:
        return False, f"namespaces unavailable: {failure}", None, {}
    try:
        child.send({"op": "probe", "paths": private_files(), "modules": list(PRIVATE_PACKAGES)})
        event = child.next_event(time.monotonic() + 10)
    finally:
        child.kill()
    if not isinstance(event, Event) or event.header.get("ev") != "probe":
        return False, "the isolation probe did not answer", startup, {}
    facts = event.header.get("facts") or {}
    problems = []
    if facts.get("pid") != 1:
        problems.append("not in its own PID namespace")
    if facts.get("interfaces") != ["lo"]:
        problems.append(f"network interfaces visible: {facts.get('interfaces')}")
    if facts.get("visible"):
        problems.append(f"private files visible: {facts.get('visible')}")
    if facts.get("importable"):
        problems.append(f"private packages importable: {facts.get('importable')}")
    if facts.get("cap_eff") != 0 or facts.get("no_new_privs") != 1:
        problems.append("still privileged")
    if facts.get("extra_fds"):
        problems.append(f"inherited descriptors open: {facts.get('extra_fds')}")
    if problems:
        return False, "strong isolation is leaky here: " + "; ".join(problems), startup, facts
    how = "user namespace, no capabilities" if os.geteuid() != 0 else "unprivileged user id"
    return True, f"Linux namespaces via unshare ({how})", startup, facts


_INFO: IsolationInfo | None = None
_INFO_LOCK = threading.Lock()
_WARNED = False


def _forced() -> str:
    forced = os.environ.get("GRADER_SANDBOX", "auto").strip().lower() or "auto"
    return forced if forced in ("auto", "strong", "fallback") else "auto"


def describe_isolation(
    refresh: bool = False, packages: tuple[str, ...] = DEFAULT_PACKAGES
) -> IsolationInfo:
    """Which isolation mode sandboxes get on this machine, and why (probed once, cached).

    Never raises: when ``GRADER_SANDBOX=strong`` is set but strong mode is unavailable, the
    answer is "fallback" with the reason, and creating a Sandbox then fails loudly.
    """
    global _INFO
    with _INFO_LOCK:
        if _INFO is not None and not refresh:
            return _INFO
        forced = _forced()
        if forced == "fallback":
            reason = "forced by GRADER_SANDBOX=fallback"
            details = {"forced": forced, "spawn": zygote.state("fallback", packages)}
            _INFO = IsolationInfo(
                "fallback", reason, FALLBACK_PROTECTS, FALLBACK_GAPS, None, details
            )
            return _INFO
        _INFO = _probed_info(packages, forced)
        return _INFO


_PROBED: IsolationInfo | None = None


def _probed_info(packages: tuple[str, ...], forced: str) -> IsolationInfo:
    ok, reason, startup, facts = _probe_strong(packages)
    details = dict(facts, forced=forced)
    if ok:
        return IsolationInfo("strong", reason, STRONG_PROTECTS, (), startup, details)
    details["spawn"] = zygote.state("fallback", packages)
    return IsolationInfo("fallback", reason, FALLBACK_PROTECTS, FALLBACK_GAPS, None, details)


def _strong_info() -> IsolationInfo:
    """What the strong probe says, even where ``GRADER_SANDBOX=fallback`` made
    ``describe_isolation`` skip it (an explicit request for strong mode overrides it)."""
    global _PROBED
    info = describe_isolation()
    if info.details.get("forced") != "fallback":
        return info
    with _INFO_LOCK:
        if _PROBED is None:
            _PROBED = _probed_info(DEFAULT_PACKAGES, "strong")
        return _PROBED


def wanted_isolation(requested: str) -> str:
    """What a request amounts to before probing: an explicit mode, else ``GRADER_SANDBOX``'s
    ("auto" when unset)."""
    return _forced() if requested == "auto" else requested


def resolve(requested: str) -> tuple[str, str]:
    """(mode, reason): the mode a request for "auto"/"strong"/"fallback" gets, and why.

    An explicit "strong" or "fallback" takes precedence over ``GRADER_SANDBOX``; "auto"
    follows it when set, else uses strong mode where this machine gives it.  Asking for
    strong (either way) where it is unavailable raises ``IsolationUnavailable`` rather than
    silently running student code unprotected; falling back under "auto" warns once.
    """
    global _WARNED
    if requested not in ISOLATION_CHOICES:
        raise ValueError(f"unknown isolation mode {requested!r}")
    wanted = wanted_isolation(requested)
    if wanted == "fallback":
        if requested == "fallback":
            return "fallback", "fallback requested (--isolation fallback)"
        return "fallback", "forced by GRADER_SANDBOX=fallback"
    info = describe_isolation() if requested == "auto" else _strong_info()
    if info.mode == "strong":
        return "strong", info.reason
    if wanted == "strong":
        how = "" if requested == "strong" else " (GRADER_SANDBOX=strong)"
        raise IsolationUnavailable(f"strong isolation unavailable{how}: {info.reason}")
    if not _WARNED:
        _WARNED = True
        warnings.warn(
            f"student code runs WITHOUT strong isolation ({info.reason}); it can read the "
            "answer key and use the network. See `grader doctor`.",
            IsolationWarning,
            stacklevel=3,
        )
    return "fallback", f"strong isolation unavailable: {info.reason}"


def resolve_mode(requested: str) -> str:
    """The mode of ``resolve(requested)`` (which see)."""
    return resolve(requested)[0]


def prewarm(
    isolation: str = "auto", packages: tuple[str, ...] = DEFAULT_PACKAGES, *, wait: bool = True
) -> str | None:
    """Start this process's fork server now rather than at the first submission.

    ``wait=True`` (e.g. a batch worker's initializer): resolve the isolation mode (probing
    strong mode, which warns once about fallback as a Sandbox would), start the zygote and
    wait until it has imported numpy; returns the mode.  ``wait=False`` (e.g. at the start
    of a command, to overlap with its own imports): only launch the zygote of the likely
    mode and return None at once.  Never raises; a no-op with ``GRADER_SANDBOX_ZYGOTE=0``.
    """
    try:
        if not wait:
            mode = wanted_isolation(isolation)
            mode = "strong" if mode == "auto" else mode
            if mode == "strong" and not sys.platform.startswith("linux"):
                mode = "fallback"
            zygote.acquire(mode, packages, lambda: _zygote_setup(mode, packages))
            return None
        mode = resolve_mode(isolation)
        zyg = zygote.acquire(mode, packages, lambda: _zygote_setup(mode, packages))
        if zyg is not None:
            zyg.wait_ready(time.monotonic() + STARTUP_SECONDS)
        return mode
    except (OSError, RuntimeError):
        return None
