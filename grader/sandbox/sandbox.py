"""The Sandbox: one child process per submission, reused across calls, restarted when killed."""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Sequence
from typing import Any

from . import wire
from .isolation import DEFAULT_PACKAGES, resolve, spawn_spec, start_child
from .model import (
    CHUNK_ERROR_KINDS,
    ERROR_KINDS,
    CallError,
    CallOutcome,
    ChunkError,
    Limits,
    LoadResult,
)
from .process import Capture, ChildProcess, Died, Event, Flooded, Timeout

#: After a top-level statement overruns, how long the child gets to stop it by itself.
INTERRUPT_GRACE = 0.5
#: How long to wait for a call's end-of-output marker once its reply has arrived.
MARKER_WAIT = 0.5
MAX_TEXT = 8000
#: Diagnostic calls are skipped once less than this share of the submission's budget is left
#: (or less than one call_seconds, whichever is more): normal calls come first.
DIAGNOSTIC_RESERVE = 0.25


class Sandbox:
    """Runs one submission in an isolated child process.

    Use as a context manager.  ``start()`` runs the submission's top-level code; ``call`` and
    ``call_many`` call its functions.  A call that times out or kills the process does not
    affect later calls: the child is killed (with everything it started) and a fresh one,
    re-running the source, serves the next call.  All of it is charged to the submission's
    time budget (``Limits.submission_seconds``), except diagnostic calls (``call_many(...,
    diagnostic=True)``), which have a cap of their own (``Limits.diagnostic_seconds``).
    Not thread-safe.
    """

    def __init__(
        self,
        source: Any,
        limits: Limits | None = None,
        *,
        isolation: str = "auto",
        packages: tuple[str, ...] = DEFAULT_PACKAGES,
    ) -> None:
        self.source = source
        self.limits = limits or Limits()
        self.packages = packages
        self._requested = isolation
        self._mode: str | None = None
        self._mode_reason = ""
        # The live child sits in a one-item list shared with a finalizer, so that a Sandbox
        # dropped without close() still kills its processes when garbage-collected.
        self._holder: list[ChildProcess | None] = [None]
        weakref.finalize(self, _kill_held, self._holder)
        self._spent = 0.0
        self._diagnostic_spent = 0.0
        self._diagnosing = False
        self._skip: set[tuple[int, int]] = set()
        self._stopped: dict[tuple[int, int], ChunkError] = {}
        self._load: LoadResult | None = None
        self._unloadable: CallError | None = None
        self._strikes: dict[str, list[CallError]] = {}
        self._closed = False
        self._budget_end = 0.0
        self._spawns = 0
        self._wire_limits = wire.WireLimits(max_frame_bytes=self.limits.max_message_bytes)

    # ------------------------------------------------------------------ public

    @property
    def mode(self) -> str:
        """ "strong" or "fallback" (resolved on first use; ``IsolationUnavailable`` when
        strong mode was asked for and cannot be had)."""
        if self._mode is None:
            self._mode, self._mode_reason = resolve(self._requested)
        return self._mode

    @property
    def requested_isolation(self) -> str:
        """What was asked for: "auto", "strong" or "fallback"."""
        return self._requested

    @property
    def mode_reason(self) -> str:
        """Why ``mode`` is what it is, e.g. "Linux namespaces via unshare (...)"."""
        _ = self.mode
        return self._mode_reason

    @property
    def _child(self) -> ChildProcess | None:
        return self._holder[0]

    @_child.setter
    def _child(self, child: ChildProcess | None) -> None:
        self._holder[0] = child

    @property
    def load_result(self) -> LoadResult | None:
        return self._load

    @property
    def restarts(self) -> int:
        """How many times a fresh child had to be started after the first one."""
        return max(0, self._spawns - 1)

    @property
    def seconds_left(self) -> float:
        """What is left of the submission's time budget (diagnostic calls do not count)."""
        return max(0.0, self.limits.submission_seconds - self._spent)

    @property
    def diagnostic_seconds_left(self) -> float:
        """What is left of the cap on diagnostic calls (``Limits.diagnostic_seconds``)."""
        return max(0.0, self.limits.diagnostic_seconds - self._diagnostic_spent)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> LoadResult:
        """Spawn the child and run the chunks in order in one namespace (once)."""
        self._check_open()
        if self._load is None:
            with self._charging():
                self._load = self._boot()
        return self._load

    def call(self, name: str, args: tuple[Any, ...], *, return_args: bool = True) -> CallOutcome:
        """Call ``name(*args)`` in the child."""
        return self.call_many(name, [args], return_args=return_args)[0]

    def call_many(
        self,
        name: str,
        arg_sets: Sequence[tuple[Any, ...]],
        *,
        return_args: bool = True,
        diagnostic: bool = False,
    ) -> list[CallOutcome]:
        """Call ``name`` on every argument tuple in one round trip; each call is timed and
        limited separately.  After a call times out or crashes, the rest of the batch is not
        run (each gets the same kind of error), so one broken function cannot eat the budget.
        ``return_args`` sends the arguments back as they were after each call.

        ``diagnostic``: calls made only to improve a diagnosis, never to decide a grade.  They
        are not charged to the submission's budget, their timeouts and crashes are no strikes
        (a restart they cause is not charged either), and they share a cap of their own,
        ``Limits.diagnostic_seconds``; each is still bounded by ``call_seconds``.  When the cap
        is used up, or less than max(call_seconds, 25 % of submission_seconds) of the budget
        is left, none runs: every outcome has a CallError of kind "budget" whose message says
        the diagnosis was skipped."""
        self._check_open()
        if not isinstance(name, str):
            raise TypeError("name must be a str")
        sets = [tuple(a) for a in arg_sets]
        tagged, buffers = self._encode_args(sets)
        if self._load is None:
            self.start()
        if not sets:
            return []
        if diagnostic:
            return self._run_diagnostic(name, sets, tagged, buffers, return_args)
        with self._charging():
            return self._run_batch(name, sets, tagged, buffers, return_args)

    def close(self) -> None:
        """Kill the child and every process it started; idempotent."""
        self._closed = True
        if self._child is not None:
            self._child.kill()
            self._child = None

    # ------------------------------------------------------------------ budget

    def _charging(self, diagnostic: bool = False) -> _Charge:
        return _Charge(self, diagnostic)

    def _deadline(self, seconds: float) -> tuple[float, bool]:
        """min(now + seconds, end of budget), and whether the budget is the binding limit."""
        now = time.monotonic()
        if now + seconds < self._budget_end:
            return now + seconds, False
        return self._budget_end, True

    def _budget_error(self) -> CallError:
        if self._diagnosing:
            return self._diagnostic_cap_used_up()
        s = self.limits.submission_seconds
        return CallError(
            "budget", f"not run: the {s:g} s time budget for this submission is used up"
        )

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the sandbox is closed")

    # ------------------------------------------------------------------ start-up and load

    def _spawn(self) -> tuple[ChildProcess | None, CallError | None]:
        deadline, _ = self._deadline(max(self.limits.load_seconds, 15.0))
        spec = spawn_spec(self.mode, self.limits, self.packages)
        self._spawns += 1
        child, failure = start_child(spec, self.limits, deadline)
        if failure is not None:
            if time.monotonic() >= self._budget_end:
                return None, self._budget_error()
            return None, CallError("crashed", f"the sandbox could not start: {failure}")
        child.capture_abort = self.limits.output_abort_bytes
        return child, None

    def _boot(self) -> LoadResult:
        """Start a child and load the source, restarting past statements that hang or crash."""
        t0 = time.monotonic()
        capture = Capture(self.limits.output_bytes)
        while True:
            if time.monotonic() >= self._budget_end:
                return self._load_result({}, [], capture, t0, self._budget_error())
            child, error = self._spawn()
            if child is None:
                return self._load_result({}, [], capture, t0, error)
            child.set_captures([capture])
            self._child = child
            outcome = self._run_load(child)
            if outcome == "restart":
                self._kill_child()
                continue
            if isinstance(outcome, CallError):
                self._kill_child()
                return self._load_result({}, [], capture, t0, outcome)
            names, errors = outcome
            return self._load_result(names, errors, capture, t0, None)

    def _load_result(
        self,
        names: dict[str, str],
        errors: list[tuple[int, ChunkError]],
        capture: Capture,
        t0: float,
        error: CallError | None,
    ) -> LoadResult:
        if error is not None:
            self._unloadable = error
        merged = errors + [(key[0], err) for key, err in self._stopped.items()]
        merged.sort(key=lambda item: (item[0], item[1].line or 0))
        return LoadResult(
            names=names,
            chunk_errors=[err for _, err in merged],
            stdout=capture.text(1),
            stderr=capture.text(2),
            truncated=capture.truncated,
            seconds=time.monotonic() - t0,
            error=error,
        )

    def _load_frame(self) -> dict[str, Any]:
        chunks = [
            {
                "code": c.code,
                "label": c.label,
                "filename": c.filename,
                "first_line": int(c.first_line),
            }
            for c in self.source.chunks
        ]
        return {"op": "load", "chunks": chunks, "skip": sorted(self._skip)}

    def _run_load(
        self, child: ChildProcess
    ) -> str | CallError | tuple[dict[str, str], list[tuple[int, ChunkError]]]:
        """Drive one load attempt.  Returns the names and errors, "restart" (a statement was
        skipped and the child must be replaced) or a CallError."""
        child.send(self._load_frame())
        deadline, _ = self._deadline(self.limits.load_seconds)
        current: tuple[int, int, int | None] | None = None
        grace: float | None = None
        while True:
            event = child.next_event(grace if grace is not None else deadline)
            if isinstance(event, Event):
                kind = event.header.get("ev")
                if kind == "stmt":
                    current = _stmt_position(event.header, len(self.source.chunks))
                    if current is None:
                        return CallError(
                            "bad_reply", "the submission corrupted the grader's channel"
                        )
                elif kind == "interrupted" and current is not None:
                    self._stop_statement(current, "timeout")
                    deadline, _ = self._deadline(self.limits.load_seconds)
                    grace = None
                elif kind == "loaded":
                    return _parse_loaded(event.header, self.source.chunks)
                else:
                    return CallError("bad_reply", "the submission corrupted the grader's channel")
            elif isinstance(event, Timeout):
                if time.monotonic() >= self._budget_end:
                    return self._budget_error()
                if current is None:
                    return CallError("timeout", "the code did not start running in time")
                if grace is None:
                    child.interrupt()
                    grace = time.monotonic() + INTERRUPT_GRACE
                    continue
                self._stop_statement(current, "timeout")
                return "restart"
            elif isinstance(event, Died):
                if current is None:
                    return CallError("crashed", "the sandbox died before running the code")
                self._stop_statement(current, _death_kind(child.capture))
                return "restart"
            elif isinstance(event, Flooded):
                if current is None:
                    return CallError("output", "printed too much")
                self._stop_statement(current, "output")
                return "restart"
            else:
                return CallError("bad_reply", "the submission corrupted the grader's channel")

    def _stop_statement(self, where: tuple[int, int, int | None], kind: str) -> None:
        """Record that a top-level statement was stopped, and skip it from now on."""
        ci, si, line = where
        self._skip.add((ci, si))
        label = self.source.chunks[ci].label
        text = {
            "timeout": f"did not finish within {self.limits.load_seconds:g} s and was stopped",
            "memory": f"ran out of memory (limit {self.limits.memory_mb} MB) and was stopped",
            "crashed": "ended the grading process (os._exit? a crash?)",
            "output": "printed too much and was stopped",
        }[kind]
        message = f"this statement {text}; the code after it still ran"
        self._stopped.setdefault((ci, si), ChunkError(label, line, kind, message))

    def _kill_child(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child = None

    def _ensure_child(self) -> CallError | None:
        """A live, loaded child for the next call (restarting it if needed)."""
        if self._unloadable is not None:
            return self._unloadable
        if self._child is not None and self._child.alive:
            return None
        self._kill_child()
        result = self._boot()
        return result.error

    # ------------------------------------------------------------------ calls

    def _encode_args(self, sets: list[tuple[Any, ...]]) -> tuple[list[Any], list[memoryview]]:
        enc = wire.Encoder(strict=True, max_bytes=2**62, max_items=10**8)
        try:
            return [enc.encode(s) for s in sets], enc.buffers
        except wire.WireError as exc:
            raise TypeError(f"cannot send these arguments to the sandbox: {exc}") from None

    def _run_batch(
        self,
        name: str,
        sets: list[tuple[Any, ...]],
        tagged: list[Any],
        buffers: list[memoryview],
        return_args: bool,
    ) -> list[CallOutcome]:
        n = len(sets)
        pre = self._refuse(name)
        if pre is not None:
            return [CallOutcome(None, None, pre, 0.0) for _ in range(n)]
        assert self._child is not None
        child = self._child
        header = {"op": "calls", "name": name, "sets": tagged, "return_args": return_args}
        # A random batch number: a stale or forged reply of another batch is refused.
        batch = int.from_bytes(os.urandom(8), "little") >> 2
        child.send(dict(header, first=0, batch=batch, mark=child.marker.decode("latin-1")), buffers)
        outcomes: list[CallOutcome] = []
        pool = [self.limits.output_bytes]
        captures = [Capture(0, pool) for _ in range(n)]
        child.set_captures(list(captures))
        batch_bytes = 0
        for i in range(n):
            capture = captures[i]
            started = time.monotonic()
            deadline, by_budget = self._deadline(self.limits.call_seconds)
            event = child.next_event(deadline)
            if _is_result(event, i, batch):
                assert isinstance(event, Event)
                child.wait_markers(i + 1, min(deadline, time.monotonic() + MARKER_WAIT))
                batch_bytes += len(event.body)
                if batch_bytes > self.limits.max_batch_bytes:
                    outcomes.append(
                        self._outcome(_too_much_batch(name, self.limits), capture, started)
                    )
                    self._kill_child()
                    break
                outcomes.append(self._result(name, event, capture, started))
                continue
            error = self._failure(name, event, by_budget, capture)
            self._kill_child()
            outcomes.append(self._outcome(error, capture, started))
            if error.kind in ("timeout", "crashed", "memory", "output") and not self._diagnosing:
                self._strikes.setdefault(name, []).append(error)
            break
        if len(outcomes) < n:
            last = outcomes[-1].error
            assert last is not None
            skipped = CallError(
                last.kind, f"not run: an earlier call of {name} failed ({last.message})"
            )
            if last.kind == "budget":
                skipped = last
            outcomes += [CallOutcome(None, None, skipped, 0.0) for _ in range(n - len(outcomes))]
        return outcomes

    def _run_diagnostic(
        self,
        name: str,
        sets: list[tuple[Any, ...]],
        tagged: list[Any],
        buffers: list[memoryview],
        return_args: bool,
    ) -> list[CallOutcome]:
        """A batch of diagnostic calls (see call_many): timed against the diagnostic cap, and
        whatever it costs, a restart included, charged to that cap only."""
        skipped = self._diagnostic_refusal()
        if skipped is not None:
            return [CallOutcome(None, None, skipped, 0.0) for _ in sets]
        with self._charging(diagnostic=True):
            budget_end = self._budget_end
            # A live child first, under the submission's budget as for any call: a restart
            # bounded by the diagnostic cap could fail and leave the submission unloadable.
            self._ensure_child()
            self._diagnosing = True
            try:
                self._budget_end = min(budget_end, time.monotonic() + self.diagnostic_seconds_left)
                outcomes = self._run_batch(name, sets, tagged, buffers, return_args)
            finally:
                self._diagnosing = False
                self._budget_end = budget_end
            if self._child is None:  # killed: restart now, so that no normal call pays for it
                self._ensure_child()
        return outcomes

    def _diagnostic_refusal(self) -> CallError | None:
        """Why diagnostic calls must not run now, if so."""
        limits = self.limits
        if self.diagnostic_seconds_left <= 0:
            return self._diagnostic_cap_used_up()
        reserve = max(limits.call_seconds, DIAGNOSTIC_RESERVE * limits.submission_seconds)
        if self.seconds_left < reserve:
            return self._diagnosis_skipped(
                f"only {self.seconds_left:.1f} s of the {limits.submission_seconds:g} s time "
                "budget are left"
            )
        return None

    def _diagnostic_cap_used_up(self) -> CallError:
        return self._diagnosis_skipped(
            f"the {self.limits.diagnostic_seconds:g} s for diagnostic calls are used up"
        )

    @staticmethod
    def _diagnosis_skipped(why: str) -> CallError:
        return CallError("budget", f"not run: diagnosis skipped ({why})")

    def _refuse(self, name: str) -> CallError | None:
        """Why the next call of ``name`` must not run at all, if so."""
        if time.monotonic() >= self._budget_end:
            return self._budget_error()
        strikes = self._strikes.get(name, [])
        if len(strikes) >= self.limits.strikes:
            first = strikes[0]
            n = len(strikes)
            return CallError(
                first.kind, f"not run: {name} already failed {n} times ({first.message})"
            )
        return self._ensure_child()

    def _failure(self, name: str, event: object, by_budget: bool, capture: Capture) -> CallError:
        if isinstance(event, Timeout):
            if by_budget:
                return self._budget_error()
            s = self.limits.call_seconds
            return CallError("timeout", f"{name} took longer than {s:g} s (infinite loop?)")
        if isinstance(event, Died):
            if _death_kind(capture) == "memory":
                return CallError(
                    "memory", f"{name} ran out of memory (limit {self.limits.memory_mb} MB)"
                )
            return CallError("crashed", f"{name} ended the grading process ({_how_died(event)})")
        if isinstance(event, Flooded):
            mb = self.limits.output_abort_bytes / 2**20
            return CallError("output", f"{name} printed more than {mb:g} MB and was stopped")
        return CallError(
            "bad_reply", f"{name}: the grader could not read the reply (the channel was corrupted)"
        )

    def _result(self, name: str, event: Event, capture: Capture, started: float) -> CallOutcome:
        header = event.header
        err = header.get("error")
        if err is not None:
            return self._outcome(_parse_error(err, name), capture, started)
        limits = self._wire_limits
        try:
            value = wire.decode_value(event.body, header.get("value"), limits)
            after = header.get("args_after")
            args_after = None if after is None else wire.decode_value(event.body, after, limits)
        except wire.WireError as exc:
            error = CallError(
                "bad_reply", f"{name} returned something the grader cannot read ({exc})"
            )
            return self._outcome(error, capture, started)
        if args_after is not None and not isinstance(args_after, tuple):
            return self._outcome(
                CallError("bad_reply", f"{name}: malformed reply"), capture, started
            )
        return CallOutcome(
            value,
            args_after,
            None,
            time.monotonic() - started,
            capture.text(1),
            capture.text(2),
            capture.truncated,
            _warnings(header.get("warnings")),
        )

    @staticmethod
    def _outcome(error: CallError, capture: Capture, started: float) -> CallOutcome:
        return CallOutcome(
            None,
            None,
            error,
            time.monotonic() - started,
            capture.text(1),
            capture.text(2),
            capture.truncated,
        )


class _Charge:
    """Context manager charging the wall time of a public operation to the budget (or, for
    diagnostic calls, to the diagnostic cap)."""

    def __init__(self, box: Sandbox, diagnostic: bool = False) -> None:
        self.box = box
        self.diagnostic = diagnostic

    def __enter__(self) -> None:
        self.t0 = time.monotonic()
        self.box._budget_end = self.t0 + self.box.seconds_left

    def __exit__(self, *exc: object) -> None:
        elapsed = time.monotonic() - self.t0
        if self.diagnostic:
            self.box._diagnostic_spent += elapsed
        else:
            self.box._spent += elapsed


# --------------------------------------------------------------------------- helpers


def _kill_held(holder: list[ChildProcess | None]) -> None:
    if holder[0] is not None:
        holder[0].kill()
        holder[0] = None


def _is_result(event: object, i: int, batch: int) -> bool:
    return (
        isinstance(event, Event)
        and event.header.get("ev") == "result"
        and event.header.get("i") == i
        and event.header.get("batch") == batch
    )


def _too_much_batch(name: str, limits: Limits) -> CallError:
    mb = limits.max_batch_bytes / 2**20
    return CallError("bad_reply", f"{name}: the replies of this batch exceeded {mb:g} MB")


def _death_kind(capture: Capture) -> str:
    """Whether a death looks like running out of memory (from what was printed last)."""
    tail = capture.text(2)[-2000:]
    if "MemoryError" in tail or "Cannot allocate memory" in tail or "bad_alloc" in tail:
        return "memory"
    return "crashed"


def _how_died(event: Died) -> str:
    import signal

    status = event.status
    if status is None:
        return "it disappeared"
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        hint = {"SIGSEGV": "deep recursion or a crash in C code?", "SIGXCPU": "CPU time limit"}
        return f"killed by {name}" + (f": {hint[name]}" if name in hint else "")
    return f"exit code {status}: os._exit() or a crash?"


def _stmt_position(header: dict[str, Any], n_chunks: int) -> tuple[int, int, int | None] | None:
    ci, si, line = header.get("chunk"), header.get("stmt"), header.get("line")
    if type(ci) is not int or type(si) is not int or not 0 <= ci < n_chunks or si < 0:
        return None
    return ci, si, line if type(line) is int else None


def _warnings(value: Any) -> tuple[str, ...]:
    """The reply's warnings, as untrusted data: a few short strings, anything else dropped."""
    if not isinstance(value, list):
        return ()
    return tuple(_text(w, 300) for w in value[:5] if isinstance(w, str))


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _parse_error(err: Any, name: str) -> CallError:
    """A child-reported error, validated (the child may send anything)."""
    if not isinstance(err, dict) or err.get("kind") not in ERROR_KINDS:
        return CallError("bad_reply", f"{name}: malformed reply")
    tb = err.get("traceback")
    return CallError(err["kind"], _text(err.get("message")), _text(tb) if tb is not None else None)


def _parse_loaded(
    header: dict[str, Any], chunks: Sequence[Any]
) -> CallError | tuple[dict[str, str], list[tuple[int, ChunkError]]]:
    names_raw = header.get("names")
    errors_raw = header.get("errors")
    if not isinstance(names_raw, dict) or not isinstance(errors_raw, list):
        return CallError("bad_reply", "the submission corrupted the grader's channel")
    names = {k: _text(v, 200) for k, v in list(names_raw.items())[:10000] if isinstance(k, str)}
    errors: list[tuple[int, ChunkError]] = []
    for e in errors_raw[:500]:
        if not isinstance(e, dict) or e.get("kind") not in CHUNK_ERROR_KINDS:
            continue
        ci = e.get("chunk")
        if type(ci) is not int or not 0 <= ci < len(chunks):
            continue
        line = e.get("line") if type(e.get("line")) is int else None
        tb = e.get("traceback")
        errors.append(
            (
                ci,
                ChunkError(
                    chunks[ci].label,
                    line,
                    e["kind"],
                    _text(e.get("message")),
                    _text(tb) if tb is not None else None,
                ),
            )
        )
    return names, errors
