"""Exercise declarations: the single source of truth for what is graded and how.

`EXERCISES` lists every exercise in catalogue order; `get(name)` finds one.
"""

from __future__ import annotations

from exercises import (
    ex01_chain_rule,
    ex02_activations,
    ex03_univariate_regression,
    ex04_multivariate_regression,
    ex05_two_layer_linear,
    ex06_two_layer_sigmoid,
    ex07_logistic_regression,
    ex08_two_layer_mlp,
    ex09_deep_network,
    ex10_closed_form,
    ex11_optimizers,
    ex12_gradient_descent,
)
from exercises.spec import (
    Exercise,
    FunctionSpec,
    GradientSpec,
    Instance,
    Mistake,
    RngSeed,
    derive_seed,
)

EXERCISES: tuple[Exercise, ...] = tuple(
    module.EXERCISE
    for module in (
        ex01_chain_rule,
        ex02_activations,
        ex03_univariate_regression,
        ex04_multivariate_regression,
        ex05_two_layer_linear,
        ex06_two_layer_sigmoid,
        ex07_logistic_regression,
        ex08_two_layer_mlp,
        ex09_deep_network,
        ex10_closed_form,
        ex11_optimizers,
        ex12_gradient_descent,
    )
)
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
