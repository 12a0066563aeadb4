"""A student kit: starter material plus public instances, graded without the answer key."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from exercises import Exercise
from grader.public_instances import write_instances
from grader.starter import write_starter

INSTANCES_FILE = "public_instances.json"
PUBLIC_SEED = 2024


def write_kit(
    directory: Path, exercises: Sequence[Exercise], seed: int = PUBLIC_SEED, overwrite: bool = False
) -> list[Path]:
    """A starter notebook per exercise and one public instance file for all of them.

    The instance file holds inputs and expected outputs for a public seed, so students can
    self-check with `grader check NOTEBOOK --instances public_instances.json` on a machine
    that has no `reference` package; graded runs still use per-student seeds.
    """
    directory.mkdir(parents=True, exist_ok=True)
    instances = directory / INSTANCES_FILE
    if instances.exists() and not overwrite:
        raise FileExistsError(f"{instances} already exists")
    write_instances(instances, exercises, seed)
    written = [instances]
    for exercise in exercises:
        notebook = directory / f"{exercise.number:02d}_{exercise.name}.ipynb"
        written.append(write_starter(notebook, [exercise], overwrite, instances=INSTANCES_FILE))
    return written
