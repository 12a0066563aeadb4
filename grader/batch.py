"""Grade a folder of submissions in parallel, with a gradebook that makes reruns incremental.

    result = grade_batch("hw3/", "hw3-out/", BatchOptions(workers=4))

Every entry of the folder (a .py file, a notebook, or a folder per student) is one
submission; the student id is its name without extension. Each is graded by
`grader.engine.grade` in a worker process, and each result is committed to the SQLite
gradebook, written as `reports/<student>.json` and reported to `progress` as soon as it
arrives. At the end `gradebook.csv` is written for the whole folder.

Decisions a reader needs to know:

- Workers are long-lived processes forked from a forkserver that has imported the grader
  and numpy once, so a submission pays neither interpreter start nor imports; the student
  code still runs in a fresh sandbox child per submission, started by `grade`. The pool is
  our own rather than `ProcessPoolExecutor`: when a worker dies or hangs we know which
  submission it held, record an error for exactly that one, and replace the worker
  (`ProcessPoolExecutor` would fail every pending submission with `BrokenProcessPool`).
- Every submission is graded on the same exercises at the same points (the assignment:
  `exercises`, every exercise when empty, and `points`), whatever it attempts, so every
  total is out of the same maximum; the gradebook records that set with each run.
- A submission is skipped, and its stored report reused, when its latest run for the
  assignment was graded (not an error) from the same content hash, seed, grader version,
  exercises and points, and limits. `regrade=True` grades everything.
- One broken or hostile submission never stops the batch: if `grade` raises, the worker
  dies or the grading outlives its watchdog, the student gets an error report with score 0
  and the message, and the batch goes on. Error runs are always regraded next time.
- Entries whose name starts with "." or "_", sidecars (`*.expected.json`), READMEs and
  files that are neither .py nor .ipynb are not submissions; the last kind is listed in
  `BatchResult.ignored`, so a TA sees a hand-in in the wrong format. When two entries
  give the same id (`ann.py` and `ann.ipynb`), both are graded under their full names.
- With pages on, the worker that graded a submission also draws its feedback page (the
  figures cost more CPU than most gradings) and sends it with the report: pages are drawn
  in parallel, and the parent only writes them, after the report. The parent draws the
  pages no worker drew: reused reports whose page is missing or stale, error reports, and
  the class page at the end. Workers import matplotlib and jinja2 only when pages are on.
- Workers never re-import the caller's `__main__` (see `_as_if_interactive`), so a script
  calling `grade_batch` needs no `if __name__ == "__main__":` guard; a custom
  `grade_function` must therefore live in an importable module.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import sys
import time
import traceback
import types
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Literal

from grader import __version__, catalogue
from grader.assignment import Assignment
from grader.engine import GradeOptions, grade
from grader.gradebook import Gradebook, Run, write_gradebook_csv
from grader.report import Report
from grader.sandbox import Limits, prewarm
from grader.sandbox.isolation import resolve, wanted_isolation
from grader.workers import as_if_interactive, worker_context

CODE_SUFFIXES = (".py", ".ipynb")
_HASH_SKIPPED_DIRS = frozenset({"__pycache__", "site-packages", "node_modules"})
_WORKER_STOP_SECONDS = 3.0

Status = Literal["graded", "skipped", "error"]


@dataclass(frozen=True)
class BatchOptions:
    """How to grade a batch.

    `exercises`: what every submission is graded on (empty: every exercise); `points`:
    exercises given other points than they declare (an assignment file's).
    `workers`: worker processes (None: one per usable core; 0: grade in this process, for
    debugging). `assignment`: the gradebook's name for the batch (None: the folder's name).
    `db_path`: the gradebook (None: `OUT/gradebook.sqlite`). `watchdog_seconds`: the longest
    one submission may take before its worker is killed (None: from the limits).
    `grade_function`: what grades one submission, `engine.grade` unless a test or a custom
    engine says otherwise; it must be importable by name (a module-level function).
    """

    exercises: Sequence[str] = ()
    points: Mapping[str, float] = field(default_factory=dict)
    workers: int | None = None
    regrade: bool = False
    course_salt: str = ""
    limits: Limits = field(default_factory=Limits)
    assignment: str | None = None
    db_path: Path | None = None
    watchdog_seconds: float | None = None
    grade_function: Callable[[Path, GradeOptions], Report] = grade
    isolation: str = "auto"
    """The sandbox asked for (see `GradeOptions.isolation`). When strong mode is wanted,
    `grade_batch` raises IsolationUnavailable before grading anything if this machine cannot
    give it, and never reuses a stored report graded in fallback mode."""
    pages: bool = True
    """Write a feedback page per student (OUT/pages/<student>.html) and the class page
    (OUT/index.html); the workers then also collect the data of the pages' figures."""

    def worker_count(self, tasks: int) -> int:
        wanted = self.workers if self.workers is not None else usable_cores()
        return max(0, min(wanted, tasks))

    def watchdog(self) -> float:
        if self.watchdog_seconds is not None:
            return self.watchdog_seconds
        return 2 * self.limits.submission_seconds + 60.0

    def graded(self) -> Assignment:
        """The assignment every submission is graded on (raises AssignmentError if invalid)."""
        return Assignment(
            exercises=tuple(self.exercises) or catalogue.current().names(),
            points=self.points,
            name=self.assignment,
        )

    def selection(self) -> str:
        """The gradebook's record of the exercise set: `exercise=points,...`."""
        return self.graded().key()

    def config(self, figures: bool | None = None) -> str:
        """The limits as JSON, numbers as floats: `call_seconds=1` and `1.0` are one config;
        with `"figures": true` when the reports hold the data of the pages' figures."""
        limits = {
            name: float(value) if isinstance(value, int | float) else value
            for name, value in asdict(self.limits).items()
        }
        config: dict = {"limits": limits}
        if self.pages if figures is None else figures:
            config["figures"] = True
        return json.dumps(config, sort_keys=True)

    def reusable_configs(self) -> tuple[str, ...]:
        """Stored configs whose reports serve this batch: a report with figure data serves
        a batch without pages too, not the other way round."""
        return (self.config(),) if self.pages else (self.config(), self.config(figures=True))

    def grade_options(self, student: str) -> GradeOptions:
        return GradeOptions(
            assignment=self.graded(),
            student_id=student,
            course_salt=self.course_salt,
            limits=self.limits,
            isolation=self.isolation,
            figures=self.pages,
        )


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path


