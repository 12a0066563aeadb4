from __future__ import annotations

import numpy as np

import reference as ref
from exercises.ex03_univariate_regression import MSE_LOSS
from exercises.sampling import positional_pairs, scalar, spread
from exercises.spec import Exercise, FunctionSpec, GradientSpec, Instance

SIZES = [(3, 5), (1, 4), (4, 1), (2, 12), (5, 5)]


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = []
    for n, m in SIZES:
        X = spread(rng, (n, m))
        w = spread(rng, (1, n), 0.5)
        y = spread(rng, (1, n)) @ X + rng.normal(0, 0.2, size=(1, m))
        args = {"X": X, "y": y, "w": w, "b": scalar(rng), "y_hat": spread(rng, (1, m))}
        instances.append(Instance(f"n={n}, m={m}", args))
    return instances


EXERCISE = Exercise(
    number=4,
    name="multivariate_regression",
    title="Multivariate linear regression",
    source="seed 000, multivariate regression",
    statement=(
        "`X` has shape `(n, m)`, `y` `(1, m)`, `w` `(1, n)`, `b` is a float; "
        "`y_hat = w @ X + b`; mean squared error loss."
    ),
    functions=(
        FunctionSpec("multivariate_forward", ("X", "w", "b"), "y_hat (1, m)", points=1),
        MSE_LOSS,
        FunctionSpec(
            "multivariate_backward",
            ("X", "y", "w", "b"),
            "(dw (1, n), db float)",
            points=2,
            gradient=GradientSpec(
                loss=lambda a: ref.mse_loss(
                    ref.multivariate_forward(a["X"], a["w"], a["b"]), a["y"]
                ),
                pairs=positional_pairs("w", "b"),
                forward="multivariate_forward",
                loss_of_forward=lambda y_hat, a: ref.mse_loss(y_hat, a["y"]),
            ),
        ),
    ),
    generate=generate,
)
