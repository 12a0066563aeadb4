"""`grader validate-pack`: check an exercise pack before any student sees it."""

from __future__ import annotations

import sys

import click

from grader.catalogue import PackError


@click.command("validate-pack")
@click.argument("source", metavar="PATH_OR_MODULE")
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Number of seeds whose instances are checked.",
)
def validate_pack_command(source: str, seeds: int) -> None:
    """Check the exercise pack PATH_OR_MODULE (a directory, an importable package, or
    "exercises" for the built-in pack): its reference solutions pass their own exercises,
    every known mistake is caught and named, and the instances avoid numerical traps.

    Exit status: 0 every check passed, 1 some check failed, 2 the pack cannot be loaded.
    """
    from rich.console import Console

    from grader.validate import table, validate_pack, verdict

    try:
        validation = validate_pack(source, seeds)
    except PackError as error:
        failure = click.ClickException(str(error))
        failure.exit_code = 2
        raise failure from None
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table(validation))
    click.echo(verdict(validation))
    if not validation.ok:
        sys.exit(1)


COMMANDS = (validate_pack_command,)