@dataclass(frozen=True)
class StudentOutcome:
    """What the batch did with one submission. Every outcome has a report, errors included."""

    student: str
    path: Path
    status: Status
    report: Report
    report_json: str
    content_hash: str
    error: str | None = None

    @property
    def score(self) -> float:
        return self.report.score

    @property
    def max_score(self) -> float:
        return self.report.max_score


@dataclass(frozen=True)
class ProgressEvent:
    """Sent to the progress callback: once with kind "start", then once per graded result.

    `total` counts the submissions to grade (skipped ones are not graded and not counted);
    `errors` the grader failures so far and `below_full` the results short of full marks.
    """

    kind: Literal["start", "result"]
    done: int
    total: int
    skipped: int
    errors: int
    below_full: int
    workers: int
    outcome: StudentOutcome | None = None


@dataclass
class BatchResult:
    assignment: str
    directory: Path
    out: Path
    db_path: Path
    csv_path: Path
    reports_dir: Path
    workers: int
    outcomes: list[StudentOutcome]
    ignored: list[str]
    elapsed_seconds: float
    exercises: Sequence[str] = ()
    """What every submission was graded on, and `max_score` its total."""
    max_score: float = 0.0
    index_path: Path | None = None
    """The class page (OUT/index.html), when pages were written."""
    page_errors: list[str] = field(default_factory=list)
    """Pages whose figures could not be drawn (each was written without them)."""

    def count(self, status: Status) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def graded(self) -> int:
        return self.count("graded")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def errors(self) -> int:
        return self.count("error")

    @property
    def failed_students(self) -> list[str]:
        """The submissions the grader itself failed on (their reports say so)."""
        return [outcome.student for outcome in self.outcomes if outcome.status == "error"]

    @property
    def throughput(self) -> float:
        """Submissions graded (errors included, skipped ones not) per second of the batch."""
        ran = self.graded + self.errors
        return ran / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def outcome(self, student: str) -> StudentOutcome:
        for outcome in self.outcomes:
            if outcome.student == student:
                return outcome
        raise KeyError(student)


