"""The JSON API's models: its OpenAPI schema. A graded submission's report is the grader's
own `grader.report.Report`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from grader.service.store import Result, Submission


class SubmissionOut(BaseModel):
    """A submission and where it stands: `queued`, `grading`, `graded` or `failed`."""

    id: str
    student: str
    assignment: str
    filename: str = Field(description="The file name as it was sent.")
    status: Literal["queued", "grading", "graded", "failed"]
    late: bool
    received_at: datetime
    graded_at: datetime | None = Field(
        None, description="When its current result was recorded (graded or failed)."
    )
    attempts: int = Field(description="How many times grading started (this round).")
    round: int = Field(description="How many times a TA asked for a regrade.")
    error: str | None = Field(None, description="Why grading failed (status `failed`).")
    score: float | None = None
    max_score: float | None = None
    page_url: str = Field(description="The page that shows the status, then the feedback.")
    report_url: str = Field(description="The report as JSON, once graded.")

    @classmethod
    def of(cls, submission: Submission, result: Result | None) -> SubmissionOut:
        graded = result is not None and result.status == "graded"
        return cls(
            id=submission.id,
            student=submission.student,
            assignment=submission.assignment,
            filename=submission.filename,
            status=submission.status,
            late=submission.late,
            received_at=submission.received_at,
            graded_at=result.recorded_at if result is not None else None,
            attempts=submission.attempts,
            round=submission.round,
            error=submission.error,
            score=result.score if graded else None,
            max_score=result.max_score if graded else None,
            page_url=f"/submissions/{submission.id}",
            report_url=f"/api/submissions/{submission.id}/report",
        )


class AssignmentOut(BaseModel):
    name: str
    exercises: list[str]
    max_score: float
    deadline: datetime
    late: Literal["refuse", "accept"]
    open: bool = Field(description="Whether a submission now would be accepted on time.")
    max_submissions: int
    used: int | None = Field(None, description="Submissions that count against the limit.")
    counted: str | None = Field(None, description="The id of the submission that counts.")


class Me(BaseModel):
    role: Literal["student", "ta"]
    name: str
    course: str
    assignments: list[AssignmentOut]


class StudentStatus(BaseModel):
    student: str
    submissions: int
    latest: SubmissionOut | None
    counted: SubmissionOut | None


class AssignmentStatus(BaseModel):
    assignment: str
    counts: dict[str, int] = Field(
        description="Submissions queued, grading, graded, failed, and how many were late."
    )
    students_submitted: int
    students: list[StudentStatus]


class Regraded(BaseModel):
    queued: list[str] = Field(description="The submissions queued for grading again.")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    course: str
    workers_alive: int | None
    queued: int
    grading: int


class Problem(BaseModel):
    """An error: `detail` says what happened, in words to show the user."""

    detail: str
