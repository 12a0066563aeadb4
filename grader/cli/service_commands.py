"""`grader serve` (the course's web service), `grader serve tokens issue`, `grader submit`."""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path

import click

from grader.cli.options import PACK_OPTION, OutputError

COURSE_OPTION = click.option(
    "--course",
    "course_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The course file (course.toml): salt, roster, assignments, limits.",
)
DATA_OPTION = click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where submissions, the database and tokens are kept "
    "(default: grader-data/ beside the course file).",
)


def load(course_file: Path, data_dir: Path | None):
    """The course (a clear usage error if it cannot be used) and its data directory."""
    from grader.service.course import CourseError, load_course
    from grader.service.server import default_data_dir

    try:
        course = load_course(course_file)
    except CourseError as exc:
        raise click.UsageError(str(exc)) from None
    return course, data_dir or default_data_dir(course_file)


def require_service_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import multipart  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise click.UsageError(
            f"`grader serve` needs the service's dependencies ({exc.name} is missing):"
            " pip install 'grader[serve]'"
        ) from None


def require_scale_extra(command: str) -> None:
    try:
        import celery  # noqa: F401
        import redis  # noqa: F401
    except ImportError as exc:
        raise click.UsageError(
            f"`{command}` needs Celery and Redis ({exc.name} is missing):"
            " pip install 'grader[scale]'"
        ) from None


VISIBILITY_OPTION = click.option(
    "--visibility-timeout",
    type=click.FloatRange(min=1),
    default=None,
    help="With a broker: seconds before a task whose worker vanished is handed out again "
    "(default 900; server and workers must agree).",
)


