"""The command line: one module per verb, each parsing options and calling the library.

No grading logic lives here, and nothing outside this package imports click. Command
modules are imported on first use, so `grader check` does not pay for the imports of
batch grading, Gradescope or starter notebooks.

Exit statuses, for every command: 0 success, 1 the verdict is "no" (below --fail-under,
not everything passed), 2 the command could not do what was asked (a usage error, strong
isolation unavailable, an output file that cannot be written), 3 an error inside the grader
itself (a bug to report: one line on stderr, the traceback in a log file it names), 130
interrupted (Ctrl-C).
"""

from __future__ import annotations

import importlib
import sys

import click

from grader import __version__
from grader.catalogue import PackError

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
    "show": "contract_commands",
    "validate-pack": "pack_commands",
    "serve": "service_commands",
    "submit": "service_commands",
    "worker": "service_commands",
}


GRADES_ONE = {"check", "grade"}

INTERNAL_ERROR = 3
INTERRUPTED = 130
REPORT_TO = "the course staff (the grader's maintainers)"


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

    def invoke(self, ctx: click.Context):
        """Run the command; an exception from the grader itself exits 3, Ctrl-C exits 130.

        Click's own exceptions (usage errors, exit 2; ClickException, exit 1) and SystemExit
        pass through unchanged.
        """
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except PackError as exc:  # GRADER_PACKS or an installed pack that cannot be loaded
            error = click.ClickException(str(exc))
            error.exit_code = 2
            raise error from None
        except KeyboardInterrupt:
            click.echo("\ngrader: interrupted", err=True)
            sys.exit(INTERRUPTED)
        except Exception as exc:
            log = write_error_log(exc)
            click.echo(internal_error_message(exc, log), err=True)
            if log is None:  # nowhere else to keep it
                import traceback

                click.echo("".join(traceback.format_exception(exc)), err=True, nl=False)
            sys.exit(INTERNAL_ERROR)


def write_error_log(exc: BaseException) -> str | None:
    """Write the traceback, the command line and versions to a new temporary file; its path
    (None when no file can be written)."""
    import platform
    import tempfile
    import traceback

    text = (
        f"grader {__version__}, Python {platform.python_version()} on {platform.platform()}\n"
        f"command: {' '.join(sys.argv)}\n\n" + "".join(traceback.format_exception(exc))
    )
    try:
        with tempfile.NamedTemporaryFile(
            "w", prefix="grader-error-", suffix=".log", delete=False, encoding="utf-8"
        ) as log:
            log.write(text)
        return log.name
    except OSError:
        return None


def internal_error_message(exc: BaseException, log: str | None) -> str:
    """One line: what failed, and what to report to whom."""
    detail = " ".join(str(exc).split())
    detail = f"{type(exc).__name__}: {detail[:200]}" if detail else type(exc).__name__
    where = f"with the file {log} " if log else "with the command you ran "
    return f"grader: internal error ({detail}); please report it {where}to {REPORT_TO}"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Autograder for gradient-descent and backpropagation exercises."""
