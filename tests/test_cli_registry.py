"""Every command module's commands are reachable from `grader`, under their own names."""

from __future__ import annotations

import importlib

from click.testing import CliRunner

from grader.cli import COMMAND_MODULES, main


def test_every_command_of_every_module_is_registered_once():
    modules = {importlib.import_module(f"grader.cli.{m}") for m in COMMAND_MODULES.values()}
    defined = sorted(c.name for module in modules for c in module.COMMANDS)
    assert defined == sorted(COMMAND_MODULES)
    for name, module_name in COMMAND_MODULES.items():
        module = importlib.import_module(f"grader.cli.{module_name}")
        assert name in {c.name for c in module.COMMANDS}


def test_help_lists_every_command_and_unknown_commands_are_usage_errors():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMAND_MODULES:
        assert name in result.output
    assert CliRunner().invoke(main, ["nope"]).exit_code == 2
