"""`grader batch` (a folder of submissions) and `grader gradebook export|show`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from grader.assignment import Assignment, AssignmentError, load_assignment
from grader.batch import BatchOptions, WorkerStartError, grade_batch
from grader.cli.options import (
    EXERCISE_OPTION,
    ISOLATION_OPTION,
    PACK_OPTION,
    SALT_OPTION,
    IsolationError,
    OutputError,
    limit_options,
    make_limits,
)
from grader.gradebook import Gradebook, GradebookError, export_csv, resolve_assignment
from grader.sandbox import IsolationUnavailable
from grader.summary import BatchProgress, print_batch_summary, print_history


def name_or_assignment_file(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | Assignment | None:
    """A name, or (ending in .toml) an assignment file, read into an Assignment."""
    if value is None or not value.lower().endswith(".toml"):
        return value
    try:
        return load_assignment(value)
    except AssignmentError as error:
        raise click.BadParameter(str(error)) from None


@click.command()
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR"
)
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for reports/<student>.json, gradebook.csv and (by default) the gradebook.",
)
@PACK_OPTION
@EXERCISE_OPTION
@click.option(
    "--workers",
    "-j",
    type=click.IntRange(min=0),
    default=None,
    help="Worker processes (default: one per core; 1: one at a time; 0: in this process).",
)
@click.option("--regrade", is_flag=True, help="Grade every submission, even unchanged ones.")
@click.option(
    "--assignment",
    default=None,
    callback=name_or_assignment_file,
    metavar="NAME|FILE.toml",
    help="The assignment's name in the gradebook (default: the name of DIR), or an "
    "assignment file (its name, exercises and points; see docs/assignments.md).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The SQLite gradebook (default: OUT/gradebook.sqlite).",
)
@click.option(
    "--no-pages",
    "no_pages",
    is_flag=True,
    help="Do not write the feedback pages (OUT/index.html, OUT/pages/<student>.html).",
)
@SALT_OPTION
@limit_options
@ISOLATION_OPTION
def batch(
    directory: Path,
    out: Path,
    exercises: tuple[str, ...],
    workers: int | None,
    regrade: bool,
    assignment: str | Assignment | None,
    db_path: Path | None,
    no_pages: bool,
    salt: str,
    call_timeout: float,
    budget: float,
    memory_mb: int,
    limit: dict,
    isolation: str,
) -> None:
    """Grade every submission in DIR (a .py, a notebook or a folder per student).

    Every submission is graded on the same exercises (all of them, those named with -e, or
    those of an assignment file), so every total is out of the same maximum. Writes
    OUT/reports/<student>.json, OUT/gradebook.csv, the gradebook and feedback pages (the
    class page OUT/index.html, one OUT/pages/<student>.html each; --no-pages: none); a
    rerun grades only what changed. Exit code 0 when every submission was graded, 3 when
    the grader failed on some (their reports say so; the summary lists them), 130 when
    interrupted (what was graded is kept: rerun to finish).
    """
    limits = make_limits(call_timeout, budget, memory_mb, limit)
    points: dict[str, float] = {}
    if isinstance(assignment, Assignment):
        if exercises:
            raise click.UsageError("give either an --assignment file or --exercise, not both")
        exercises, points = assignment.exercises, dict(assignment.points)
        assignment = assignment.name
    options = BatchOptions(
        exercises=exercises,
        points=points,
        workers=workers,
        regrade=regrade,
        course_salt=salt,
        limits=limits,
        assignment=assignment,
        db_path=db_path,
        isolation=isolation,
        pages=not no_pages,
    )
    stderr = Console(stderr=True)
    try:
        if stderr.is_terminal:
            with BatchProgress(stderr) as progress:
                result = grade_batch(directory, out, options, progress)
        else:
            result = grade_batch(directory, out, options)
    except KeyboardInterrupt:
        click.echo("interrupted: what was graded is in the gradebook; rerun to finish", err=True)
        sys.exit(130)
    except GradebookError as exc:
        raise OutputError(str(exc), hint="not a usable gradebook") from None
    except IsolationUnavailable as exc:
        raise IsolationError(exc) from None
    except WorkerStartError as exc:  # the grader cannot run here: an internal error
        error = click.ClickException(f"internal error: {exc}")
        error.exit_code = 3
        raise error from None
    print_batch_summary(result)
    failed = result.failed_students
    if failed:
        click.echo(
            f"grader: the grader itself failed on {len(failed)} submission"
            f"{'s' if len(failed) != 1 else ''} ({', '.join(failed)}); every other report "
            "was written; rerun to retry them, and report the errors above to the course staff",
            err=True,
        )
        sys.exit(3)


@click.group()
def gradebook() -> None:
    """Read the SQLite gradebook that `grader batch` writes."""


DB_OPTION = click.option(
    "--db",
    "db_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The gradebook (OUT/gradebook.sqlite of a batch).",
)
ASSIGNMENT_OPTION = click.option(
    "--assignment", default=None, help="Which assignment (needed when the gradebook holds several)."
)


@gradebook.command("export")
@DB_OPTION
@ASSIGNMENT_OPTION
@click.option(
    "--csv",
    "csv_out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the CSV here ('-' for standard output).",
)
def export_command(db_path: Path, assignment: str | None, csv_out: Path) -> None:
    """Write the latest grade of every student as CSV: student, total, max, per exercise."""
    try:
        with Gradebook(db_path, create=False) as book:
            assignment, text = export_csv(book, assignment)
    except GradebookError as exc:
        raise click.ClickException(str(exc)) from None
    if str(csv_out) == "-":
        click.echo(text, nl=False)
        return
    csv_out.parent.mkdir(parents=True, exist_ok=True)
    csv_out.write_text(text, newline="")
    rows = text.count("\n") - 1
    click.echo(f"{assignment}: {rows} students written to {csv_out}", err=True)


@gradebook.command("show")
@click.argument("student")
@DB_OPTION
@ASSIGNMENT_OPTION
def show_command(student: str, db_path: Path, assignment: str | None) -> None:
    """Show every grading run of STUDENT and the per-function results of the latest one."""
    try:
        with Gradebook(db_path, create=False) as book:
            if assignment is not None:
                resolve_assignment(book, assignment)
            runs = book.history(student, assignment)
    except GradebookError as exc:
        raise click.ClickException(str(exc)) from None
    if not runs:
        where = f" for {assignment}" if assignment else ""
        raise click.ClickException(f"no runs of {student}{where} in {db_path}")
    print_history(student, runs)


COMMANDS = (batch, gradebook)
