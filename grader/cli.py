"""The command line: parses options and calls the library. No grading logic lives here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

import exercises as catalogue
from grader import __version__
from grader.engine import GradeOptions, grade
from grader.report import report_schema
from grader.sandbox import Limits, describe_isolation
from grader.terminal import print_catalogue, print_isolation, print_report


def validate_exercises(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]):
    unknown = [name for name in value if name not in catalogue.names()]
    if unknown:
        raise click.BadParameter(
            f"unknown exercise {', '.join(unknown)}; choose from: {', '.join(catalogue.names())}"
        )
    return value


def grading_options(function):
    """Options shared by every command that grades."""
    options = [
        click.option(
            "--exercise",
            "-e",
            "exercises",
            multiple=True,
            callback=validate_exercises,
            help="Grade only this exercise (repeatable). Default: those the submission attempts.",
        ),
        click.option(
            "--seed", type=int, default=None, help="Instance seed (default: from --student)."
        ),
        click.option(
            "--student", "student_id", default=None, help="Student id; seeds the instances."
        ),
        click.option(
            "--salt", default="", envvar="GRADER_COURSE_SALT", help="Course salt for seeds."
        ),
        click.option(
            "--call-timeout",
            type=float,
            default=Limits.call_seconds,
            show_default=True,
            help="Seconds one call of a student function may take.",
        ),
        click.option(
            "--budget",
            type=float,
            default=Limits.submission_seconds,
            show_default=True,
            help="Seconds one whole submission may take.",
        ),
        click.option(
            "--memory-mb",
            type=int,
            default=Limits.memory_mb,
            show_default=True,
            help="Memory limit of the student's process.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def make_options(
    exercises, seed, student_id, salt, call_timeout, budget, memory_mb
) -> GradeOptions:
    limits = Limits(call_seconds=call_timeout, submission_seconds=budget, memory_mb=memory_mb)
    return GradeOptions(
        exercises=exercises, student_id=student_id, seed=seed, course_salt=salt, limits=limits
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Autograder for gradient-descent and backpropagation exercises."""


@main.command("list")
def list_command() -> None:
    """List the exercises, their functions and points."""
    print_catalogue(catalogue.EXERCISES)


SUBMISSION = click.argument("path", type=click.Path(exists=True, path_type=Path))


@main.command()
@SUBMISSION
@grading_options
def check(path: Path, **options) -> None:
    """Check your submission (.py, .ipynb or a folder) and explain what is wrong.

    Exit code 0 when every graded function passes, 1 otherwise.
    """
    report = grade(path, make_options(**options))
    print_report(report)
    sys.exit(0 if report.all_passed else 1)


@main.command("grade")
@SUBMISSION
@grading_options
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the JSON report here ('-' for standard output).",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=None,
    help="Exit 1 when the score is below this percentage.",
)
def grade_command(path: Path, json_out: Path | None, fail_under: float | None, **options) -> None:
    """Grade a submission and write the report (for TAs and CI).

    Exit code 0 when graded, 1 when below --fail-under, 2 on usage errors.
    """
    report = grade(path, make_options(**options))
    if json_out is None or str(json_out) != "-":
        click.echo(
            f"{report.submission}: {report.score:g} / {report.max_score:g} ({report.percent:.1f}%)"
        )
    if json_out is not None:
        if str(json_out) == "-":
            click.echo(report.to_json(), nl=False)
        else:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(report.to_json())
    if fail_under is not None and report.percent < fail_under:
        sys.exit(1)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the report."""
    click.echo(json.dumps(report_schema(), indent=2))


@main.command()
def doctor() -> None:
    """Say which isolation this machine gives student code, and why."""
    print_isolation(describe_isolation())
