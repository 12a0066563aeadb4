"""Feedback pages: one static, self-contained HTML page per report, and a class page.

    html_page(report) -> str             # what `grader check --html`, `grade --html` write
    html_fragment(report) -> str         # the same, to display inside a notebook
    class_page(reports, ...) -> str      # OUT/index.html of `grader batch`

A page needs nothing but itself: CSS inline, figures as inline SVG (grader/renderers/plots.py),
no script on a student's page, no network access, no external font; it opens from disk and
as an email attachment, reads on a phone and prints. The class page carries a few lines of
inline JavaScript that sort its table; without JavaScript the table is still there.

What a page says is what `grader check` prints (the texts come from renderers/text.py),
laid out as HTML, followed by the figures of the functions that failed. Like Gradescope's
results, it leaves out what the submission printed: in fallback isolation student code can
read the answer key, and printing it would put it on the page. Figures show errors and
comparisons, never an expected value as text.

Jinja2 (with autoescaping: every text from a report is escaped) and matplotlib are imported
by this module and the drawing modules (plots.py, class_plots.py, drawing.py) only, and
those only when a page is asked for.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePath
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from grader.renderers import class_plots, plots
from grader.renderers.text import (
    exercise_heading,
    fallback_line,
    headline,
    hint_text,
    points,
)
from grader.report import CheckResult, ExerciseResult, Report

TEMPLATES = Path(__file__).with_name("templates")
MAX_FAILURE_ROWS = 25
"""Functions shown in the class page's failure-rate chart (the most failed first)."""
STACKED_DIAGNOSES = 4
"""Diagnoses with a segment of their own in a failure-rate bar; the rest are "other"."""


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# ------------------------------------------------------------------------- a student's page


@dataclass(frozen=True)
class FigureView:
    title: str
    description: str
    svg: Markup


@dataclass(frozen=True)
class CheckView:
    exercise: str
    function: str
    passed: bool
    points: str
    label: str
    message: str
    hint: str
    anchor: str
    figures: list[FigureView] = field(default_factory=list)


@dataclass(frozen=True)
class ExerciseView:
    name: str
    title: str
    heading: str
    passed: bool
    checks: list[CheckView]


def html_page(
    report: Report, *, back_href: str | None = None, back_label: str = "class page"
) -> str:
    """The whole page for `report`: a complete HTML document. `back_href`: a link back (the
    class page, relative) shown at the top, labelled `back_label`."""
    return (
        environment()
        .get_template("report.html")
        .render(**report_context(report), back_href=back_href, back_label=back_label)
    )


def html_fragment(report: Report) -> str:
    """The page's content and style without <html>/<head>/<body>, to be shown inside
    another page (a notebook's output): its CSS applies to `.grader-page` only."""
    return environment().get_template("fragment.html").render(**report_context(report))


def shown_name(report: Report) -> str:
    """Who the page is about: the student id, else the submission's file name (never the
    path it was graded at, which is the TA's machine's business)."""
    return report.student_id or PurePath(report.submission).name


def report_context(report: Report) -> dict[str, Any]:
    prefix = "g" + hashlib.sha256(report.to_json().encode()).hexdigest()[:8]
    exercises = [exercise_view(exercise, prefix) for exercise in report.exercises]
    failing = [c for e in exercises for c in e.checks if not c.passed]
    shown = shown_name(report)
    return {
        "title": f"Feedback: {shown}",
        "report": report,
        "headline": headline(report.model_copy(update={"submission": shown})),
        "percent": f"{report.percent:.0f}",
        "isolation": isolation_text(report),
        "isolation_level": report.isolation.mode if report.isolation else "none",
        "exercises": exercises,
        "failing": failing,
        "with_figures": [c for c in failing if c.figures],
    }


def isolation_text(report: Report) -> str:
    if report.isolation is None:
        return "isolation: none (the submission did not run)"
    if report.isolation.mode == "fallback":
        return fallback_line(report)
    reason = report.isolation.reason
    return "isolation: strong" + (f" ({reason})" if reason else "")


def exercise_view(exercise: ExerciseResult, prefix: str) -> ExerciseView:
    checks = [check_view(exercise, check, prefix) for check in exercise.checks]
    return ExerciseView(
        name=exercise.name,
        title=exercise.title,
        heading=exercise_heading(exercise),
        passed=all(check.passed for check in checks),
        checks=checks,
    )


