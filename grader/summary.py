"""What a batch of reports says as a whole, and how the batch and gradebook commands show it.

`summarize` is plain computation; the rest renders it with rich (plain text when piped).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich import box
from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from grader.batch import BatchResult, ProgressEvent
from grader.gradebook import Run
from grader.report import Diagnosis, Report

BUCKETS = ((0, 50), (50, 60), (60, 70), (70, 80), (80, 90), (90, 100), (100, 100.0001))
"""Score distribution buckets, in percent: [low, high); the last one is full marks."""


@dataclass(frozen=True)
class FunctionFailures:
    exercise: str
    function: str
    failed: int
    """Students who lost points on the function."""
    graded: int
    """Students whose report checked the function."""
    diagnoses: list[tuple[str, int]]
    """The most common diagnoses among the failures, most common first."""


@dataclass(frozen=True)
class BatchStats:
    count: int
    mean_percent: float | None
    median_percent: float | None
    distribution: list[tuple[str, int]]
    most_failed: list[FunctionFailures] = field(default_factory=list)


def diagnosis_label(diagnosis: Diagnosis | None) -> str:
    return "no diagnosis" if diagnosis is None else diagnosis.label


def summarize(reports: Sequence[Report], top: int = 5, diagnoses: int = 2) -> BatchStats:
    """Mean and median percentage, distribution, and the functions most students failed."""
    percents = [report.percent for report in reports]
    distribution = []
    for low, high in BUCKETS:
        label = "100%" if low == 100 else f"{low}-{high}%" if low else f"<{high}%"
        distribution.append((label, sum(1 for p in percents if low <= p < high)))
    failed: Counter[tuple[str, str]] = Counter()
    graded: Counter[tuple[str, str]] = Counter()
    codes: dict[tuple[str, str], Counter[str]] = {}
    for report in reports:
        for exercise in report.exercises:
            for check in exercise.checks:
                key = (exercise.name, check.function)
                graded[key] += 1
                if check.score < check.max_score:
                    failed[key] += 1
                    codes.setdefault(key, Counter())[diagnosis_label(check.diagnosis)] += 1
    ranked = sorted(failed, key=lambda key: (-failed[key], key))[:top]
    return BatchStats(
        count=len(reports),
        mean_percent=statistics.fmean(percents) if percents else None,
        median_percent=statistics.median(percents) if percents else None,
        distribution=distribution,
        most_failed=[
            FunctionFailures(
                exercise=key[0],
                function=key[1],
                failed=failed[key],
                graded=graded[key],
                diagnoses=codes[key].most_common(diagnoses),
            )
            for key in ranked
        ],
    )


# --------------------------------------------------------------------------- batch


def batch_summary(result: BatchResult) -> Group:
    stats = summarize([outcome.report for outcome in result.outcomes])
    parts: list = []
    ran = result.graded + result.errors
    headline = (
        f"{result.assignment}: {len(result.outcomes)} submissions — {result.graded} graded, "
        f"{result.skipped} unchanged and skipped, {result.errors} grader errors"
    )
    parts.append(Text(headline, style="bold"))
    timing = f"{result.elapsed_seconds:.1f} s"
    if ran:
        timing += f", {result.throughput:.1f} submissions/s with {result.workers} worker"
        timing += "s" if result.workers != 1 else ""
    parts.append(Text(timing, style="dim"))
    parts.append(isolation_line(result))
    if stats.count:
        parts.append(
            Text(
                f"mean {stats.mean_percent:.1f}%   median {stats.median_percent:.1f}%",
                style="bold",
            )
        )
        parts.append(distribution_table(stats))
    if stats.most_failed:
        parts.append(most_failed_table(stats))
    errors = [o for o in result.outcomes if o.status == "error"]
    if errors:
        table = Table(title="grader errors", title_justify="left", style="red")
        table.add_column("student", no_wrap=True)
        table.add_column("error")
        for outcome in errors:
            table.add_row(outcome.student, outcome.error or "")
        parts.append(table)
    if result.ignored:
        parts.append(Text("not submissions, ignored: " + ", ".join(result.ignored), style="yellow"))
    parts.append(Text(f"reports:   {result.reports_dir}", style="dim"))
    parts.append(Text(f"CSV:       {result.csv_path}", style="dim"))
    parts.append(Text(f"gradebook: {result.db_path}", style="dim"))
    if result.index_path is not None:
        parts.append(Text(f"pages:     {result.index_path}", style="dim"))
    for problem in result.page_errors:
        parts.append(Text(f"page without figures: {problem}", style="yellow"))
    return Group(*parts)


def isolation_line(result: BatchResult) -> Text:
    """Which sandbox the reports were graded in (skipped ones included), and why."""
    level, text = isolation_summary([outcome.report for outcome in result.outcomes])
    style = {"none": "dim", "strong": "green"}.get(level, "bold yellow")
    return Text(text, style=style)


def isolation_summary(reports: Sequence[Report]) -> tuple[str, str]:
    """("none" | "strong" | "fallback", the line saying which sandbox the reports ran in)."""
    modes: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    for report in reports:
        isolation = report.isolation
        if isolation is not None:
            modes[isolation.mode] += 1
            reasons.setdefault(isolation.mode, isolation.reason)
    if not modes:
        return "none", "isolation: none (no submission ran)"
    if set(modes) == {"strong"}:
        return "strong", f"isolation: strong ({reasons['strong']})"
    counts = ", ".join(f"{mode} for {n}" for mode, n in sorted(modes.items()))
    return "fallback", (
        f"isolation: {counts}: FALLBACK means rlimits only, so student code could read the "
        f"answer key and use the network ({reasons['fallback']})"
    )


def distribution_table(stats: BatchStats, width: int = 30) -> Table:
    table = Table(title="score distribution", title_justify="left", box=None, padding=(0, 1))
    table.add_column("score", justify="right")
    table.add_column("students", justify="right")
    table.add_column("")
    largest = max((n for _, n in stats.distribution), default=0) or 1
    for label, count in stats.distribution:
        bar = "█" * round(width * count / largest) if count else ""
        table.add_row(label, str(count), Text(bar, style="cyan"))
    return table


def most_failed_table(stats: BatchStats) -> Table:
    table = Table(title="functions most students lost points on", title_justify="left")
    table.add_column("function", no_wrap=True)
    table.add_column("exercise")
    table.add_column("failed", justify="right")
    table.add_column("most common diagnoses")
    for item in stats.most_failed:
        table.add_row(
            item.function,
            item.exercise,
            f"{item.failed}/{item.graded}",
            ", ".join(f"{label} ({count})" for label, count in item.diagnoses),
        )
    return table


def print_batch_summary(result: BatchResult, console: Console | None = None) -> None:
    (console or Console()).print(batch_summary(result))


class BatchProgress:
    """A progress bar for `grade_batch`'s callback: done/total, errors, below full marks, ETA."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = None

    def __enter__(self) -> BatchProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: ProgressEvent) -> None:
        status = f"[red]{event.errors} errors[/]  [yellow]{event.below_full} below full marks[/]"
        if event.kind == "start":
            if event.skipped:
                self.progress.console.print(
                    f"{event.skipped} unchanged submissions skipped; grading {event.total} "
                    f"with {event.workers} workers"
                )
            self.task = self.progress.add_task("grading", total=event.total, status=status)
        elif self.task is not None:
            self.progress.update(self.task, completed=event.done, status=status)