@click.group(invoke_without_command=True)
@click.option(
    "--course",
    "course_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The course file (course.toml).",
)
@DATA_OPTION
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (keep loopback behind a reverse proxy).",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    "-j",
    type=click.IntRange(min=0),
    default=None,
    help="Grading processes (default: one per core; 0: accept but do not grade).",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Proxies whose X-Forwarded-For/Proto headers are trusted.",
)
@click.option(
    "--broker",
    envvar="GRADER_BROKER",
    default=None,
    metavar="URL",
    help="Grade through Celery with this Redis broker (redis://host:6379/0), on "
    "`grader worker` machines, instead of local processes.",
)
@click.option(
    "--queue",
    default=None,
    metavar="NAME",
    help="With --broker: the course's queue (default: grader.<course name>).",
)
@VISIBILITY_OPTION
@click.pass_context
def serve(
    ctx: click.Context,
    course_file: Path | None,
    data_dir: Path | None,
    host: str,
    port: int,
    workers: int | None,
    forwarded_allow_ips: str,
    broker: str | None,
    queue: str | None,
    visibility_timeout: float | None,
) -> None:
    """Serve a course: students hand in through a web page, `grader submit` or
    `grader.submit`, and get their feedback page; TAs get a dashboard.

    \b
    grader serve --course course.toml
    grader serve tokens issue --course course.toml --roster --out tokens.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    if course_file is None:
        raise click.UsageError("give the course file: grader serve --course course.toml")
    require_service_extra()
    from grader.batch import usable_cores
    from grader.service.server import serve as run

    course, data_dir = load(course_file, data_dir)
    workers = usable_cores() if workers is None else workers
    if broker is not None:
        require_scale_extra("grader serve --broker")
        from grader.service.dispatch import queue_name
        from grader.service.tasks import without_password

        queue = queue or queue_name(course)
        shown = without_password(broker)
        grading = f"through Celery ({shown}; workers: grader worker --broker URL -Q {queue})"
    else:
        grading = f"with {workers} grading processes"
    click.echo(
        f"grader: serving {course.name} on http://{host}:{port}/ {grading}; data in {data_dir}",
        err=True,
    )
    run(
        course,
        data_dir,
        host=host,
        port=port,
        workers=workers,
        forwarded_allow_ips=forwarded_allow_ips,
        broker=broker,
        queue=queue,
        visibility_timeout=visibility_timeout,
    )


@serve.group()
def tokens() -> None:
    """Student and TA tokens (stored hashed: a token is shown only when issued)."""


@tokens.command("issue")
@COURSE_OPTION
@DATA_OPTION
@click.option(
    "--roster",
    "whole_roster",
    is_flag=True,
    help="A token for every student of the course's roster.",
)
@click.option(
    "--student",
    "students",
    multiple=True,
    metavar="ID",
    help="A token for this student (repeatable).",
)
@click.option(
    "--ta", "tas", multiple=True, metavar="NAME", help="A TA token for this name (repeatable)."
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the CSV here (readable by you only) instead of printing it.",
)
def issue(
    course_file: Path,
    data_dir: Path | None,
    whole_roster: bool,
    students: tuple[str, ...],
    tas: tuple[str, ...],
    out: Path | None,
) -> None:
    """Issue tokens, as a CSV of role, name, token. A new token replaces the holder's old
    one. Hand each student their own line."""
    from grader.service.store import Store
    from grader.service.tokens import issue_ta_token, issue_tokens

    course, data_dir = load(course_file, data_dir)
    wanted = list(course.students) if whole_roster else list(students)
    unknown = [s for s in wanted if s not in course.students]
    if unknown:
        raise click.UsageError(f"not on the roster: {', '.join(unknown)}")
    if not wanted and not tas:
        raise click.UsageError("say for whom: --roster, --student ID or --ta NAME")
    with Store(data_dir, course) as store:
        rows = [("student", name, token) for name, token in issue_tokens(store, wanted).items()]
        try:
            rows += [("ta", name, issue_ta_token(store, name)) for name in tas]
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("role", "name", "token"))
    writer.writerows(rows)
    if out is None:
        click.echo(buffer.getvalue(), nl=False)
        return
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(buffer.getvalue())
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"grader: {len(rows)} tokens written to {out}", err=True)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--url", envvar="GRADER_URL", required=True, help="The course's server (or GRADER_URL)."
)
@click.option(
    "--token",
    envvar="GRADER_TOKEN",
    required=True,
    help="Your token (or GRADER_TOKEN, which keeps it out of your shell history).",
)
@click.option("--assignment", "-a", required=True, help="The assignment, e.g. hw1.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the grade.")
@click.option(
    "--timeout", type=float, default=600, show_default=True, help="Seconds to wait for the grade."
)
def submit(file: Path, url: str, token: str, assignment: str, wait: bool, timeout: float) -> None:
    """Hand FILE in to a course's server. Exit status: 0 accepted (with --wait: graded
    with full marks), 1 graded below full marks or grading failed, 2 refused (the
    message says why) or the server could not be reached."""
    from grader.client import SubmitError
    from grader.client import submit as send

    try:
        submitted = send(file, assignment, url=url, token=token, wait=wait, timeout=timeout)
    except SubmitError as exc:
        click.echo(f"grader: not submitted: {exc}", err=True)
        sys.exit(2)
    click.echo(f"submission {submitted.id}")
    click.echo(submitted.summary())
    if wait and (
        submitted.status != "graded" or (submitted.score or 0) < (submitted.max_score or 0)
    ):
        sys.exit(1)


@click.command()
@click.option(
    "--broker",
    envvar="GRADER_BROKER",
    required=True,
    metavar="URL",
    help="The Redis broker the server hands grading to, e.g. redis://host:6379/0 "
    "(or GRADER_BROKER).",
)
@click.option(
    "--queue",
    "-Q",
    "queues",
    multiple=True,
    required=True,
    metavar="NAME",
    help="A course's queue (`grader serve --broker` prints it); repeatable.",
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1),
    default=None,
    help="Grading processes (default: one per core).",
)
@VISIBILITY_OPTION
@PACK_OPTION
def worker(
    broker: str, queues: tuple[str, ...], concurrency: int | None, visibility_timeout: float | None
) -> None:
    """Grade a course's submissions on this machine, for a `grader serve --broker` server.

    The machine needs the grader and the course's packs (the same versions as the
    server's: a worker whose rules differ refuses the tasks and logs why).
    """
    require_scale_extra("grader worker")
    from grader.batch import usable_cores
    from grader.service.tasks import DEFAULT_VISIBILITY_TIMEOUT, run_worker

    run_worker(
        broker,
        list(queues),
        concurrency=concurrency or usable_cores(),
        visibility_timeout=visibility_timeout or DEFAULT_VISIBILITY_TIMEOUT,
    )


COMMANDS = [serve, submit, worker]
