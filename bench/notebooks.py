"""The class of notebooks the batch benchmark grades, generated from ``submissions/``.

Every sample (the correct ones and each one-bug variant) becomes a notebook: a ``.ipynb``
sample is copied as it is, a ``.py`` sample is split into one code cell per top-level
statement.  Samples are used in turn until the class has the requested size.  One sample is
left out by default: ``bug_gd_infinite_loop`` spends its whole call time limit (5 s) by
design, so it measures ``Limits.call_seconds``, not the grader (its cost is reported apart).
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "submissions"
SLOW_BY_DESIGN = ("bug_gd_infinite_loop",)


def samples(exclude: tuple[str, ...] = SLOW_BY_DESIGN) -> list[Path]:
    found = sorted(SAMPLES.glob("*.py")) + sorted(SAMPLES.glob("*.ipynb"))
    return sorted(p for p in found if not p.name.startswith("_") and p.stem not in exclude)


def py_to_cells(source: str) -> list[str]:
    """One cell per top-level statement (decorators and leading comments included)."""
    lines = source.splitlines(keepends=True)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [source]
    starts = []
    for node in tree.body:
        decorators = getattr(node, "decorator_list", [])
        starts.append(min([node.lineno] + [d.lineno for d in decorators]))
    if not starts:
        return [source]
    starts[0] = 1
    bounds = starts + [len(lines) + 1]
    return ["".join(lines[a - 1 : b - 1]) for a, b in zip(bounds, bounds[1:], strict=False)]


def notebook(cells: list[str]) -> dict:
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": code.splitlines(keepends=True),
            }
            for i, code in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def make_class(
    folder: Path, count: int = 200, exclude: tuple[str, ...] = SLOW_BY_DESIGN
) -> list[Path]:
    """Write ``count`` notebooks ``student_NNN.ipynb`` into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    pool = samples(exclude)
    out = []
    for i in range(count):
        sample = pool[i % len(pool)]
        target = folder / f"student_{i:03d}.ipynb"
        if sample.suffix == ".ipynb":
            shutil.copyfile(sample, target)
        else:
            text = sample.read_text(encoding="utf-8")
            target.write_text(json.dumps(notebook(py_to_cells(text)), indent=1), encoding="utf-8")
        out.append(target)
    return out
