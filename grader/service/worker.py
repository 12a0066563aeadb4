"""The local grading loop: claim a queued submission, grade it, record the report and page.

    store.requeue_interrupted()                  # at start-up, before any worker
    while grade_next(store, course):             # one submission per call
        pass

Each submission is graded by `grader.engine.grade` on its assignment's fixed exercises and
points (`CourseAssignment.graded`), seeded by the course salt and the student id, with the
data of the feedback page's figures (figures=True). The worker draws the feedback page
(as `grader batch`'s workers do), so that showing it costs the web server nothing, and
records the report's JSON and the page under this grader's version and the submission's
regrade round. If the grader itself raises, the submission is recorded `failed` with the
message. A grading process that dies mid-way leaves the submission `grading`, for
`Store.requeue_interrupted` to queue again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from grader import __version__
from grader.engine import GradeOptions, grade
from grader.report import Report
from grader.service.course import Course
from grader.service.store import Store, Submission

BACK_HREF = "/"
"""Where a feedback page's "back" link leads in the service: the student's home page."""


def grade_options(course: Course, submission: Submission) -> GradeOptions:
    return GradeOptions(
        assignment=course.assignment(submission.assignment).graded,
        student_id=submission.student,
        course_salt=course.salt,
        figures=True,
    )


def feedback_page(report: Report) -> str:
    from grader.renderers.html import html_page

    return html_page(report, back_href=BACK_HREF, back_label="your submissions")


def grade_next(
    store: Store,
    course: Course,
    *,
    worker: str | None = None,
    grade_function: Callable[[Path, GradeOptions], Report] = grade,
) -> bool:
    """Grade the oldest queued submission; False when none was queued."""
    submission = store.claim_next(worker)
    if submission is None:
        return False
    try:
        report = grade_function(store.path_of(submission), grade_options(course, submission))
        page = feedback_page(report)
    except Exception as exc:  # the grader's own failure: recorded, the loop goes on
        message = f"the grader failed on this submission: {type(exc).__name__}: {exc}"
        store.record_result(
            submission.id, __version__, None, "failed", error=message, round=submission.round
        )
    else:
        store.record_result(
            submission.id,
            __version__,
            report.model_dump_json(),
            "graded",
            round=submission.round,
            page_html=page,
            score=(report.score, report.max_score),
        )
    return True


def grade_all(store: Store, course: Course) -> int:
    """Grade until nothing is queued; the number graded."""
    graded = 0
    while grade_next(store, course):
        graded += 1
    return graded
