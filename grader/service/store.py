"""The service's store: every submission's bytes on disk and its row in SQLite, durably.

    store = Store("data/", course)            # data/store.sqlite, data/submissions/<id>/
    submission = store.accept("s001", "hw1", "hw1.ipynb", data)   # durable when it returns
    claimed = store.claim_next()              # queued -> grading, attempts + 1
    store.record_result(claimed.id, __version__, report_json, "graded")

Decisions a reader needs to know:

- Durability: `accept` writes the bytes to a temporary file, fsyncs it, renames it to
  `submissions/<id>/<safe name>` and fsyncs the directories, then inserts the row and
  commits (WAL, synchronous=FULL) before it returns. An acknowledged submission survives
  the process being killed at any moment (and a power loss). A crash between the file and
  the commit leaves a directory without a row, which nothing reads.
- Every connection belongs to one thread (`threading.local`); transactions that read then
  write take the write lock first (BEGIN IMMEDIATE), so several threads or processes can
  claim and accept at once: nobody is handed the same submission twice, and the
  per-student limit cannot be overrun by concurrent uploads.
- Results are keyed by (submission id, grader version): recording the same result again
  changes nothing. A regrade under another grader version adds a result.
- A submission left `grading` by a crash is queued again by `requeue_interrupted` (run it
  at start-up, before any worker); after `max_attempts` interrupted gradings it is marked
  `failed` with a message rather than crashing the workers forever.
- With a course, `accept` enforces it: known assignment, a student of the roster, the upload
  limit, the deadline (late ones refused, or accepted and flagged) and `max_submissions`,
  which counts the submissions queued, grading or graded (a failed one does not count
  against the student).
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from grader.service.course import Course
from grader.service.database import Database, write_durably
from grader.service.filenames import SubmissionRefused, check_content, safe_filename

__all__ = ["Result", "Store", "Submission", "SubmissionRefused", "StoreError"]

Status = Literal["queued", "grading", "graded", "failed"]
DEFAULT_MAX_ATTEMPTS = 3
DB_NAME = "store.sqlite"
SUBMISSIONS = "submissions"
SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    filename TEXT NOT NULL,
    safe_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    late INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'grading', 'graded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    round INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT
);
CREATE INDEX IF NOT EXISTS submissions_by_status ON submissions (status, seq);
CREATE INDEX IF NOT EXISTS submissions_by_student ON submissions (student, assignment, seq);
CREATE TABLE IF NOT EXISTS results (
    submission_id TEXT NOT NULL REFERENCES submissions (id),
    grader_version TEXT NOT NULL,
    round INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('graded', 'failed')),
    score REAL,
    max_score REAL,
    report_json TEXT,
    page_html TEXT,
    error TEXT,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (submission_id, grader_version, round)
);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('student', 'ta')),
    subject TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_by_subject ON tokens (role, subject);
"""


class StoreError(RuntimeError):
    """The store cannot do what was asked (an unknown submission id)."""


@dataclass(frozen=True)
class Submission:
    id: str
    student: str
    assignment: str
    filename: str
    """The name the client gave, as given."""
    safe_name: str
    """The name it is stored under (`safe_filename`)."""
    sha256: str
    size: int
    received_at: datetime
    late: bool
    status: Status
    attempts: int
    error: str | None = None
    round: int = 0
    """How many times a TA asked for a regrade: a result belongs to one round."""


