"""Turn a submission on disk (.py, .ipynb or a folder) into source chunks the sandbox runs.

INTERFACE STUB: being implemented. The dataclasses below are the agreed contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceChunk:
    """One unit of student code, compiled and run on its own, in order, in one namespace.

    `label` is what a student recognises ("cell 3", "solution.py"); `filename` is what
    the code is compiled under so tracebacks and syntax errors can be mapped back.
    """

    code: str
    label: str
    filename: str
    first_line: int = 1


@dataclass(frozen=True)
class LoadedSource:
    path: Path
    kind: str  # "py", "ipynb" or "folder"
    chunks: tuple[SourceChunk, ...]
    problems: tuple[str, ...] = ()  # load-time problems, in words a student understands


def load_submission(path: Path) -> LoadedSource:
    raise NotImplementedError
