"""The feedback pages of a batch: OUT/pages/<student>.html and the class page OUT/index.html.

A batch worker draws the page of the submission it graded (`student_page`, in parallel
with the grading of the others) and sends it with the report; `grade_batch` writes it with
`write_student_page` as each result arrives, after the JSON report (so that a rerun sees it
up to date), draws in the parent only the pages no worker drew (reused reports whose page
is missing or older, error reports) and writes `write_class_page` at the end. Every link is
relative, so the folder works from disk, copied elsewhere or zipped, with no server.

A page that cannot be drawn never stops a batch: the student gets the page without its
figures, and the error is returned for the summary.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from grader.report import Report

if TYPE_CHECKING:
    from grader.batch import BatchResult

PAGES_DIR = "pages"
INDEX = "index.html"


def page_path(out: Path, student: str) -> Path:
    return Path(out) / PAGES_DIR / f"{student}.html"


def page_href(student: str) -> str:
    """The link from OUT/index.html to a student's page."""
    return f"{PAGES_DIR}/{quote(student + '.html')}"


def write_student_page(
    out: Path,
    student: str,
    report: Report,
    *,
    force: bool = True,
    drawn: tuple[str, str | None] | None = None,
) -> str | None:
    """Write OUT/pages/<student>.html (unless `force` is False and it is newer than the
    student's JSON report); None, or what went wrong drawing it. `drawn`: the page already
    drawn from this report by `student_page` (in a batch worker), written as it is."""
    path = page_path(out, student)
    if not force and _up_to_date(path, Path(out) / "reports" / f"{student}.json"):
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    text, problem = drawn if drawn is not None else student_page(student, report)
    _write(path, text)
    return problem


def student_page(student: str, report: Report) -> tuple[str, str | None]:
    """A student's page as HTML, and None or what went wrong drawing its figures (then the
    page is without them)."""
    from grader.renderers.html import html_page

    try:
        return html_page(report, back_href=f"../{INDEX}"), None
    except Exception as exc:  # a figure that cannot be drawn: the page without figures
        problem = f"{student}: its figures could not be drawn ({type(exc).__name__}: {exc})"
        return html_page(_without_figures(report), back_href=f"../{INDEX}"), problem


def _up_to_date(page: Path, report_file: Path) -> bool:
    try:
        return page.stat().st_mtime >= report_file.stat().st_mtime
    except OSError:
        return False


def _without_figures(report: Report) -> Report:
    copy = report.model_copy(deep=True)
    for exercise in copy.exercises:
        for check in exercise.checks:
            check.figures = []
    return copy


def write_class_page(result: BatchResult) -> Path:
    """Write OUT/index.html for a finished batch; its path."""
    from grader.renderers.html import class_page

    out = Path(result.out)
    files = [
        ("CSV gradebook", _relative(result.csv_path, out)),
        ("SQLite gradebook", _relative(result.db_path, out)),
        ("JSON reports", _relative(result.reports_dir, out) + "/"),
    ]
    students = [outcome.student for outcome in result.outcomes]
    text = class_page(
        [outcome.report for outcome in result.outcomes],
        title=f"{result.assignment}: class results",
        students=students,
        pages={s: page_href(s) for s in students if page_path(out, s).is_file()},
        files=files,
        errors={o.student: o.error or "" for o in result.outcomes if o.status == "error"},
    )
    path = out / INDEX
    _write(path, text)
    return path


def _relative(target: Path, start: Path) -> str:
    """A relative URL from the folder `start` to `target` (a file: URL when there is none,
    e.g. a gradebook on another Windows drive)."""
    try:
        relative = os.path.relpath(Path(target).resolve(), Path(start).resolve())
    except ValueError:
        return Path(target).resolve().as_uri()
    return quote(Path(relative).as_posix())


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
