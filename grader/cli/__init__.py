"""The command line: one module per verb, each parsing options and calling the library.

No grading logic lives here, and nothing outside this package imports click.
"""

from __future__ import annotations

import click

from grader import __version__
from grader.cli import (
    authoring_commands,
    batch_commands,
    catalogue_commands,
    gradescope_commands,
    grading,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Autograder for gradient-descent and backpropagation exercises."""


for command in (
    *grading.COMMANDS,
    *catalogue_commands.COMMANDS,
    *gradescope_commands.COMMANDS,
    *batch_commands.COMMANDS,
    *authoring_commands.COMMANDS,
):
    main.add_command(command)
