"""Rich renderings: the report as tables (in notebooks), the catalogue, the isolation report.

`grader check` prints `grader.renderers.text` instead: lines that read the same in a log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.renderers.text import headline
from grader.report import CheckResult, Report
from grader.sandbox import IsolationInfo
from grader.spec import Exercise

PASS, FAIL = "✔", "✘"


def catalogue_table(exercises: Sequence[Exercise], packs: Mapping[str, str] | None = None) -> Table:
    """The exercises with their functions and points; with `packs` (exercise -> pack name)
    and more than one pack, a column says which pack each exercise comes from."""
    table = Table(title="Exercises", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("exercise")
    show_pack = packs is not None and len(set(packs.values())) > 1
    if show_pack:
        table.add_column("pack")
    table.add_column("functions")
    table.add_column("points", justify="right")
    for exercise in exercises:
        functions = "\n".join(f"{spec.signature}  [{spec.points:g}]" for spec in exercise.functions)
        pack = [packs[exercise.name]] if show_pack and packs else []
        table.add_row(
            str(exercise.number), exercise.name, *pack, functions, f"{exercise.max_score:g}"
        )
    table.add_section()
    total = sum(e.max_score for e in exercises)
    table.add_row("", "total", *([""] if show_pack else []), "", f"{total:g}")
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


def print_catalogue(
    exercises: Sequence[Exercise],
    packs: Mapping[str, str] | None = None,
    console: Console | None = None,
) -> None:
    (console or Console()).print(catalogue_table(exercises, packs))


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
