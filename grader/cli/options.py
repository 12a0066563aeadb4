"""Options shared by the commands that grade."""

from __future__ import annotations

from pathlib import Path

import click

import exercises as catalogue
from grader.engine import GradeOptions
from grader.public_instances import InstanceFileError, read_instances
from grader.sandbox import Limits

SUBMISSION = click.argument("path", type=click.Path(exists=True, path_type=Path))


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
            "--instances",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="Grade against a public instance file (a student kit) instead of the answer key.",
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
    exercises, seed, student_id, salt, call_timeout, budget, memory_mb, instances=None
) -> GradeOptions:
    limits = Limits(call_seconds=call_timeout, submission_seconds=budget, memory_mb=memory_mb)
    published = None
    if instances is not None:
        try:
            published = read_instances(instances)
        except InstanceFileError as error:
            raise click.BadParameter(str(error), param_hint="--instances") from None
    return GradeOptions(
        exercises=exercises,
        student_id=student_id,
        seed=seed,
        course_salt=salt,
        limits=limits,
        published=published,
    )