ProgressCallback = Callable[[ProgressEvent], None]


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------- discovery


def discover(directory: Path, exclude: Sequence[Path] = ()) -> tuple[list[Submission], list[str]]:
    """The submissions in `directory`, by student id, and the names of ignored entries."""
    excluded = {path.resolve() for path in exclude}
    candidates: list[Path] = []
    ignored: list[str] = []
    for entry in sorted(directory.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name.startswith((".", "_")) or entry.resolve() in excluded:
            continue
        if entry.is_dir() or (
            entry.suffix.lower() in CODE_SUFFIXES
            and not name.lower().startswith("readme")
            and entry.is_file()
        ):
            candidates.append(entry)
        elif not (name.endswith(".expected.json") or name.lower().startswith("readme")):
            ignored.append(name)
    stems: dict[str, int] = {}
    for entry in candidates:
        stems[_stem(entry)] = stems.get(_stem(entry), 0) + 1
    submissions = [
        Submission(student=_stem(entry) if stems[_stem(entry)] == 1 else entry.name, path=entry)
        for entry in candidates
    ]
    return sorted(submissions, key=lambda s: s.student), ignored


def _stem(entry: Path) -> str:
    return entry.name if entry.is_dir() else entry.stem


def content_hash(path: Path) -> str:
    """sha256 of a file, or of a folder's files (sorted relative paths, then bytes).

    Inside a folder, hidden entries and caches are left out (the loader never reads them)
    and a symbolic link contributes its target's name, never the file it points at.
    """
    digest = hashlib.sha256()
    if not path.is_dir():
        digest.update(b"file\0")
        _hash_file(path, digest)
        return digest.hexdigest()
    digest.update(b"folder\0")
    for relative, full in sorted(_folder_entries(path)):
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0")
        info = full.lstat()
        if stat.S_ISLNK(info.st_mode):
            digest.update(b"link\0" + os.fsencode(os.readlink(full)) + b"\0")
        elif stat.S_ISREG(info.st_mode):
            digest.update(b"data\0")
            _hash_file(full, digest)
        else:
            digest.update(b"other\0")
    return digest.hexdigest()


def _folder_entries(folder: Path) -> list[tuple[str, Path]]:
    entries = []
    for root, dirs, files in os.walk(folder):  # does not follow links to folders
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _HASH_SKIPPED_DIRS]
        for name in files:
            if not name.startswith("."):
                full = Path(root, name)
                entries.append((full.relative_to(folder).as_posix(), full))
    return entries


def _hash_file(path: Path, digest: hashlib._Hash) -> None:
    try:
        with path.open("rb") as handle:
            digest.update(str(os.fstat(handle.fileno()).st_size).encode() + b"\0")
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:  # unreadable: hash the reason, the grader will report it
        digest.update(f"unreadable:{exc.errno}".encode())


# --------------------------------------------------------------------------- batch


@dataclass
class _Task:
    submission: Submission
    content_hash: str
    seed: int


