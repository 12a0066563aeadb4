"""A student kit: starter material plus public instances, graded without the answer key.

A kit is self-contained: besides a starter notebook per exercise (each carrying the
conventions and its exercise's statement), it holds `exercises.md`, the contract of the
exercises it holds, rendered by `grader.contract` like the repository's docs/exercises.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.contract import contract_markdown
from grader.public_instances import write_instances
from grader.spec import Exercise
from grader.starter import write_starter

INSTANCES_FILE = "public_instances.json"
CONTRACT_FILE = "exercises.md"
PUBLIC_SEED = 2024


def write_kit(
    directory: Path, exercises: Sequence[Exercise], seed: int = PUBLIC_SEED, overwrite: bool = False
) -> list[Path]:
    """A starter notebook per exercise, one public instance file for all of them and
    `exercises.md`, their statements and conventions.

    The instance file holds inputs and expected outputs for a public seed, so students can
    self-check with `grader check NOTEBOOK --instances public_instances.json` on a machine
    that has no `reference` package; graded runs still use per-student seeds.
    """
    directory.mkdir(parents=True, exist_ok=True)
    instances = directory / INSTANCES_FILE
    contract = directory / CONTRACT_FILE
    for path in (instances, contract):
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} already exists")
    write_instances(instances, exercises, seed)
    contract.write_text(contract_markdown(exercises, generated_by=None), encoding="utf-8")
    written = [instances, contract]
    for exercise in exercises:
        notebook = directory / f"{exercise.number:02d}_{exercise.name}.ipynb"
        written.append(write_starter(notebook, [exercise], overwrite, instances=INSTANCES_FILE))
    return written
