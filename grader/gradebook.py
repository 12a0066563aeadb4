"""The gradebook: every grading run of a batch, in one SQLite file, and the CSV made from it.

One row per run (`runs` table); the latest run of a student for an assignment is the row
with the highest id. Rows are only ever added, so the history of a student survives every
regrade, and each row is committed on its own: a batch killed at any moment loses nothing
it had already graded.

The database is opened in WAL mode with `synchronous=NORMAL`: a commit survives the
grading process being killed (SIGKILL included), only a power loss can lose the last few.
Readers (`grader gradebook show` while a batch runs) never block the writer.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from grader import catalogue
from grader.report import Report

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    grader_version TEXT NOT NULL,
    selection TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('graded', 'error')),
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    error TEXT,
    report_json TEXT NOT NULL,
    submission TEXT NOT NULL,
    duration_seconds REAL,
    graded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_student ON runs (assignment, student, id);
"""

CSV_FIXED_COLUMNS = ("student", "total", "max")


@dataclass(frozen=True)
class Run:
    """One grading of one submission.

    `assignment` names the assignment and `selection` records what it grades: every
    exercise with its points, `name=points` comma-separated (`Assignment.key()`), the same
    for every student, so `max_score` is the same too. (Gradebooks written before the
    assignment was fixed hold the exercises asked for, or an empty string for "those the
    submission attempts".) `config` is the JSON of everything else that changes a grade
    (limits).
    `status` is "graded", or "error" when the grader itself failed on the submission: then
    `score` is 0, `error` says why and `report_json` holds a report carrying that message.
    """

    student: str
    assignment: str
    content_hash: str
    seed: int
    grader_version: str
    selection: str
    config: str
    status: str
    score: float
    max_score: float
    report_json: str
    submission: str
    error: str | None = None
    duration_seconds: float | None = None
    graded_at: str = ""
    id: int | None = None

    @property
    def report(self) -> Report:
        return Report.model_validate_json(self.report_json)

    @property
    def exercises(self) -> list[str]:
        """The exercises the run's assignment grades (empty for an old "attempted" run)."""
        return [item.partition("=")[0] for item in self.selection.split(",") if item]


_COLUMNS = (
    "student",
    "assignment",
    "content_hash",
    "seed",
    "grader_version",
    "selection",
    "config",
    "status",
    "score",
    "max_score",
    "report_json",
    "submission",
    "error",
    "duration_seconds",
    "graded_at",
    "id",
)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class GradebookError(Exception):
    """The gradebook file cannot be used (missing, not a gradebook, newer schema)."""