def grade_batch(
    directory: Path | str,
    out: Path | str,
    options: BatchOptions | None = None,
    progress: ProgressCallback | None = None,
) -> BatchResult:
    """Grade every submission in `directory`; write reports, CSV and gradebook under `out`.

    Returns when every submission has an outcome. KeyboardInterrupt stops the workers and
    propagates; every result committed before it stays in the gradebook.
    """
    options = options or BatchOptions()
    started = time.perf_counter()
    directory = Path(directory)
    if not directory.is_dir():
        raise NotADirectoryError(f"{directory} is not a folder")
    for name in options.exercises:
        catalogue.current().get(name)  # KeyError for an unknown exercise, before anything runs
    options = replace(options, assignment=options.assignment or directory.resolve().name)
    graded = options.graded()  # AssignmentError for bad points, before anything runs
    _check_importable(options)
    if wanted_isolation(options.isolation) == "strong":
        resolve(options.isolation)  # IsolationUnavailable, before anything runs
    out = Path(out)
    reports_dir = out / "reports"
    reports_dir.mkdir(parents=True, exist_ok=True)
    db_path = Path(options.db_path) if options.db_path is not None else out / "gradebook.sqlite"
    assignment = graded.name  # the folder's name unless one was given (above)
    submissions, ignored = discover(directory, exclude=(out, db_path))

    outcomes: dict[str, StudentOutcome] = {}
    page_errors: list[str] = []

    def write_page(outcome: StudentOutcome, force: bool = True, drawn: Page = None) -> None:
        if options.pages:
            from grader.pages import write_student_page

            problem = write_student_page(
                out, outcome.student, outcome.report, force=force, drawn=drawn
            )
            if problem:
                page_errors.append(problem)

    with Gradebook(db_path) as book:
        tasks: list[_Task] = []
        for submission in submissions:
            task = _Task(
                submission,
                content_hash(submission.path),
                options.grade_options(submission.student).run_seed(),
            )
            stored = None if options.regrade else book.latest(assignment, submission.student)
            report = (
                _stored_report(stored) if stored and _still_valid(stored, task, options) else None
            )
            if report is not None and _weaker_than_wanted(report, options):
                report = None
            if report is not None:
                outcomes[submission.student] = _write_report(
                    reports_dir,
                    StudentOutcome(
                        student=submission.student,
                        path=submission.path,
                        status="skipped",
                        report=report,
                        report_json=stored.report_json,
                        content_hash=task.content_hash,
                    ),
                )
                write_page(outcomes[submission.student], force=False)
            else:
                tasks.append(task)

        workers = options.worker_count(len(tasks))
        counter = _Counter(total=len(tasks), skipped=len(outcomes), workers=workers)
        if progress is not None:
            progress(counter.event("start"))

        def finish(
            task: _Task, report_json: str | None, error: str | None, drawn: Page = None
        ) -> None:
            outcome = _record(book, assignment, options, task, report_json, error)
            outcomes[outcome.student] = _write_report(reports_dir, outcome)
            # the worker's page, if it drew one from the report recorded (else drawn here)
            same = outcome.status == "graded" and outcome.report_json == report_json
            write_page(outcome, drawn=drawn if same else None)
            counter.add(outcome)
            if progress is not None:
                progress(counter.event("result", outcome))

        if workers == 0:
            _grade_here(tasks, options, finish)
        else:
            _grade_in_pool(tasks, options, workers, finish)

    ordered = [outcomes[s.student] for s in submissions]
    csv_path = write_gradebook_csv(
        out / "gradebook.csv", [(o.student, o.report) for o in ordered], graded.exercises
    )
    result = BatchResult(
        assignment=assignment,
        directory=directory,
        out=out,
        db_path=db_path,
        csv_path=csv_path,
        reports_dir=reports_dir,
        workers=workers,
        outcomes=ordered,
        ignored=ignored,
        elapsed_seconds=time.perf_counter() - started,
        exercises=graded.exercises,
        max_score=graded.max_score,
        page_errors=page_errors,
    )
    if options.pages:
        from grader.pages import write_class_page

        result.index_path = write_class_page(result)
    return result


def _check_importable(options: BatchOptions) -> None:
    """Worker processes find the grade function by name: it must be importable."""
    function = options.grade_function
    if options.workers == 0 or not isinstance(function, types.FunctionType):
        return
    module = sys.modules.get(function.__module__)
    found = module
    for part in function.__qualname__.split("."):
        found = getattr(found, part, None)
    if function.__module__ == "__main__" or found is not function:
        raise ValueError(
            f"grade_function {function.__qualname__} must be a module-level function of an "
            "importable module (not __main__), or use workers=0"
        )


def _stored_report(run: Run) -> Report | None:
    """The report of a stored run, or None when it no longer reads (then: regrade)."""
    try:
        return run.report
    except ValueError:
        return None


def _weaker_than_wanted(report: Report, options: BatchOptions) -> bool:
    """A stored report graded in fallback mode, when strong isolation is wanted now."""
    mode = report.isolation.mode if report.isolation else None
    return wanted_isolation(options.isolation) == "strong" and mode != "strong"


def _still_valid(run: Run, task: _Task, options: BatchOptions) -> bool:
    return (
        run.status == "graded"
        and run.content_hash == task.content_hash
        and run.seed == task.seed
        and run.grader_version == __version__
        and run.selection == options.selection()
        and run.config in options.reusable_configs()
    )