def check_view(exercise: ExerciseResult, check: CheckResult, prefix: str) -> CheckView:
    anchor = anchor_id(f"{exercise.name}-{check.function}")
    figures = [] if check.passed else figure_views(check, f"{prefix}-{anchor}")
    return CheckView(
        exercise=exercise.name,
        function=check.function,
        passed=check.passed,
        points=points(check),
        label=check.diagnosis.label if check.diagnosis is not None else "",
        message=check.message,
        hint=hint_text(check),
        anchor=anchor,
        figures=figures,
    )


def figure_views(check: CheckResult, prefix: str) -> list[FigureView]:
    """The check's figures, drawn; a figure this version cannot read (a kind from a newer
    grader, in a stored report) is left out rather than failing the page."""
    from grader.figures import parse_figures

    views = []
    for index, data in enumerate(check.figures):
        try:
            (figure,) = parse_figures([data])
        except ValueError:
            continue
        for plot in plots.figure_plots(figure, f"{prefix}-{index}"):
            views.append(FigureView(plot.title, plot.description, Markup(plot.svg)))
    return views


def anchor_id(text: str) -> str:
    """An HTML id made of safe characters only."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in text)


# ------------------------------------------------------------------------------ class page


@dataclass(frozen=True)
class StudentRow:
    student: str
    href: str | None
    score: float
    max_score: float
    percent: float
    failed: int
    problems: int
    isolation: str


@dataclass(frozen=True)
class FailureRow:
    exercise: str
    function: str
    failed: int
    graded: int
    diagnoses: list[tuple[str, int]]

    @property
    def rate(self) -> str:
        return f"{100.0 * self.failed / self.graded:.0f}%" if self.graded else "-"


def class_page(
    reports: Sequence[Report],
    *,
    title: str = "Class results",
    students: Sequence[str] | None = None,
    pages: Mapping[str, str] | None = None,
    files: Sequence[tuple[str, str]] = (),
    errors: Mapping[str, str] | None = None,
) -> str:
    """The class page of a batch.

    `students`: the id of each report (default: its student_id, else its submission);
    `pages`: student -> relative link to their page; `files`: (label, relative link) of
    the batch's other outputs (CSV, SQLite gradebook); `errors`: student -> why the grader
    failed on their submission.
    """
    from grader.summary import isolation_summary, summarize

    names = (
        list(students)
        if students is not None
        else [report.student_id or report.submission for report in reports]
    )
    pages = pages or {}
    stats = summarize(reports, top=10**6, diagnoses=10**6)
    rows = [
        StudentRow(
            student=name,
            href=pages.get(name),
            score=report.score,
            max_score=report.max_score,
            percent=report.percent,
            failed=sum(not c.passed for e in report.exercises for c in e.checks),
            problems=len(report.errors),
            isolation=report.isolation.mode if report.isolation else "none",
        )
        for name, report in zip(names, reports, strict=True)
    ]
    failures = [
        FailureRow(item.exercise, item.function, item.failed, item.graded, item.diagnoses)
        for item in stats.most_failed
    ]
    level, isolation = isolation_summary(reports)
    plots_shown = []
    if reports:
        plots_shown.append(class_plots.score_histogram(stats.distribution))
    if failures:
        plots_shown.append(class_plots.failure_bars(failure_bar_rows(failures[:MAX_FAILURE_ROWS])))
    percents = [report.percent for report in reports]
    return (
        environment()
        .get_template("class.html")
        .render(
            title=title,
            count=len(reports),
            mean=f"{statistics.fmean(percents):.1f}" if percents else "-",
            median=f"{statistics.median(percents):.1f}" if percents else "-",
            max_score=f"{max((r.max_score for r in reports), default=0):g}",
            isolation=isolation,
            isolation_level=level,
            figures=[FigureView(p.title, p.description, Markup(p.svg)) for p in plots_shown],
            failures=failures,
            rows=rows,
            files=list(files),
            errors=dict(errors or {}),
        )
    )


def failure_bar_rows(failures: Sequence[FailureRow]) -> list[tuple[str, int, int, list]]:
    rows = []
    for item in failures:
        shown = list(item.diagnoses[:STACKED_DIAGNOSES])
        rest = sum(count for _, count in item.diagnoses[STACKED_DIAGNOSES:])
        if rest:
            shown.append(("other", rest))
        rows.append((f"{item.exercise}: {item.function}", item.failed, item.graded, shown))
    return rows
