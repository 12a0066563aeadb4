"""Commands that describe the grader rather than grade: list, schema, doctor."""

from __future__ import annotations

import json

import click

from grader import catalogue
from grader.cli.options import PACK_OPTION
from grader.report import report_schema
from grader.sandbox import describe_isolation
from grader.terminal import print_catalogue, print_isolation


@click.command("list")
@PACK_OPTION
def list_command() -> None:
    """List the exercises, their functions and points."""
    known = catalogue.current()
    packs = {e.name: pack.name for pack in known.packs for e in pack.exercises}
    print_catalogue(known.exercises, packs)


@click.command()
def schema() -> None:
    """Print the JSON Schema of the report."""
    click.echo(json.dumps(report_schema(), indent=2))


@click.command()
def doctor() -> None:
    """Say which isolation this machine gives student code, and why."""
    print_isolation(describe_isolation())


COMMANDS = (list_command, schema, doctor)
