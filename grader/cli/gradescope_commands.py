"""`grader gradescope build`: the autograder zip a course uploads to Gradescope."""

from __future__ import annotations

from pathlib import Path

import click

from grader import catalogue
from grader.cli.options import (
    ASSIGNMENT_FILE_OPTION,
    EXERCISE_OPTION,
    PACK_OPTION,
    OutputError,
    fixed_assignment,
)
from grader.gradescope_build import AutograderConfig, build_autograder, check_submission_choice
from grader.renderers import VISIBILITIES
from grader.sandbox.isolation import ISOLATION_CHOICES


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
@PACK_OPTION
@EXERCISE_OPTION
@ASSIGNMENT_FILE_OPTION
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
@click.option(
    "--isolation",
    type=click.Choice(ISOLATION_CHOICES),
    default="strong",
    show_default=True,
    help="The sandbox run_autograder asks for. strong: an image without Linux namespaces "
    "fails every submission with the reason (in the log) rather than grading with the answer "
    "key readable; auto: falls back there; fallback: rlimits only.",
)
def build(
    out: Path,
    exercises: tuple[str, ...],
    assignment,
    salt: str,
    visibility: str,
    submission: str,
    isolation: str = "strong",
) -> None:
    """Write the autograder zip (setup.sh, run_autograder, the grader's source) to OUT.

    Every submission is graded on the same exercises: all of them, those named with -e, or
    those of an --assignment file.
    """
    graded = fixed_assignment(exercises, assignment)
    packs = [p.directory for p in catalogue.current().extra_packs if p.directory is not None]
    config = AutograderConfig(
        packs=packs,
        salt=salt,
        visibility=visibility,
        submission=submission,
        assignment=graded,
        isolation=isolation,
    )
    try:
        result = build_autograder(out, config)
    except OSError as exc:
        raise OutputError(str(out), hint=exc.strerror or str(exc)) from exc
    size = result.path.stat().st_size
    click.echo(
        f"wrote {result.path} ({size / 1024:.0f} kB): setup.sh, run_autograder and "
        f"{result.source_files} files of the grader's source"
    )
    click.echo(
        f"grades: {', '.join(graded.exercises)} (out of {graded.max_score:g}); "
        f"visibility: {visibility}; submission: {submission}; isolation: {isolation}"
    )
    if packs:
        click.echo(f"bundled packs: {', '.join(str(p) for p in packs)}")
    if not salt:
        click.echo("note: no course salt (--salt or GRADER_COURSE_SALT); seeds use emails only")


COMMANDS = (gradescope,)
