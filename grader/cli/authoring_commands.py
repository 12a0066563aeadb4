"""Commands that write course material from the declarations: starter."""

from __future__ import annotations

from pathlib import Path

import click

import exercises as catalogue
from grader.cli.options import validate_exercises
from grader.starter import FORMATS, write_starter


@click.command()
@click.argument("exercise_names", metavar="[EXERCISE]...", nargs=-1, callback=validate_exercises)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The file to write: .ipynb (a notebook) or .py (a '# %%' script). "
    "Default: EXERCISE.ipynb for one exercise, else starter.ipynb.",
)
@click.option("--force", "-f", is_flag=True, help="Replace the file if it exists.")
def starter(exercise_names: tuple[str, ...], output: Path | None, force: bool) -> None:
    """Write a starter notebook for EXERCISE... (default: every exercise).

    Per exercise: its statement, shapes and maths, and stub functions to fill in; at the
    end, a cell that checks the student's work from inside the notebook.
    """
    names = list(dict.fromkeys(exercise_names)) or list(catalogue.names())
    if output is None:
        output = Path(f"{names[0]}.ipynb" if len(names) == 1 else "starter.ipynb")
    if output.suffix.lower() not in FORMATS:
        raise click.BadParameter(
            f"{output.name}: write a .ipynb notebook or a .py script", param_hint="--output"
        )
    if output.exists() and not force:
        raise click.ClickException(f"{output} already exists; use --force to replace it")
    path = write_starter(output, [catalogue.get(name) for name in names], overwrite=True)
    points = sum(catalogue.get(name).max_score for name in names)
    click.echo(f"wrote {path}: {len(names)} exercise(s), {points:g} points")


COMMANDS = (starter,)
