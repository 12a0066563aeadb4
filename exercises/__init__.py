"""Exercise declarations: the single source of truth for what is graded and how.

Each module `exNN_<name>.py` in this package declares one `EXERCISE`; adding an exercise is
adding such a module. `EXERCISES` lists them in catalogue order; `get(name)` finds one.
"""

from __future__ import annotations

import importlib
import pkgutil

from exercises.spec import (
    Exercise,
    FunctionSpec,
    GradientSpec,
    Instance,
    Mistake,
    RngSeed,
    derive_seed,
)


def _declarations() -> tuple[Exercise, ...]:
    modules = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("ex"))
    found = [importlib.import_module(f"{__name__}.{name}").EXERCISE for name in modules]
    return tuple(sorted(found, key=lambda exercise: exercise.number))


EXERCISES: tuple[Exercise, ...] = _declarations()
_BY_NAME = {exercise.name: exercise for exercise in EXERCISES}


def get(name: str) -> Exercise:
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(_BY_NAME)
        raise KeyError(f"unknown exercise {name!r}; known exercises: {known}") from None


def names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


__all__ = [
    "EXERCISES",
    "Exercise",
    "FunctionSpec",
    "GradientSpec",
    "Instance",
    "Mistake",
    "RngSeed",
    "derive_seed",
    "get",
    "names",
]
