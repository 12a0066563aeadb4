"""What the JSON API and the pages share: the course, the store, and the rules of who may
see and do what. Routers only translate HTTP to these calls and back.

Visibility rules: a student sees only their own submissions (another student's are
"not found", so ids reveal nothing); a TA sees everything. Only students hand in (a TA
cannot submit in a student's name); only TAs regrade and export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from grader.report import Report
from grader.service.auth import RateLimiter, limit_for, load_secret, rate_key
from grader.service.course import Course
from grader.service.exports import class_gradebook_csv, gradescope_csv
from grader.service.models import (
    AssignmentOut,
    AssignmentStatus,
    Me,
    StudentStatus,
    SubmissionOut,
)
from grader.service.store import Store, StoreError, Submission, utc_now
from grader.service.tokens import Principal


@dataclass(frozen=True)
class OverBudget:
    limit: int
    retry_after: int

    @property
    def message(self) -> str:
        return (
            f"too many requests: at most {self.limit} a minute; try again in {self.retry_after} s"
        )


class NotFound(LookupError):
    """Nothing of that name that the asker may see."""


class Forbidden(PermissionError):
    """The asker is known but may not do this."""


class Grading(Protocol):
    """What grades the queued submissions: a `LocalPool`, or a `CeleryDispatcher` that
    hands them to `grader worker` processes through a broker."""

    queue_depth: int | None

    def start(self) -> object: ...

    def stop(self) -> None: ...

    def replace_dead(self) -> list[str]: ...

    def describe(self) -> str: ...

    @property
    def alive(self) -> int | None: ...


@dataclass
class Service:
    course: Course
    store: Store
    secret: bytes
    pool: Grading | None = None
    limiter: RateLimiter = field(default_factory=RateLimiter)

    @classmethod
    def open(cls, course: Course, data_dir: Path, pool: Grading | None = None) -> Service:
        store = Store(data_dir, course)
        return cls(course=course, store=store, secret=load_secret(Path(data_dir)), pool=pool)

    def over_budget(
        self, token: str | None, who: Principal | None, client: str | None
    ) -> OverBudget | None:
        """Count a request against its token's budget (a valid token's; else the client
        address's); None while within it."""
        limits = self.course.limits
        limit = limit_for(who, limits.requests_per_minute, limits.ta_requests_per_minute)
        wait = self.limiter.retry_after(rate_key(token if who else None, client), limit)
        return None if wait is None else OverBudget(limit, wait)

    # ----------------------------------------------------------------- students

    def submit(self, who: Principal, assignment: str, filename: str, data: bytes) -> Submission:
        if who.student_id is None:
            raise Forbidden("only a student hands in: use a student's token to submit")
        return self.store.accept(who.student_id, assignment, filename, data)

    def submission(self, who: Principal, submission_id: str) -> Submission:
        try:
            submission = self.store.get(submission_id)
        except StoreError:
            raise NotFound(f"no submission {submission_id!r}") from None
        if not who.is_ta and submission.student != who.student_id:
            raise NotFound(f"no submission {submission_id!r}")
        return submission

    def out(self, submission: Submission) -> SubmissionOut:
        return SubmissionOut.of(submission, self.store.current_result(submission, bodies=False))

    def report_json(self, submission: Submission) -> str | None:
        result = self.store.current_result(submission)
        return result.report_json if result is not None and result.status == "graded" else None

    def page_html(self, submission: Submission) -> str | None:
        result = self.store.current_result(submission)
        return result.page_html if result is not None and result.status == "graded" else None

    def submissions(
        self, who: Principal, *, student: str | None = None, assignment: str | None = None
    ) -> list[Submission]:
        if not who.is_ta:
            if student is not None and student != who.student_id:
                raise Forbidden("a student sees only their own submissions")
            student = who.student_id
        if assignment is not None:
            self.assignment_rules(assignment)
        if student is not None:
            if who.is_ta and student not in self.course.students:
                raise NotFound(f"no student {student!r} on the roster")
            return self.store.history(student, assignment)
        return self.store.all_submissions(assignment)

    def assignment_rules(self, name: str):
        try:
            return self.course.assignment(name)
        except KeyError as exc:
            raise NotFound(exc.args[0]) from None

    def assignments(self, who: Principal, now: datetime | None = None) -> list[AssignmentOut]:
        now = now or utc_now()
        listed = []
        for name, rules in self.course.assignments.items():
            mine = who.student_id
            counted = self.store.counted(mine, name) if mine else None
            listed.append(
                AssignmentOut(
                    name=name,
                    exercises=list(rules.graded.exercises),
                    max_score=rules.graded.max_score,
                    deadline=rules.deadline,
                    late=rules.late,
                    open=not rules.is_late(now),
                    max_submissions=rules.max_submissions,
                    used=self.store.count(mine, name) if mine else None,
                    counted=counted.id if counted else None,
                )
            )
        return listed

    def me(self, who: Principal) -> Me:
        return Me(
            role=who.role, name=who.name, course=self.course.name, assignments=self.assignments(who)
        )

    # ----------------------------------------------------------------- TAs

    def require_ta(self, who: Principal) -> None:
        if not who.is_ta:
            raise Forbidden("this needs a TA's token")

    def status(self, who: Principal, assignment: str) -> AssignmentStatus:
        self.require_ta(who)
        self.assignment_rules(assignment)
        submissions = self.store.all_submissions(assignment)
        by_student: dict[str, list[Submission]] = {}
        for submission in submissions:
            by_student.setdefault(submission.student, []).append(submission)
        students = []
        for student in self.course.students:
            own = by_student.get(student, [])
            counted = self.store.counted(student, assignment)
            students.append(
                StudentStatus(
                    student=student,
                    submissions=len(own),
                    latest=self.out(own[-1]) if own else None,
                    counted=self.out(counted) if counted else None,
                )
            )
        return AssignmentStatus(
            assignment=assignment,
            counts=self.store.status_counts(assignment),
            students_submitted=len(by_student),
            students=students,
        )

    def regrade(
        self, who: Principal, *, submission_id: str | None = None, assignment: str | None = None
    ) -> list[str]:
        self.require_ta(who)
        if submission_id is not None:
            self.submission(who, submission_id)
            return self.store.regrade([submission_id])
        assert assignment is not None
        self.assignment_rules(assignment)
        return self.store.regrade(assignment=assignment)

    def counted_reports(self, who: Principal, assignment: str) -> list[tuple[Submission, Report]]:
        """The report of each student's submission that counts, in roster order."""
        self.require_ta(who)
        self.assignment_rules(assignment)
        counted = []
        for student in self.course.students:
            submission = self.store.counted(student, assignment)
            report_json = self.report_json(submission) if submission else None
            if submission is not None and report_json is not None:
                counted.append((submission, Report.model_validate_json(report_json)))
        return counted

    def export_csv(
        self, who: Principal, assignment: str, kind: Literal["gradebook", "gradescope"]
    ) -> tuple[str, str]:
        """(CSV text, file name) of the counted submissions: the gradebook, or the columns
        of Gradescope's score upload (TAs)."""
        counted = self.counted_reports(who, assignment)
        if kind == "gradebook":
            exercises = list(self.course.assignment(assignment).graded.exercises)
            text = class_gradebook_csv(counted, exercises)
        else:
            text = gradescope_csv(counted, self.course.roster_columns())
        return text, f"{assignment}-{kind}.csv"
