"""Plain data the sandbox hands to the rest of the grader: limits, call outcomes, load results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Every ``CallError.kind``.
ERROR_KINDS = frozenset(
    {
        "missing",  # the name is not defined by the submission
        "not_callable",  # defined, but not a function
        "exception",  # the call raised (incl. SystemExit, KeyboardInterrupt, RecursionError)
        "timeout",  # the call ran past Limits.call_seconds and was killed
        "memory",  # the call ran out of memory (Limits.memory_mb)
        "crashed",  # the process died during the call (os._exit, segfault, ...)
        "output",  # the call printed more than Limits.output_abort_bytes and was killed
        "budget",  # the submission's total time budget is used up: not run
        "bad_reply",  # the reply could not be read back (too large, malformed, forged)
    }
)

#: Every ``ChunkError.kind``.
CHUNK_ERROR_KINDS = frozenset({"syntax", "exception", "memory", "timeout", "crashed", "output"})


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission.  The defaults suit the course's exercises.

    Every limit is enforced from outside the student's code: wall-clock limits by the parent
    (SIGKILL of the child's whole process tree), the others by rlimits set in the child before
    any student code runs.
    """

    call_seconds: float = 5.0
    """Wall clock for one call; on expiry the child is killed and restarted for the next call."""
    load_seconds: float = 10.0
    """Wall clock for running the submission's top-level code.  A statement still running then
    is stopped (and skipped from then on); the statements after it still run."""
    submission_seconds: float = 60.0
    """Total wall clock spent in the sandbox for one submission (start-ups, load, calls);
    once used up, every further call fails with kind "budget" at once."""
    memory_mb: int = 1024
    """Address space of the child (RLIMIT_AS); Python with numpy (one BLAS thread) maps ~150 MB."""
    output_bytes: int = 64_000
    """stdout+stderr kept per phase (the load, or one call/call_many); the rest is drained and
    discarded, so a chatty submission never blocks."""
    output_abort_bytes: int = 256 * 2**20
    """A phase printing more than this is killed (kind "output")."""
    max_message_bytes: int = 64 * 2**20
    """Largest single reply (one call's result plus its arguments) the parent reads."""
    max_batch_bytes: int = 256 * 2**20
    """Largest total of the replies of one call_many."""
    processes: int = 64
    """RLIMIT_NPROC (strong mode only: there the child has a user id of its own)."""
    open_files: int = 64
    """RLIMIT_NOFILE."""
    file_mb: int = 16
    """RLIMIT_FSIZE: the largest file the submission may write."""
    tmp_mb: int = 64
    """Size of the private writable /tmp in strong mode."""
    strikes: int = 2
    """After this many timeouts or crashes of one function, its further calls are not run."""
    diagnostic_seconds: float = 2.0
    """Wall clock for all diagnostic calls of one submission (``call_many(...,
    diagnostic=True)``: the student's forward re-run only to improve a diagnosis), restarts
    they cause included; each call is also bounded by call_seconds.  This time is not charged
    to submission_seconds, and their timeouts and crashes are no strikes.  Once it is used up,
    or when less than max(call_seconds, 25 % of submission_seconds) of the submission's budget
    is left, diagnostic calls are skipped (kind "budget").  0 turns them off."""

    def __post_init__(self) -> None:
        for name in ("call_seconds", "load_seconds", "submission_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Limits.{name} must be positive")
        if not self.diagnostic_seconds >= 0:
            raise ValueError("Limits.diagnostic_seconds must not be negative")
        if self.strikes < 1:
            raise ValueError("Limits.strikes must be at least 1")
        if self.memory_mb < 64:
            raise ValueError("Limits.memory_mb below 64 MB cannot even start Python")


@dataclass(frozen=True)
class CallError:
    """Why a call produced no value, in words a student understands."""

    kind: str
    message: str
    traceback: str | None = None
    """Student frames only ("cell 4, line 3, in f"), then the exception line."""


@dataclass(frozen=True)
class CallOutcome:
    """The result of calling one student function on one argument tuple."""

    value: Any | None
    args_after: tuple[Any, ...] | None
    """The arguments as they were after the call (to detect modified inputs), if requested."""
    error: CallError | None
    seconds: float
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    warnings: tuple[str, ...] = ()
    """Warnings the call raised ("RuntimeWarning: overflow encountered in exp"), at most 5."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ChunkError:
    """A problem while running the submission's top-level code."""

    label: str
    """The student's name for the chunk: "cell 3", "solution.py"."""
    line: int | None
    """Line number in the student's file or cell (already mapped through first_line)."""
    kind: str
    message: str
    traceback: str | None = None


@dataclass(frozen=True)
class LoadResult:
    """What running the submission's top-level code produced."""

    names: dict[str, str]
    """Top-level names -> "function" for anything callable that is not a class, else the
    value's type name ("int", "ndarray", "type", "module", ...)."""
    chunk_errors: list[ChunkError] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    seconds: float = 0.0
    error: CallError | None = None
    """Set when the code could not be loaded at all (sandbox failed, time budget used up)."""

    @property
    def ok(self) -> bool:
        return self.error is None
