"""`grader check` (students) and `grader grade` (TAs and CI): one submission at a time."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from grader import renderers
from grader.cli.options import (
    ASSIGNMENT_FILE_OPTION,
    SUBMISSION,
    OutputError,
    fixed_assignment,
    grading_options,
    isolation_errors,
    make_options,
)
from grader.engine import GradeOptions, grade
from grader.renderers import VISIBILITIES, gradescope_json
from grader.renderers.text import plain, report_text
from grader.report import Report

HTML_OPTION = click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a feedback page here: one self-contained HTML file with the figures "
    "of the functions that failed.",
)
OPEN_OPTION = click.option(
    "--open", "open_page", is_flag=True, help="Open the --html page in a web browser."
)


@click.command()
@SUBMISSION
@grading_options
@HTML_OPTION
@OPEN_OPTION
def check(path: Path, html_out: Path | None, open_page: bool, **options) -> None:
    """Check your submission (.py, .ipynb or a folder) and explain what is wrong.

    Grades the exercises you attempted (or those named with -e). Exit code 0 when every
    graded function passes, 1 otherwise.
    """
    if open_page and html_out is None:
        raise click.UsageError("--open opens the --html page: give --html PATH too")
    with isolation_errors():
        report = grade(path, page_options(make_options(**options), html_out))
    show_report(report)
    if html_out is not None:
        write_page(html_out, report, open_page)
    sys.exit(0 if report.all_passed else 1)


def page_options(options: GradeOptions, html_out: Path | None) -> GradeOptions:
    """With a page to write, the engine also collects the data of its figures."""
    return replace(options, figures=True) if html_out is not None else options


def write_page(path: Path, report: Report, open_page: bool = False) -> None:
    """Write the feedback page (matplotlib and jinja2 are imported here, only here)."""
    from grader.renderers.html import html_page

    write(path, html_page(report))
    click.echo(f"feedback page: {path}", err=True)
    if open_page:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())


def show_report(report: Report) -> None:
    """The report as lines: coloured and wrapped to the width of a terminal; as they are in a
    log or a pipe (click.echo drops the colours there). NO_COLOR=1 turns colours off."""
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    style = plain if os.environ.get("NO_COLOR") else terminal_style
    click.echo(report_text(report, style=style, width=width), nl=False)


STYLES: dict[str, dict[str, Any]] = {
    "heading": {"bold": True},
    "pass": {"fg": "green"},
    "fail": {"fg": "red", "bold": True},
    "tag": {"fg": "yellow", "bold": True},
    "hint": {"fg": "cyan"},
    "problem": {"fg": "red"},
    "note": {"dim": True},
}


def terminal_style(text: str, role: str) -> str:
    return click.style(text, **STYLES[role])


@click.command("grade")
@SUBMISSION
@grading_options
@ASSIGNMENT_FILE_OPTION
@click.option(
    "--gradescope-metadata",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Gradescope's submission_metadata.json: the student id comes from it (an error in "
    "the report when it cannot be read).",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the JSON report here ('-' for standard output).",
)
@click.option(
    "--gradescope",
    "gradescope_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write Gradescope's results.json here.",
)
@click.option(
    "--gradescope-visibility",
    type=click.Choice(VISIBILITIES),
    default="visible",
    show_default=True,
    help="When students see the Gradescope results.",
)
@click.option(
    "--gradescope-output",
    type=click.Choice(["text", "html"]),
    default="text",
    show_default=True,
    help="Format of the summary above the tests on Gradescope (results.json `output`): "
    "html is a link-free, figure-free HTML summary (docs/gradescope.md).",
)
@click.option(
    "--junit",
    "junit_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a JUnit XML report here (what CI systems display).",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=None,
    help="Exit 1 when the score is below this percentage.",
)
@HTML_OPTION
@OPEN_OPTION
def grade_command(
    path: Path,
    json_out: Path | None,
    gradescope_out: Path | None,
    gradescope_visibility: str,
    gradescope_output: str,
    junit_out: Path | None,
    fail_under: float | None,
    assignment,
    gradescope_metadata: Path | None,
    html_out: Path | None,
    open_page: bool,
    **options,
) -> None:
    """Grade a submission on every exercise of the assignment and write the report.

    For TAs and CI: the total is the same for every submission, whatever it attempts.
    Exit code 0 when graded, 1 when below --fail-under, 2 on usage errors, 3 when the
    grader itself failed.
    """
    if open_page and html_out is None:
        raise click.UsageError("--open opens the --html page: give --html PATH too")
    fixed = fixed_assignment(options["exercises"], assignment)
    problems = []
    if gradescope_metadata is not None:
        from grader.gradescope_build import MetadataError, gradescope_student

        if options["student_id"] is not None:
            raise click.UsageError("give either --student or --gradescope-metadata, not both")
        try:
            options["student_id"] = gradescope_student(gradescope_metadata)
        except MetadataError as exc:
            problems.append(str(exc))
            click.echo(f"grader: {exc}", err=True)
    with isolation_errors():
        report = grade(path, page_options(make_options(**options, assignment=fixed), html_out))
    report.errors.extend(problems)
    to_stdout = json_out is not None and str(json_out) == "-"
    if not to_stdout:
        click.echo(
            f"{report.submission}: {report.score:g} / {report.max_score:g} ({report.percent:.1f}%)"
        )
    if to_stdout:
        click.echo(report.to_json(), nl=False)
    elif json_out is not None:
        write(json_out, report.to_json())
    if gradescope_out is not None:
        write(
            gradescope_out,
            gradescope_json(
                report, visibility=gradescope_visibility, output_format=gradescope_output
            ),
        )
    if junit_out is not None:
        write(junit_out, renderers.junit_xml(report))
    if html_out is not None:
        write_page(html_out, report, open_page)
    if fail_under is not None and below(report, fail_under):
        sys.exit(1)


def below(report: Report, fail_under: float) -> bool:
    """The score is under `fail_under` percent (a rounding hair under counts as equal)."""
    return report.percent < fail_under - 1e-9


def write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(str(path), hint=exc.strerror or str(exc)) from exc


COMMANDS = (check, grade_command)
