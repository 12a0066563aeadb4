"""Exercise declarations: the single source of truth for what is graded and how.

Each module `exNN_<name>.py` in this package declares one `EXERCISE`; adding an exercise is
adding such a module. `EXERCISES` lists them in catalogue order; `get(name)` finds one.
`CONVENTIONS` are what every statement of this pack takes for granted, stated once.
"""

from __future__ import annotations

import importlib
import pkgutil

from grader.spec import (
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


# The conventions every built-in exercise is stated under, as markdown list items: the one
# place they are written. `grader.contract` renders them at the top of docs/exercises.md,
# of every starter notebook and kit, and of `grader show`. A pack states its own conventions
# in the same form (see `grader.contract.conventions_for`).
CONVENTIONS: tuple[str, ...] = (
    "Data: one example per **column**. `X` has shape `(n, m)`: `n` features, `m` examples; "
    "targets `y` have shape `(1, m)` (an exercise that uses rows says so).",
    "Mean squared error over the `m` examples: `L = (1/m) * sum((y_hat - y)**2)`, summed "
    "over every entry, `m` being the number of columns.",
    "Binary cross-entropy: `L = -(1/m) * sum(y*log(y_hat) + (1-y)*log(1-y_hat))`.",
    "`sigma(z) = 1 / (1 + exp(-z))`; `relu(z) = max(z, 0)`, with `relu'(0) = 0`.",
    "A scalar (`w` with one feature, `b`, `db`, a loss) is a float, and any size-1 numeric "
    "form is accepted for it: a Python float, a numpy scalar, a 0-d or size-1 array. Every "
    "other array must have exactly the shape stated: a transposed or unsummed shape fails.",
    "Parameter dictionaries use the keys given; a gradient dictionary has the same keys and "
    "the same shapes as the parameter dictionary.",
    "No function may modify its inputs (arrays or dicts): return new arrays and new dicts.",
    "Plain numpy (no autograd library), float64 throughout.",
)

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
    "CONVENTIONS",
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