@dataclass
class _Counter:
    total: int
    skipped: int
    workers: int
    done: int = 0
    errors: int = 0
    below_full: int = 0

    def add(self, outcome: StudentOutcome) -> None:
        self.done += 1
        if outcome.status == "error":
            self.errors += 1
        elif outcome.score < outcome.max_score:
            self.below_full += 1

    def event(self, kind: Literal["start", "result"], outcome=None) -> ProgressEvent:
        return ProgressEvent(
            kind=kind,
            done=self.done,
            total=self.total,
            skipped=self.skipped,
            errors=self.errors,
            below_full=self.below_full,
            workers=self.workers,
            outcome=outcome,
        )


def _record(
    book: Gradebook,
    assignment: str,
    options: BatchOptions,
    task: _Task,
    report_json: str | None,
    error: str | None,
) -> StudentOutcome:
    submission = task.submission
    report = None
    if report_json is not None:
        try:
            report = Report.model_validate_json(report_json)
        except ValueError as exc:
            error = f"the grader returned an unreadable report: {exc}"
    if report is None:
        error = error or "the grader failed"
        report = error_report(submission, task.seed, error, options.graded())
        report_json = report.to_json()
    status: Status = "error" if error else "graded"
    book.record(
        Run(
            student=submission.student,
            assignment=assignment,
            content_hash=task.content_hash,
            seed=task.seed,
            grader_version=__version__,
            selection=options.selection(),
            config=options.config(),
            status=status,
            score=report.score,
            max_score=report.max_score,
            report_json=report_json,
            submission=str(submission.path),
            error=error,
            duration_seconds=report.duration_seconds,
        )
    )
    return StudentOutcome(
        student=submission.student,
        path=submission.path,
        status=status,
        report=report,
        report_json=report_json,
        content_hash=task.content_hash,
        error=error,
    )


def error_report(
    submission: Submission, seed: int, message: str, requested: Assignment | Sequence[str] = ()
) -> Report:
    """The report of a submission the grader failed on: score 0 out of what was to be graded."""
    if not isinstance(requested, Assignment):
        requested = Assignment.of(requested)
    return Report(
        grader_version=__version__,
        submission=str(submission.path),
        student_id=submission.student,
        seed=seed,
        score=0.0,
        max_score=requested.max_score,
        selection=requested.describe(),
        errors=[
            f"The grader failed on this submission (a grader problem, tell your TA): {message}"
        ],
    )


def _write_report(reports_dir: Path, outcome: StudentOutcome) -> StudentOutcome:
    """Write the report unless the file already holds exactly it (reruns keep mtimes)."""
    path = reports_dir / f"{outcome.student}.json"
    try:
        if path.read_text() == outcome.report_json:
            return outcome
    except (OSError, UnicodeDecodeError):
        pass
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(outcome.report_json)
    temporary.replace(path)
    return outcome


Page = tuple[str, str | None] | None
"""A student's page drawn by a worker: (HTML, None or why its figures are missing)."""
Finish = Callable[[_Task, "str | None", "str | None", Page], None]


def _grade_here(tasks: Sequence[_Task], options: BatchOptions, finish: Finish) -> None:
    for task in tasks:
        student = task.submission.student
        reply = _grade_one(options.grade_function, task.submission.path, options, student)
        finish(task, *reply, _draw_page(student, reply[0], options))


def _grade_one(
    grade_function: Callable[[Path, GradeOptions], Report],
    path: Path,
    options: BatchOptions,
    student: str,
) -> tuple[str | None, str | None]:
    """(report JSON, None), or (None, why the grader failed)."""
    try:
        return grade_function(path, options.grade_options(student)).to_json(), None
    except Exception as exc:
        return None, _describe_exception(exc)


def _draw_page(student: str, report_json: str | None, options: BatchOptions) -> Page:
    """The student's page, drawn where the submission was graded (a worker) so that pages are
    drawn in parallel; None when pages are off or it cannot be drawn here (the parent then
    draws it). matplotlib and jinja2 are imported only when pages are on."""
    if not options.pages or report_json is None:
        return None
    try:
        from grader.pages import student_page

        return student_page(student, Report.model_validate_json(report_json))
    except Exception:  # e.g. an unreadable report: the parent records the error, draws its page
        return None


def _describe_exception(exc: BaseException) -> str:
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        where = f" (at {Path(last.filename).name}:{last.lineno} in {last.name})"
    text = str(exc).strip() or "no message"
    return f"{type(exc).__name__}: {text[:500]}{where}"


