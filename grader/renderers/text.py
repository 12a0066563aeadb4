"""The report as plain text: what `grader check` prints when its output is not a terminal.

CI logs, pipes and files get one line per function, nothing wrapped to a width or drawn
with box characters, and no colour codes; a person at a terminal gets the tables of
`grader.terminal`. This module does not import rich, which `grader check` would otherwise
pay for (about 25 ms of import and layout) just to print to a log.
"""

from __future__ import annotations

from grader.renderers.gradescope import diagnosis_label
from grader.report import CheckResult, ExerciseResult, Report

MARKS = {True: "ok  ", False: "FAIL"}


def headline(report: Report) -> str:
    return (
        f"{report.submission}: {report.score:g} / {report.max_score:g} points "
        f"({report.percent:.0f}%)"
    )


def report_text(report: Report) -> str:
    lines = [headline(report)]
    if report.errors:
        lines += ["", "problems in the submission:"]
        lines += [f"  {error}" for error in report.errors]
    for exercise in report.exercises:
        lines += ["", *exercise_lines(exercise)]
    lines += ["", report.selection]
    return "\n".join(lines) + "\n"


def exercise_lines(exercise: ExerciseResult) -> list[str]:
    lines = [f"{exercise.name}: {exercise.score:g} / {exercise.max_score:g}"]
    width = max((len(check.function) for check in exercise.checks), default=0)
    for check in exercise.checks:
        lines += check_lines(check, width)
    return lines


def check_lines(check: CheckResult, width: int) -> list[str]:
    points = f"{check.score:g}/{check.max_score:g}"
    tag = "" if check.diagnosis is None else f"[{diagnosis_label(check)}] "
    lead = f"  {MARKS[check.passed]} {check.function:<{width}}  {points:>5}  "
    lines = [lead + tag + check.message]
    if check.diagnosis is not None and check.diagnosis.hint:
        lines.append(" " * len(lead) + f"hint: {check.diagnosis.hint}")
    return lines
