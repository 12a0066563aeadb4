"""The grading rules a server and a remote worker must agree on before a worker grades.

A rule fingerprint hashes the grader's version and the files of every pack that declares
one of the assignment's exercises (the built-in pack's answer key, `reference/`,
included). A worker whose grader or packs differ in any byte computes another fingerprint
and refuses the task instead of grading it with different rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from grader import __version__, catalogue


def rules_fingerprint(exercises: Iterable[str]) -> str:
    wanted = set(exercises)
    digest = hashlib.sha256(f"grader {__version__}\n".encode())
    for pack in catalogue.current().packs:
        if wanted & {exercise.name for exercise in pack.exercises}:
            digest.update(f"pack {pack.name}\n".encode())
            for directory in _directories(pack):
                digest.update(_tree_hash(directory).encode())
    return digest.hexdigest()[:16]


def _directories(pack: catalogue.Pack) -> list[Path]:
    if pack.directory is None:
        return []
    if pack.source == "built-in":
        import reference

        return [pack.directory, Path(reference.__path__[0])]
    return [pack.directory]


@cache
def _tree_hash(directory: Path) -> str:
    """The hash of a pack directory's Python and data files (not its caches)."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(directory)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()