# --------------------------------------------------------------------------- the pool


class WorkerStartError(RuntimeError):
    """A worker process died before it was ready: the batch cannot run on this machine."""


def _worker_main(
    conn: Connection, grade_function, isolation: str = "auto", pages: bool = False
) -> None:
    """Grade the submissions the parent sends, one at a time, until told to stop; with
    `pages`, also draw each one's page."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, _exit_on_signal)  # unwinds, so the sandbox child is killed
    prewarm(isolation)  # the fork server and the isolation probe, before the first submission
    if pages:  # matplotlib and jinja2, before the first submission too
        with suppress(Exception):  # else the first page says why
            import grader.renderers.html  # noqa: F401
    try:
        conn.send(("ready",))
        while True:
            message = conn.recv()
            if message is None:
                return
            key, path, options, student = message
            reply = _grade_one(grade_function, path, options, student)
            conn.send((key, *reply, _draw_page(student, reply[0], options)))
    except (EOFError, OSError):  # the parent is gone
        return


def _exit_on_signal(signum, frame) -> None:
    raise SystemExit(128 + signum)


class _Worker:
    def __init__(
        self, context, grade_function, isolation: str = "auto", pages: bool = False
    ) -> None:
        self.conn, child_conn = context.Pipe(duplex=True)
        self.process = context.Process(
            target=_worker_main,
            args=(child_conn, grade_function, isolation, pages),
            daemon=True,
        )
        with as_if_interactive():
            self.process.start()
        child_conn.close()
        self.ready = False
        self.task: _Task | None = None
        self.key = 0
        self.deadline = 0.0

    def give(self, task: _Task, options: BatchOptions, key: int) -> None:
        self.task, self.key = task, key
        self.deadline = time.monotonic() + options.watchdog()
        with suppress(OSError):  # if it died, the pool sees its sentinel and handles the task
            self.conn.send((key, task.submission.path, options, task.submission.student))

    def receive(self) -> tuple | None:
        """The next message, or None when the worker has died."""
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            return None

    def stop(self, force: bool) -> None:
        """Ask an idle worker to leave; terminate a busy one (its sandbox dies with it)."""
        if self.process.is_alive():
            if force:
                self.process.terminate()
            else:
                try:
                    self.conn.send(None)
                except OSError:
                    self.process.terminate()

    def reap(self) -> None:
        self.process.join(_WORKER_STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()

    def death(self) -> str:
        self.process.join(_WORKER_STOP_SECONDS)
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"


def _grade_in_pool(
    tasks: Sequence[_Task], options: BatchOptions, count: int, finish: Finish
) -> None:
    context = worker_context()
    pending = deque(tasks)
    workers: list[_Worker] = []
    key = 0

    def new_worker() -> _Worker:
        return _Worker(context, options.grade_function, options.isolation, options.pages)

    def replace(index: int) -> None:
        workers[index].reap()
        if pending:
            workers[index] = new_worker()
        else:
            del workers[index]

    try:
        workers = [new_worker() for _ in range(count)]
        while workers:
            for worker in workers:
                if worker.task is None and pending:
                    key += 1
                    worker.give(pending.popleft(), options, key)
            busy = [w for w in workers if w.task is not None]
            if not busy:
                break
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
            for worker in list(busy):
                index, task = workers.index(worker), worker.task
                if worker.conn in ready or worker.process.sentinel in ready:
                    message = worker.receive()
                    if message == ("ready",):
                        worker.ready = True
                        continue
                    if message is None and not worker.ready:
                        pending.appendleft(task)
                        raise WorkerStartError(
                            f"a grading worker process {worker.death()} before it was ready"
                        )
                    if message is None:
                        how = worker.death()
                        replace(index)
                        finish(
                            task, None, f"the grading process {how} while grading this submission"
                        )
                        continue
                    worker.task = None
                    finish(task, *message[1:])
                elif time.monotonic() >= worker.deadline:
                    worker.stop(force=True)
                    replace(index)
                    finish(
                        task,
                        None,
                        f"grading took longer than {options.watchdog():g} s, so it was stopped",
                    )
    finally:
        for worker in workers:
            worker.stop(force=worker.task is not None)
        for worker in workers:
            worker.reap()