@dataclass(frozen=True)
class Result:
    submission_id: str
    grader_version: str
    round: int
    status: Literal["graded", "failed"]
    score: float | None
    max_score: float | None
    report_json: str | None
    page_html: str | None
    error: str | None
    recorded_at: datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """The submissions, results and tokens of one service, under `data_dir`.

    `durable=False` is for the grading workers: their commits survive the process being
    killed but not a power loss (synchronous=NORMAL: no fsync per commit). What such a loss
    undoes (a claim, a result) is only graded again, while commits waiting on each other's
    fsyncs would delay the uploads that share the write lock. An acknowledged submission
    is always committed durably: `accept` runs in the server's store."""

    def __init__(
        self,
        data_dir: Path | str,
        course: Course | None = None,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        durable: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.course = course
        self.max_attempts = max_attempts
        self.submissions_dir = self.data_dir / SUBMISSIONS
        self.submissions_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.data_dir / DB_NAME
        self.database = Database(self.db_path, SCHEMA, durable=durable)

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """A transaction holding the write lock (`Database.write`)."""
        return self.database.write()

    def read(self, sql: str, *params: object) -> list[sqlite3.Row]:
        return self.database.read(sql, *params)

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        self.database.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------- accepting

    def accept(
        self,
        student: str,
        assignment: str,
        filename: str,
        data: bytes,
        *,
        now: datetime | None = None,
    ) -> Submission:
        """Store a submission durably and queue it; SubmissionRefused (nothing stored) when
        the file or, with a course, the course's rules refuse it."""
        now = now or utc_now()
        safe_name = safe_filename(filename)
        late = False
        limit = None
        if self.course is not None:
            limit = self.course.limits.upload_bytes
            late = self._check_course(student, assignment, now)
        check_content(safe_name, data, limit)
        submission_id = uuid.uuid4().hex
        directory = self.submissions_dir / submission_id
        write_durably(directory, safe_name, data)
        try:
            with self.write() as db:
                if self.course is not None:
                    self._check_limit(db, student, assignment)
                db.execute(
                    "INSERT INTO submissions (id, student, assignment, filename, safe_name,"
                    " sha256, size, received_at, late, status, attempts)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0)",
                    (
                        submission_id,
                        student,
                        assignment,
                        filename,
                        safe_name,
                        hashlib.sha256(data).hexdigest(),
                        len(data),
                        now.astimezone(UTC).isoformat(),
                        int(late),
                    ),
                )
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return self.get(submission_id)

    def _check_course(self, student: str, assignment: str, now: datetime) -> bool:
        """Whether the submission is late; SubmissionRefused if the course refuses it."""
        assert self.course is not None
        if assignment not in self.course.assignments:
            raise SubmissionRefused(
                f"there is no assignment {assignment!r} in this course", "unknown_assignment"
            )
        if student not in self.course.students:
            raise SubmissionRefused(f"{student!r} is not on the course's roster", "not_enrolled")
        rules = self.course.assignments[assignment]
        late = rules.is_late(now)
        if late and rules.late == "refuse":
            raise SubmissionRefused(
                f"the deadline of {assignment} ({rules.deadline.isoformat()}) has passed",
                "deadline",
            )
        return late

    def _check_limit(self, db: sqlite3.Connection, student: str, assignment: str) -> None:
        assert self.course is not None
        limit = self.course.assignments[assignment].max_submissions
        if self._count(db, student, assignment) >= limit:
            raise SubmissionRefused(
                f"you have used all {limit} graded submissions of {assignment}", "limit"
            )

    # ------------------------------------------------------------- grading

    def claim_next(self, worker: str | None = None) -> Submission | None:
        """The oldest queued submission, now `grading` with one more attempt (None: none
        queued). Safe with several claimers: each submission is handed out once. `worker`
        names the claimer, so that its claims can be queued again if it dies."""
        with self.write() as db:
            row = db.execute(
                "SELECT id FROM submissions WHERE status = 'queued' ORDER BY seq LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE submissions SET status = 'grading', attempts = attempts + 1,"
                " claimed_by = ? WHERE id = ?",
                (worker, row["id"]),
            )
        return self.get(row["id"])

    def record_result(
        self,
        submission_id: str,
        grader_version: str,
        report_json: str | None,
        status: Literal["graded", "failed"],
        *,
        error: str | None = None,
        round: int = 0,
        page_html: str | None = None,
        score: tuple[float, float] | None = None,
    ) -> bool:
        """Record the grading of a submission (in a regrade `round`) by a grader version,
        with its feedback page and (score, max score), and set its status; False (and
        nothing changed) if that submission already has a result from that version in that
        round. A result of an
        earlier round (a grading a regrade overtook) is kept but changes no status."""
        if status not in ("graded", "failed"):
            raise ValueError(f"a result is 'graded' or 'failed', not {status!r}")
        with self.write() as db:
            if (
                db.execute("SELECT 1 FROM submissions WHERE id = ?", (submission_id,)).fetchone()
                is None
            ):
                raise StoreError(f"no submission {submission_id!r}")
            inserted = db.execute(
                "INSERT OR IGNORE INTO results (submission_id, grader_version, round, status,"
                " score, max_score, report_json, page_html, error, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    submission_id,
                    grader_version,
                    round,
                    status,
                    *(score or (None, None)),
                    report_json,
                    page_html,
                    error,
                    utc_now().isoformat(),
                ),
            ).rowcount
            if inserted:
                db.execute(
                    "UPDATE submissions SET status = ?, error = ?, claimed_by = NULL"
                    " WHERE id = ? AND round = ?",
                    (status, error, submission_id, round),
                )
        return bool(inserted)

    def dispatch_next(self, claimer: str) -> Submission | None:
        """The oldest queued submission nobody has taken, now taken by `claimer` (a remote
        queue: it stays `queued` until a worker starts it, see `mark_grading`)."""
        with self.write() as db:
            row = db.execute(
                "SELECT id FROM submissions WHERE status = 'queued' AND claimed_by IS NULL"
                " ORDER BY seq LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE submissions SET claimed_by = ? WHERE id = ?", (claimer, row["id"]))
        return self.get(row["id"])

    def dispatched(self, claimer: str) -> list[Submission]:
        """The submissions `claimer` has taken and not answered yet, oldest first."""
        rows = self.read(
            "SELECT * FROM submissions WHERE claimed_by = ? AND status IN ('queued', 'grading')"
            " ORDER BY seq",
            claimer,
        )
        return [_submission(row) for row in rows]

    def mark_grading(self, submission_id: str, round: int) -> None:
        """A remote worker started grading the submission (this round): one more attempt."""
        with self.write() as db:
            db.execute(
                "UPDATE submissions SET status = 'grading', attempts = attempts + 1"
                " WHERE id = ? AND round = ? AND status = 'queued'",
                (submission_id, round),
            )

    def release(self, submission_id: str, round: int, reason: str) -> Status:
        """Give a taken submission back to the queue (a worker refused it), or mark it
        `failed` with `reason` once it has been tried `max_attempts` times; its status."""
        with self.write() as db:
            row = db.execute(
                "SELECT attempts, status FROM submissions WHERE id = ? AND round = ?",
                (submission_id, round),
            ).fetchone()
            if row is None or row["status"] not in ("queued", "grading"):
                return row["status"] if row else "failed"
            attempts = max(row["attempts"], 1)
            status: Status = "failed" if attempts >= self.max_attempts else "queued"
            db.execute(
                "UPDATE submissions SET status = ?, attempts = ?, claimed_by = NULL,"
                " error = ? WHERE id = ?",
                (status, attempts, reason if status == "failed" else None, submission_id),
            )
        return status

    def regrade(
        self, submission_ids: list[str] | None = None, *, assignment: str | None = None
    ) -> list[str]:
        """Queue submissions for grading again, in a new round (their earlier results are
        kept): the given ids, or every graded or failed submission of `assignment`. A
        submission still queued or grading is left alone. Returns the ids queued."""
        with self.write() as db:
            if submission_ids is None:
                rows = db.execute(
                    "SELECT id FROM submissions WHERE status IN ('graded', 'failed')"
                    " AND (? IS NULL OR assignment = ?) ORDER BY seq",
                    (assignment, assignment),
                ).fetchall()
                submission_ids = [row["id"] for row in rows]
            queued = []
            for submission_id in submission_ids:
                changed = db.execute(
                    "UPDATE submissions SET status = 'queued', round = round + 1, attempts = 0,"
                    " error = NULL, claimed_by = NULL"
                    " WHERE id = ? AND status IN ('graded', 'failed')",
                    (submission_id,),
                ).rowcount
                if changed:
                    queued.append(submission_id)
        return queued

    def requeue_interrupted(
        self, worker: str | None = None, *, keep: str | None = None
    ) -> tuple[list[str], list[str]]:
        """Queue again every submission left `grading` by a crash (only those claimed by
        `worker`, when given: a worker that died; all but those claimed by `keep`); mark
        `failed` those interrupted `max_attempts` times. Returns (requeued ids, failed
        ids). Without `worker`, run it at start-up, before any worker claims."""
        with self.write() as db:
            rows = db.execute(
                "SELECT id, attempts FROM submissions WHERE status = 'grading'"
                " AND (? IS NULL OR claimed_by = ?) AND (? IS NULL OR claimed_by IS NOT ?)"
                " ORDER BY seq",
                (worker, worker, keep, keep),
            ).fetchall()
            requeued, failed = [], []
            for row in rows:
                if row["attempts"] >= self.max_attempts:
                    message = (
                        f"grading was interrupted {row['attempts']} times (the grading process "
                        "crashed or was killed), so it is not tried again; a TA can regrade it"
                    )
                    db.execute(
                        "UPDATE submissions SET status = 'failed', error = ? WHERE id = ?",
                        (message, row["id"]),
                    )
                    failed.append(row["id"])
                else:
                    db.execute(
                        "UPDATE submissions SET status = 'queued', claimed_by = NULL WHERE id = ?",
                        (row["id"],),
                    )
                    requeued.append(row["id"])
        return requeued, failed

    # ------------------------------------------------------------- reading

    def get(self, submission_id: str) -> Submission:
        rows = self.read("SELECT * FROM submissions WHERE id = ?", submission_id)
        if not rows:
            raise StoreError(f"no submission {submission_id!r}")
        return _submission(rows[0])

    def path_of(self, submission: Submission) -> Path:
        """Where the submission's bytes are."""
        return self.submissions_dir / submission.id / submission.safe_name

    def history(self, student: str, assignment: str | None = None) -> list[Submission]:
        """The student's submissions, oldest first."""
        if assignment is None:
            rows = self.read("SELECT * FROM submissions WHERE student = ? ORDER BY seq", student)
        else:
            rows = self.read(
                "SELECT * FROM submissions WHERE student = ? AND assignment = ? ORDER BY seq",
                student,
                assignment,
            )
        return [_submission(row) for row in rows]

    def count(self, student: str, assignment: str) -> int:
        """The submissions that use up the student's `max_submissions`: queued, grading or
        graded (not failed)."""
        return self._count(self.database.connection(), student, assignment)

    @staticmethod
    def _count(db: sqlite3.Connection, student: str, assignment: str) -> int:
        return db.execute(
            "SELECT COUNT(*) FROM submissions WHERE student = ? AND assignment = ?"
            " AND status != 'failed'",
            (student, assignment),
        ).fetchone()[0]

    def counted(self, student: str, assignment: str) -> Submission | None:
        """The submission that counts: the student's latest graded one (None: none yet)."""
        rows = self.read(
            "SELECT * FROM submissions WHERE student = ? AND assignment = ?"
            " AND status = 'graded' ORDER BY seq DESC LIMIT 1",
            student,
            assignment,
        )
        return _submission(rows[0]) if rows else None

    def all_submissions(self, assignment: str | None = None) -> list[Submission]:
        """Every submission (of one assignment), oldest first: what a TA sees."""
        if assignment is None:
            rows = self.read("SELECT * FROM submissions ORDER BY seq")
        else:
            rows = self.read(
                "SELECT * FROM submissions WHERE assignment = ? ORDER BY seq", assignment
            )
        return [_submission(row) for row in rows]

    def results(self, submission_id: str) -> list[Result]:
        """The results recorded for a submission, oldest first (one per grader version and
        round)."""
        rows = self.read(
            "SELECT * FROM results WHERE submission_id = ? ORDER BY rowid", submission_id
        )
        return [_result(row) for row in rows]

    def current_result(self, submission: Submission, *, bodies: bool = True) -> Result | None:
        """The latest result of the submission's current round (None: not graded yet);
        without its report and page unless `bodies` (a status needs neither, and they are
        tens of kilobytes)."""
        columns = "*" if bodies else _RESULT_HEAD
        rows = self.read(
            f"SELECT {columns} FROM results WHERE submission_id = ? AND round = ?"
            " ORDER BY rowid DESC LIMIT 1",
            submission.id,
            submission.round,
        )
        return _result(rows[0]) if rows else None

    def graded_since(self, since: datetime) -> int:
        """Results recorded since `since` (the grading rate)."""
        return self.read(
            "SELECT COUNT(*) FROM results WHERE recorded_at >= ?", since.astimezone(UTC).isoformat()
        )[0][0]

    def status_counts(self, assignment: str | None = None) -> dict[str, int]:
        """How many submissions are in each status, and how many are late."""
        rows = self.read(
            "SELECT status, COUNT(*) AS n, SUM(late) AS late FROM submissions"
            " WHERE ? IS NULL OR assignment = ? GROUP BY status",
            assignment,
            assignment,
        )
        counts = dict.fromkeys(("queued", "grading", "graded", "failed", "late"), 0)
        for row in rows:
            counts[row["status"]] = row["n"]
            counts["late"] += row["late"] or 0
        return counts


def _submission(row: sqlite3.Row) -> Submission:
    return Submission(
        id=row["id"],
        student=row["student"],
        assignment=row["assignment"],
        filename=row["filename"],
        safe_name=row["safe_name"],
        sha256=row["sha256"],
        size=row["size"],
        received_at=datetime.fromisoformat(row["received_at"]),
        late=bool(row["late"]),
        status=row["status"],
        attempts=row["attempts"],
        error=row["error"],
        round=row["round"],
    )


_RESULT_HEAD = (
    "submission_id, grader_version, round, status, score, max_score, error, recorded_at,"
    " NULL AS report_json, NULL AS page_html"
)


def _result(row: sqlite3.Row) -> Result:
    return Result(
        submission_id=row["submission_id"],
        grader_version=row["grader_version"],
        round=row["round"],
        status=row["status"],
        score=row["score"],
        max_score=row["max_score"],
        report_json=row["report_json"],
        page_html=row["page_html"],
        error=row["error"],
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
    )
