"""Rich renderings: the report as tables (in notebooks), the catalogue, the isolation report.

`grader check` prints `grader.renderers.text` instead: lines that read the same in a log.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from exercises import Exercise
from grader.renderers.text import headline
from grader.report import CheckResult, Report
from grader.sandbox import IsolationInfo

PASS, FAIL = "✔", "✘"


def catalogue_table(exercises: Sequence[Exercise]) -> Table:
    table = Table(title="Exercises", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("exercise")
    table.add_column("functions")
    table.add_column("points", justify="right")
    for exercise in exercises:
        functions = "\n".join(f"{spec.signature}  [{spec.points:g}]" for spec in exercise.functions)
        table.add_row(str(exercise.number), exercise.name, functions, f"{exercise.max_score:g}")
    table.add_section()
    total = sum(e.max_score for e in exercises)
    table.add_row("", "total", "", f"{total:g}")
    return table


def mark(check: CheckResult) -> Text:
    return Text(PASS, style="green") if check.passed else Text(FAIL, style="bold red")


def feedback_text(check: CheckResult) -> Text:
    text = Text(check.message)
    diagnosis = check.diagnosis
    if diagnosis is not None:
        text = Text.assemble((f"[{diagnosis.label}] ", "bold yellow"), text)
        if diagnosis.hint:
            text.append(f"\nhint: {diagnosis.hint}", style="cyan")
    return text


def report_renderable(report: Report) -> Group:
    parts: list = []
    parts.append(Text(headline(report), style="bold"))
    if report.errors:
        parts.append(
            Panel("\n".join(report.errors), title="problems in the submission", style="red")
        )
    for exercise in report.exercises:
        table = Table(
            title=f"{exercise.name}: {exercise.score:g} / {exercise.max_score:g}",
            title_justify="left",
            expand=True,
        )
        table.add_column("", width=2)
        table.add_column("function", no_wrap=True)
        table.add_column("points", justify="right", no_wrap=True)
        table.add_column("feedback", ratio=1)
        for check in exercise.checks:
            table.add_row(
                mark(check),
                check.function,
                f"{check.score:g}/{check.max_score:g}",
                feedback_text(check),
            )
        parts.append(table)
    parts.append(Text(report.selection, style="dim"))
    return Group(*parts)


def print_report(report: Report, console: Console | None = None) -> None:
    (console or Console()).print(report_renderable(report))


def print_catalogue(exercises: Sequence[Exercise], console: Console | None = None) -> None:
    (console or Console()).print(catalogue_table(exercises))


def print_isolation(info: IsolationInfo, console: Console | None = None) -> None:
    console = console or Console()
    style = "green" if info.mode == "strong" else "yellow"
    console.print(Text(f"isolation mode: {info.mode}", style=f"bold {style}"))
    console.print(info.reason)
    if info.startup_seconds is not None:
        console.print(f"sandbox start-up: {info.startup_seconds * 1000:.0f} ms")
    for line in info.protects:
        console.print(Text(f"  {PASS} {line}", style="green"))
    for line in info.does_not_protect:
        console.print(Text(f"  {FAIL} {line}", style="red"))
