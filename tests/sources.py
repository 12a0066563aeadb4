"""Submissions built in memory for the sandbox tests."""

from __future__ import annotations

from pathlib import Path

from grader.loading import LoadedSource, SourceChunk


def notebook(*chunks: str, kind: str = "ipynb") -> LoadedSource:
    """A submission whose chunks are notebook cells 1..n (each starting at line 1)."""
    return LoadedSource(
        Path("submission.ipynb"),
        kind,
        tuple(SourceChunk(code, f"cell {i}", f"<cell {i}>") for i, code in enumerate(chunks, 1)),
    )


def python_file(code: str) -> LoadedSource:
    return LoadedSource(
        Path("solution.py"), "py", (SourceChunk(code, "solution.py", "solution.py"),)
    )
