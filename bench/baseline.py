"""The bare baseline: the same student code and the same reference comparisons, no grader.

One plain Python process, no sandbox, no isolation, no reports: read the notebook (code cells,
IPython lines blanked), ``exec`` its cells in one namespace, then for every function of the
12 exercises and every instance the grader would use (same seed), call the student's
function, compute the answer key's output and compare the two.  No diagnoses, no gradient
checks, no mutation checks: the least work that still runs the same code and makes the same
number of comparisons, so the ratio against ``grader check`` is an upper bound on our cost.

    python bench/baseline.py NOTEBOOK [NOTEBOOK ...]   # a subprocess: interpreter start included
    from bench.baseline import run_one                  # in-process, per submission
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

MAGIC_STARTS = ("%", "!", "?")


def cells_of(path: Path) -> list[str]:
    """The code of a notebook's code cells (a .py file is one cell)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return [text]
    out = []
    for cell in json.loads(text).get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        code = "".join(source) if isinstance(source, list) else source
        try:
            compile(code, "<cell>", "exec")
        except SyntaxError:
            lines = code.splitlines()
            code = "\n".join(
                line[: len(line) - len(line.lstrip())] + "pass"
                if line.lstrip().startswith(MAGIC_STARTS)
                else line
                for line in lines
            )
        out.append(code)
    return out


class _IPython:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def run_student(path: Path) -> dict[str, Any]:
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "display": lambda *a, **k: None,
        "get_ipython": lambda: _IPython(),
    }
    for code in cells_of(path):
        try:
            exec(compile(code, str(path), "exec"), namespace)
        except Exception:
            continue  # the grader keeps going too
    return namespace


def close(expected: Any, got: Any) -> bool:
    """A plain structural comparison with the grader's tolerances (rtol 1e-6, atol 1e-9)."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(close(v, got.get(k)) for k, v in expected.items())
    if isinstance(expected, tuple | list):
        return (
            isinstance(got, tuple | list)
            and len(got) == len(expected)
            and all(close(a, b) for a, b in zip(expected, got, strict=True))
        )
    try:
        e = np.asarray(expected, dtype=float)
        g = np.asarray(got, dtype=float)
        if e.shape != g.shape and e.size != 1:
            return False
        scale = float(np.max(np.abs(e), initial=0.0))
        return bool(np.max(np.abs(e - g), initial=0.0) <= 1e-9 + 1e-6 * scale)
    except (TypeError, ValueError):
        return False


def _materialise(value: Any, rng_type: type) -> Any:
    if isinstance(value, rng_type):
        return value.make()
    return copy.deepcopy(value)


def run_one(path: Path, seed: int | None = None) -> tuple[int, int]:
    """Run one submission against every exercise; returns (comparisons, passed)."""
    import exercises
    from exercises import RngSeed, derive_seed
    from exercises.answer_key import ref

    seed = derive_seed("", "") if seed is None else seed
    namespace = run_student(path)
    comparisons = passed = 0
    for exercise in exercises.EXERCISES:
        instances = exercise.instances(seed)
        for spec in exercise.functions:
            student = namespace.get(spec.name)
            reference = getattr(ref, spec.name)
            for instance in instances:
                comparisons += 1
                args = [_materialise(instance.args[p], RngSeed) for p in spec.params]
                expected = reference(*args)
                if not callable(student):
                    continue
                try:
                    got = student(*(_materialise(instance.args[p], RngSeed) for p in spec.params))
                except Exception:
                    continue
                passed += close(expected, got)
    return comparisons, passed


def main(argv: list[str]) -> int:
    for name in argv:
        comparisons, passed = run_one(Path(name))
        print(f"{name}: {passed}/{comparisons} comparisons passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
