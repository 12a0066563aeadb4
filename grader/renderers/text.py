"""The report as lines of text: what `grader check` prints, to a terminal or to a log.

One line per function with its points, diagnosis and message, then its hint: long
messages read better across the whole width than squeezed into a table column, and a log
gets exactly what a terminal shows. The caller decides on colours (`style` marks each
part with its role) and on wrapping (`width`; None for logs, which should not be wrapped).
This module does not import rich: laying out tables with it cost `grader check` about
25 ms.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from grader.report import CheckResult, ExerciseResult, Report

ROLES = ("heading", "pass", "fail", "tag", "hint", "problem", "note")
MARKS = {True: "ok  ", False: "FAIL"}

Style = Callable[[str, str], str]
"""(text, role) -> the text as it should be printed (role is one of ROLES)."""


def plain(text: str, role: str) -> str:
    return text


def report_text(report: Report, style: Style = plain, width: int | None = None) -> str:
    lines = [style(headline(report), "heading")]
    if report.errors:
        lines += ["", style("problems in the submission:", "problem")]
        lines += [style(f"  {error}", "problem") for error in report.errors]
    for exercise in report.exercises:
        lines += ["", *exercise_lines(exercise, style, width)]
    lines += ["", style(report.selection, "note")]
    if report.isolation is not None and report.isolation.mode == "fallback":
        lines.append(style(fallback_line(report), "tag"))
    return "\n".join(lines) + "\n"


def fallback_line(report: Report) -> str:
    """Says that the submission ran without strong isolation, and why."""
    reason = report.isolation.reason if report.isolation else ""
    return (
        "isolation: FALLBACK: the code ran with resource limits only, not in a namespace "
        "sandbox (it could read the answer key and use the network)"
        + (f"; {reason}" if reason else "")
    )


def headline(report: Report) -> str:
    return (
        f"{report.submission}: {report.score:g} / {report.max_score:g} points "
        f"({report.percent:.0f}%)"
    )


def exercise_heading(exercise: ExerciseResult) -> str:
    return f"{exercise.name}: {exercise.score:g} / {exercise.max_score:g}"


def points(check: CheckResult) -> str:
    return f"{check.score:g}/{check.max_score:g}"


def hint_text(check: CheckResult) -> str:
    """`hint: ...` under a function's line ('' when its diagnosis has no hint)."""
    if check.diagnosis is None or not check.diagnosis.hint:
        return ""
    return f"hint: {check.diagnosis.hint}"


def exercise_lines(exercise: ExerciseResult, style: Style, width: int | None) -> list[str]:
    lines = [style(exercise_heading(exercise), "heading")]
    name_width = max((len(check.function) for check in exercise.checks), default=0)
    for check in exercise.checks:
        lines += check_lines(check, name_width, style, width)
    return lines


def check_lines(check: CheckResult, name_width: int, style: Style, width: int | None) -> list[str]:
    mark = MARKS[check.passed]
    lead = f"  {mark} {check.function:<{name_width}}  {points(check):>5}  "
    tag = "" if check.diagnosis is None else f"[{check.diagnosis.label}] "
    first, *rest = wrapped(lead + tag + check.message, len(lead), width)
    first = first.replace(mark, style(mark, "pass" if check.passed else "fail"), 1)
    if tag:
        first = first.replace(tag.rstrip(), style(tag.rstrip(), "tag"), 1)
    lines = [first, *rest]
    if hint_text(check):
        hint = " " * len(lead) + hint_text(check)
        lines += [style(line, "hint") for line in wrapped(hint, len(lead), width)]
    return lines


def wrapped(line: str, indent: int, width: int | None) -> list[str]:
    """`line` wrapped to `width` with a hanging indent (as it is, when width is None)."""
    if width is None or width <= indent + 20:
        return [line]
    return textwrap.wrap(
        line,
        width,
        subsequent_indent=" " * indent,
        drop_whitespace=True,
        break_on_hyphens=False,
    ) or [line]
