"""Commands that write course material from the declarations: starter, kit."""

from __future__ import annotations

from pathlib import Path

import click

from grader import catalogue
from grader.cli.options import PACK_OPTION, validate_exercises
from grader.kit import PUBLIC_SEED, write_kit
from grader.starter import FORMATS, write_starter


@click.command()
@PACK_OPTION
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
    names = list(dict.fromkeys(exercise_names)) or list(catalogue.current().names())
    if output is None:
        output = Path(f"{names[0]}.ipynb" if len(names) == 1 else "starter.ipynb")
    if output.suffix.lower() not in FORMATS:
        raise click.BadParameter(
            f"{output.name}: write a .ipynb notebook or a .py script", param_hint="--output"
        )
    if output.exists() and not force:
        raise click.ClickException(f"{output} already exists; use --force to replace it")
    path = write_starter(output, [catalogue.current().get(name) for name in names], overwrite=True)
    points = sum(catalogue.current().get(name).max_score for name in names)
    click.echo(f"wrote {path}: {len(names)} exercise(s), {points:g} points")


@click.command()
@PACK_OPTION
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--exercise",
    "-e",
    "exercise_names",
    multiple=True,
    callback=validate_exercises,
    help="Put this exercise in the kit (repeatable). Default: every exercise.",
)
@click.option(
    "--seed", type=int, default=PUBLIC_SEED, show_default=True, help="Seed of the public instances."
)
@click.option("--force", "-f", is_flag=True, help="Replace files that exist.")
def kit(directory: Path, exercise_names: tuple[str, ...], seed: int, force: bool) -> None:
    """Write a student kit to DIRECTORY: starter notebooks and public instances.

    Students grade themselves with `grader check NOTEBOOK --instances
    DIRECTORY/public_instances.json`, without the answer key.
    """
    chosen = [catalogue.current().get(n) for n in dict.fromkeys(exercise_names)] or list(
        catalogue.current().exercises
    )
    try:
        written = write_kit(directory, chosen, seed, overwrite=force)
    except FileExistsError as error:
        raise click.ClickException(f"{error}; use --force to replace it") from None
    click.echo(f"wrote {len(written)} files to {directory}")


COMMANDS = (starter, kit)
