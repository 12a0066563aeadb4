"""`grader gradescope build`: the autograder zip a course uploads to Gradescope."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.options import EXERCISE_OPTION
from grader.gradescope_build import AutograderConfig, build_autograder, check_submission_choice
from grader.renderers import VISIBILITIES


def validate_submission(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_submission_choice(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.group()
def gradescope() -> None:
    """Run the grader on Gradescope (see docs/gradescope.md)."""


@gradescope.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@EXERCISE_OPTION
@click.option(
    "--salt",
    default="",
    envvar="GRADER_COURSE_SALT",
    help="Course salt: with each student's Gradescope email it seeds their instances.",
)
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default="visible",
    show_default=True,
    help="When students see their results.",
)
@click.option(
    "--submission",
    default="auto",
    show_default=True,
    callback=validate_submission,
    help="What to grade: 'auto' (the first .ipynb, else the first .py, else the folder), "
    "'folder' (every code file), or a file name such as hw3.ipynb.",
)
def build(
    out: Path, exercises: tuple[str, ...], salt: str, visibility: str, submission: str
) -> None:
    """Write the autograder zip (setup.sh, run_autograder, the grader's source) to OUT."""
    config = AutograderConfig(
        exercises=exercises, salt=salt, visibility=visibility, submission=submission
    )
    try:
        result = build_autograder(out, config)
    except OSError as exc:
        raise click.FileError(str(out), hint=exc.strerror or str(exc)) from exc
    size = result.path.stat().st_size
    graded = ", ".join(exercises) if exercises else "the exercises each submission attempts"
    click.echo(
        f"wrote {result.path} ({size / 1024:.0f} kB): setup.sh, run_autograder and "
        f"{result.source_files} files of the grader's source"
    )
    click.echo(f"grades: {graded}; visibility: {visibility}; submission: {submission}")
    if not salt:
        click.echo("note: no course salt (--salt or GRADER_COURSE_SALT); seeds use emails only")


COMMANDS = (gradescope,)
