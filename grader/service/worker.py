"""The local grading loop: claim a queued submission, grade it, record the report.

    store.requeue_interrupted()                  # at start-up, before any worker
    while grade_next(store, course):             # one submission per call
        pass

Each submission is graded by `grader.engine.grade` on its assignment's fixed exercises and
points (`CourseAssignment.graded`), seeded by the course salt and the student id, with the
data of the feedback page's figures (figures=True) so its page can be drawn later. The
report's JSON is recorded under this grader's version; if the grader itself raises, the
submission is recorded `failed` with the message. A grading process that dies mid-way
leaves the submission `grading`, for `Store.requeue_interrupted` to queue again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from grader import __version__
from grader.engine import GradeOptions, grade
from grader.report import Report
from grader.service.course import Course
from grader.service.store import Store, Submission


def grade_options(course: Course, submission: Submission) -> GradeOptions:
    return GradeOptions(
        assignment=course.assignment(submission.assignment).graded,
        student_id=submission.student,
        course_salt=course.salt,
        figures=True,
    )


def grade_next(
    store: Store,
    course: Course,
    *,
    grade_function: Callable[[Path, GradeOptions], Report] = grade,
) -> bool:
    """Grade the oldest queued submission; False when none was queued."""
    submission = store.claim_next()
    if submission is None:
        return False
    try:
        report = grade_function(store.path_of(submission), grade_options(course, submission))
    except Exception as exc:  # the grader's own failure: recorded, the loop goes on
        message = f"the grader failed on this submission: {type(exc).__name__}: {exc}"
        store.record_result(submission.id, __version__, None, "failed", error=message)
    else:
        store.record_result(submission.id, __version__, report.model_dump_json(), "graded")
    return True


def grade_all(store: Store, course: Course) -> int:
    """Grade until nothing is queued; the number graded."""
    graded = 0
    while grade_next(store, course):
        graded += 1
    return graded
