from __future__ import annotations

import numpy as np

import reference as ref
from exercises.sampling import binary_targets, positional_pairs, probabilities, scalar, spread
from exercises.spec import Exercise, FunctionSpec, GradientSpec, Instance

SIZES = [(3, 6), (1, 1), (2, 9), (4, 2), (3, 3)]


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = []
    for n, m in SIZES:
        args = {
            "X": spread(rng, (n, m)),
            "y": binary_targets(rng, m),
            "w": spread(rng, (1, n), 0.5),
            "b": scalar(rng, 0.5),
            "y_hat": probabilities(rng, (1, m)),
        }
        instances.append(Instance(f"n={n}, m={m}", args))
    return instances


def bce_of_forward(y_hat, args) -> float:
    return ref.bce_loss(y_hat, args["y"])


EXERCISE = Exercise(
    number=7,
    name="logistic_regression",
    title="Logistic regression",
    source="seed 002 (L7 notes), extended notes of seed 000",
    statement=(
        "`X` `(n, m)`, `y` in {0, 1} `(1, m)`, `w` `(1, n)`, `b` float; "
        "`y_hat = sigma(w @ X + b)`; binary cross-entropy "
        "`L = -(1/m) * sum(y*log(y_hat) + (1-y)*log(1-y_hat))`."
    ),
    functions=(
        FunctionSpec("logistic_forward", ("X", "w", "b"), "y_hat (1, m)", points=1),
        FunctionSpec("bce_loss", ("y_hat", "y"), "float", points=1),
        FunctionSpec(
            "logistic_backward",
            ("X", "y", "w", "b"),
            "(dw (1, n), db float)",
            points=2,
            gradient=GradientSpec(
                loss=lambda a: ref.bce_loss(ref.logistic_forward(a["X"], a["w"], a["b"]), a["y"]),
                pairs=positional_pairs("w", "b"),
                forward="logistic_forward",
                loss_of_forward=bce_of_forward,
            ),
        ),
    ),
    generate=generate,
)