class Gradebook:
    """A gradebook file. Use as a context manager; every `record` is committed at once."""

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise GradebookError(f"no gradebook at {self.path}")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30.0)
        try:
            self._db.execute("PRAGMA busy_timeout = 30000")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise GradebookError(
                    f"{self.path} was written by a newer grader (gradebook schema {version})"
                )
            if (
                version == 0
                and self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
            ):
                raise GradebookError(f"{self.path} is not a gradebook")
            if create:
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            if version < SCHEMA_VERSION and create:
                with self._db:
                    self._db.executescript(_SCHEMA)
                    self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version < SCHEMA_VERSION:
                raise GradebookError(f"{self.path} is not a gradebook")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise GradebookError(f"{self.path} is not a usable gradebook: {exc}") from None
        except GradebookError:
            self._db.close()
            raise

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def record(self, run: Run) -> Run:
        """Append a run and commit it; returns it with its id and time filled in."""
        graded_at = run.graded_at or utc_now()
        names = [c for c in _COLUMNS if c != "id"]
        values = {**_as_dict(run), "graded_at": graded_at}
        with self._db:
            cursor = self._db.execute(
                f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [values[n] for n in names],
            )
        return Run(**{**values, "id": cursor.lastrowid})

    def latest(self, assignment: str, student: str) -> Run | None:
        rows = self._select(
            "WHERE assignment = ? AND student = ? ORDER BY id DESC LIMIT 1", assignment, student
        )
        return next(rows, None)

    def latest_runs(self, assignment: str) -> list[Run]:
        """The latest run of every student of the assignment, by student."""
        return list(
            self._select(
                "WHERE id IN (SELECT MAX(id) FROM runs WHERE assignment = ? GROUP BY student) "
                "ORDER BY student",
                assignment,
            )
        )

    def history(self, student: str, assignment: str | None = None) -> list[Run]:
        """Every run of the student, oldest first."""
        if assignment is None:
            return list(self._select("WHERE student = ? ORDER BY id", student))
        return list(
            self._select("WHERE student = ? AND assignment = ? ORDER BY id", student, assignment)
        )

    def assignments(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT assignment FROM runs ORDER BY assignment")
        return [row[0] for row in rows]

    def count(self, assignment: str | None = None) -> int:
        if assignment is None:
            return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        return self._db.execute(
            "SELECT COUNT(*) FROM runs WHERE assignment = ?", (assignment,)
        ).fetchone()[0]

    def _select(self, clause: str, *params: object) -> Iterator[Run]:
        cursor = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs {clause}", params)
        for row in cursor:
            yield Run(**dict(zip(_COLUMNS, row, strict=True)))


def _as_dict(run: Run) -> dict:
    return {name: getattr(run, name) for name in _COLUMNS}


# --------------------------------------------------------------------------- CSV


def exercise_columns(reports: Iterable[Report], requested: Sequence[str] = ()) -> list[str]:
    """The exercises any report graded (or that were requested), in catalogue order."""
    present = set(requested)
    for report in reports:
        present.update(exercise.name for exercise in report.exercises)
    return [e.name for e in catalogue.current().exercises if e.name in present]


def gradebook_rows(
    entries: Sequence[tuple[str, Report]], requested: Sequence[str] = ()
) -> tuple[list[str], list[list[str]]]:
    """Header and rows: student, total, max, then one score per exercise (blank: not graded)."""
    columns = exercise_columns((report for _, report in entries), requested)
    header = [*CSV_FIXED_COLUMNS, *columns]
    rows = []
    for student, report in sorted(entries, key=lambda entry: entry[0]):
        scores = {exercise.name: exercise.score for exercise in report.exercises}
        row = [student, _number(report.score), _number(report.max_score)]
        row += [_number(scores[name]) if name in scores else "" for name in columns]
        rows.append(row)
    return header, rows


def write_gradebook_csv(
    path: Path | str, entries: Sequence[tuple[str, Report]], requested: Sequence[str] = ()
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(gradebook_csv(entries, requested), newline="")
    return path


def gradebook_csv(entries: Sequence[tuple[str, Report]], requested: Sequence[str] = ()) -> str:
    header, rows = gradebook_rows(entries, requested)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _number(value: float) -> str:
    return f"{value:g}"


def export_csv(gradebook: Gradebook, assignment: str | None = None) -> tuple[str, str]:
    """The CSV of the latest run of every student; returns (assignment, csv text).

    Without `assignment`, the gradebook must hold exactly one.
    """
    assignment = resolve_assignment(gradebook, assignment)
    runs = gradebook.latest_runs(assignment)
    requested = [name for run in runs for name in run.exercises]
    return assignment, gradebook_csv([(run.student, run.report) for run in runs], requested)


def resolve_assignment(gradebook: Gradebook, assignment: str | None) -> str:
    known = gradebook.assignments()
    if assignment is not None:
        if assignment not in known:
            raise GradebookError(
                f"no assignment {assignment!r} in {gradebook.path}; it holds: "
                + (", ".join(known) or "nothing yet")
            )
        return assignment
    if len(known) == 1:
        return known[0]
    if not known:
        raise GradebookError(f"{gradebook.path} holds no runs yet")
    raise GradebookError(
        f"{gradebook.path} holds several assignments; choose one of: {', '.join(known)}"
    )
