"""The command line: one module per verb, each parsing options and calling the library.

No grading logic lives here, and nothing outside this package imports click. Command
modules are imported on first use, so `grader check` does not pay for the imports of
batch grading, Gradescope or starter notebooks.
"""

from __future__ import annotations

import importlib

import click

from grader import __version__

COMMAND_MODULES = {
    "check": "grading",
    "grade": "grading",
    "batch": "batch_commands",
    "gradebook": "batch_commands",
    "gradescope": "gradescope_commands",
    "starter": "authoring_commands",
    "kit": "authoring_commands",
    "list": "catalogue_commands",
    "schema": "catalogue_commands",
    "doctor": "catalogue_commands",
}


GRADES_ONE = {"check", "grade"}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module_name = COMMAND_MODULES.get(name)
        if module_name is None:
            return None
        if name in GRADES_ONE:
            from grader.sandbox.isolation import prewarm

            prewarm(wait=False)  # the fork server imports numpy while we import the grader
        module = importlib.import_module(f"{__name__}.{module_name}")
        return next(c for c in module.COMMANDS if c.name == name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Autograder for gradient-descent and backpropagation exercises."""
