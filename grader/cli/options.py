"""Options shared by the commands that grade: which exercises, seeds, and sandbox limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import click

from grader import catalogue
from grader.assignment import Assignment, AssignmentError, fixed_set, load_assignment
from grader.engine import GradeOptions
from grader.public_instances import InstanceFileError, read_instances
from grader.sandbox import ISOLATION_CHOICES, IsolationUnavailable, Limits

SUBMISSION = click.argument("path", type=click.Path(exists=True, path_type=Path))
LIMIT_NAMES = sorted(f.name for f in fields(Limits))


def validate_exercises(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]):
    names = catalogue.current().names()
    unknown = [name for name in value if name not in names]
    if unknown:
        raise click.BadParameter(
            f"unknown exercise {', '.join(unknown)}; choose from: {', '.join(names)}"
        )
    return value


def load_packs(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> None:
    """Add the --pack packs to the catalogue before any other option is read (eager)."""
    if not value:
        return
    try:
        catalogue.use(value)
    except catalogue.PackError as error:
        raise click.BadParameter(str(error), param_hint="--pack") from None


PACK_OPTION = click.option(
    "--pack",
    multiple=True,
    metavar="PATH_OR_MODULE",
    is_eager=True,
    expose_value=False,
    callback=load_packs,
    help="Also load the exercises of this pack: a directory or an importable package "
    "(repeatable; GRADER_PACKS and installed packs are loaded too).",
)


def parse_limits(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict:
    """`--limit NAME=VALUE` pairs, for the limits without an option of their own."""
    overrides: dict[str, float] = {}
    for item in value:
        name, _, number = item.partition("=")
        if name not in LIMIT_NAMES:
            raise click.BadParameter(f"unknown limit {name!r}; limits: {', '.join(LIMIT_NAMES)}")
        try:
            overrides[name] = float(number) if "." in number or "e" in number else int(number)
        except ValueError:
            raise click.BadParameter(f"{item!r}: the value must be a number") from None
    return overrides


def apply(options: list[Callable], function: Callable) -> Callable:
    for option in reversed(options):
        function = option(function)
    return function


EXERCISE_OPTION = click.option(
    "--exercise",
    "-e",
    "exercises",
    multiple=True,
    callback=validate_exercises,
    help="Grade this exercise (repeatable). Default: every exercise (for `check`: those "
    "the submission attempts).",
)


def read_assignment_file(ctx: click.Context, param: click.Parameter, value: Path | None):
    if value is None:
        return None
    try:
        return load_assignment(value)
    except AssignmentError as error:
        raise click.BadParameter(str(error)) from None


ASSIGNMENT_FILE_OPTION = click.option(
    "--assignment",
    "assignment",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    callback=read_assignment_file,
    metavar="FILE.toml",
    help="An assignment file: its exercises and points (see docs/assignments.md).",
)


def fixed_assignment(exercises: tuple[str, ...], assignment: Assignment | None) -> Assignment:
    """What `grade`, `batch` and Gradescope grade: the file's, the -e exercises, or all."""
    try:
        return fixed_set(exercises, assignment)
    except AssignmentError:
        raise click.UsageError("give either --assignment or --exercise, not both") from None


SALT_OPTION = click.option(
    "--salt", default="", envvar="GRADER_COURSE_SALT", help="Course salt for seeds."
)
LIMIT_OPTIONS = [
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
    click.option(
        "--limit",
        multiple=True,
        metavar="NAME=VALUE",
        callback=parse_limits,
        help="Override any other sandbox limit (repeatable), e.g. output_bytes=200000, "
        "open_files=32, processes=16, file_mb=4, load_seconds=20. See docs/grading.md.",
    ),
]


ISOLATION_OPTION = click.option(
    "--isolation",
    type=click.Choice(ISOLATION_CHOICES),
    default="auto",
    show_default=True,
    help="Sandbox for student code: strong (Linux namespaces; fails if unavailable), "
    "fallback (rlimits only: code can read the answer key) or auto (strong where available, "
    "else fallback, or as GRADER_SANDBOX says). Overrides GRADER_SANDBOX.",
)


class IsolationError(click.ClickException):
    """Strong isolation was asked for and this machine cannot give it: one line on stderr,
    exit status 2 (an environment error, like a usage error)."""

    exit_code = 2

    def __init__(self, cause: IsolationUnavailable) -> None:
        super().__init__(f"{cause} (see `grader doctor`)")


class OutputError(click.FileError):
    """A file the command was asked to write (a report, a zip, a gradebook) cannot be
    written or used: exit status 2, like a usage error, never 1, which is a verdict."""

    exit_code = 2


@contextmanager
def isolation_errors() -> Iterator[None]:
    """Turn IsolationUnavailable into an IsolationError."""
    try:
        yield
    except IsolationUnavailable as exc:
        raise IsolationError(exc) from None


def limit_options(function: Callable) -> Callable:
    """--call-timeout, --budget, --memory-mb and --limit NAME=VALUE."""
    return apply(LIMIT_OPTIONS, function)


def grading_options(function: Callable) -> Callable:
    """Everything `check` and `grade` share."""
    return apply(
        [
            PACK_OPTION,
            EXERCISE_OPTION,
            click.option(
                "--seed", type=int, default=None, help="Instance seed (default: from --student)."
            ),
            click.option(
                "--student", "student_id", default=None, help="Student id; seeds the instances."
            ),
            SALT_OPTION,
            click.option(
                "--instances",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                default=None,
                help="Grade against a public instance file (a student kit), not the answer key.",
            ),
            limit_options,
            ISOLATION_OPTION,
        ],
        function,
    )


def make_limits(call_timeout: float, budget: float, memory_mb: int, limit: dict) -> Limits:
    try:
        return Limits(
            call_seconds=call_timeout, submission_seconds=budget, memory_mb=memory_mb, **limit
        )
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="--limit") from None


def make_options(
    exercises,
    seed,
    student_id,
    salt,
    instances,
    call_timeout,
    budget,
    memory_mb,
    limit,
    assignment: Assignment | None = None,
    isolation: str = "auto",
) -> GradeOptions:
    published = None
    if instances is not None:
        try:
            published = read_instances(instances)
        except InstanceFileError as error:
            raise click.BadParameter(str(error), param_hint="--instances") from None
    return GradeOptions(
        exercises=exercises,
        assignment=assignment,
        student_id=student_id,
        seed=seed,
        course_salt=salt,
        limits=make_limits(call_timeout, budget, memory_mb, limit),
        published=published,
        isolation=isolation,
    )
