"""`grader show EXERCISE`: an exercise's statement and a small public instance, in the terminal.

The text comes from `grader.contract`, the renderer of docs/exercises.md and of the starter
notebooks, so the terminal, the docs and the notebooks say the same thing.
"""

from __future__ import annotations

import click

from grader import catalogue
from grader.cli.options import PACK_OPTION
from grader.kit import PUBLIC_SEED


def known_exercise(ctx: click.Context, param: click.Parameter, value: str) -> str:
    names = catalogue.current().names()
    if value not in names:
        raise click.BadParameter(f"unknown exercise {value!r}; choose from: {', '.join(names)}")
    return value


@click.command()
@PACK_OPTION
@click.argument("exercise", callback=known_exercise)
@click.option(
    "--seed",
    type=int,
    default=PUBLIC_SEED,
    show_default=True,
    help="Seed of the public instance shown (the default is `grader kit`'s).",
)
def show(exercise: str, seed: int) -> None:
    """Print EXERCISE's statement, the conventions and a small public instance.

    The instance is the smallest of those `grader kit` publishes for SEED: its inputs and
    the expected output of every function.
    """
    from grader.contract import show_text

    click.echo(show_text(catalogue.current().get(exercise), seed))


COMMANDS = (show,)
