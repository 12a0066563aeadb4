"""What a TA downloads: the gradebook CSV and a CSV for Gradescope's score upload, both of
each student's submission that counts (the latest graded one)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from grader.gradebook import gradebook_csv
from grader.report import Report
from grader.service.store import Submission

GRADESCOPE_COLUMNS = ("Name", "SID", "Email", "Total Score")


def class_gradebook_csv(
    counted: Sequence[tuple[Submission, Report]], exercises: Sequence[str]
) -> str:
    """The same CSV as `grader batch`'s gradebook: student, total, max, one column per
    exercise."""
    return gradebook_csv([(s.student, report) for s, report in counted], exercises)


def gradescope_csv(
    counted: Sequence[tuple[Submission, Report]], roster: Mapping[str, Mapping[str, str]]
) -> str:
    """Name, SID, Email, Total Score: the columns Gradescope's "upload scores" asks to be
    matched. Name and Email come from the roster's `name` and `email` columns, if any."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GRADESCOPE_COLUMNS)
    for submission, report in counted:
        row = roster.get(submission.student, {})
        writer.writerow(
            [row.get("name", ""), submission.student, row.get("email", ""), f"{report.score:g}"]
        )
    return buffer.getvalue()