# --------------------------------------------------------------------------- gradebook


def history_renderable(student: str, runs: Sequence[Run]) -> Group:
    """Every run of a student, then the per-function results of the latest run."""
    table = Table(
        title=f"runs of {student}", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1)
    )
    for column, justify in (
        ("run", "right"),
        ("graded (UTC)", "left"),
        ("assignment", "left"),
        ("score", "right"),
        ("content", "left"),
        ("seed", "right"),
        ("grader", "left"),
    ):
        table.add_column(column, justify=justify, no_wrap=True, min_width=len(column))
    for run in runs:
        score = Text(f"{run.score:g}/{run.max_score:g}")
        if run.status == "error":
            score.append(" error", style="bold red")
        table.add_row(
            str(run.id),
            run.graded_at.replace("T", " ")[:16],
            run.assignment,
            score,
            run.content_hash[:8],
            str(run.seed),
            run.grader_version,
        )
    parts: list = [table]
    latest: dict[str, Run] = {}
    for run in runs:
        latest[run.assignment] = run
    for assignment, run in latest.items():
        parts.append(latest_results_table(assignment, run))
    return Group(*parts)


def latest_results_table(assignment: str, run: Run) -> Table:
    """Per-function points of a run; feedback (diagnosis, message) only where points were lost."""
    report = run.report
    table = Table(
        title=f"{assignment}, latest run ({run.id}): {report.score:g} / {report.max_score:g}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        expand=True,
    )
    table.add_column("", width=1, no_wrap=True)
    table.add_column("function", no_wrap=True)
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("feedback", ratio=1)
    for error in report.errors:
        table.add_row(Text("!", style="bold red"), "", "", Text(error, style="red"))
    for exercise in report.exercises:
        for check in exercise.checks:
            feedback = Text()
            if not check.passed:
                feedback.append(f"[{diagnosis_label(check.diagnosis)}] ", style="bold yellow")
                feedback.append(check.message)
            table.add_row(
                Text("✔", style="green") if check.passed else Text("✘", style="bold red"),
                check.function,
                f"{check.score:g}/{check.max_score:g}",
                feedback,
            )
    return table


def print_history(student: str, runs: Sequence[Run], console: Console | None = None) -> None:
    (console or Console()).print(history_renderable(student, runs))
