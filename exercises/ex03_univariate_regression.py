from __future__ import annotations

import numpy as np

import reference as ref
from exercises.sampling import positional_pairs, scalar, spread
from exercises.spec import Exercise, FunctionSpec, GradientSpec, Instance

SIZES = [1, 2, 7, 30, 5]


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = []
    for m in SIZES:
        x = spread(rng, (1, m), 2.0)
        w, b = scalar(rng), scalar(rng)
        y = 1.5 * x - 0.5 + rng.normal(0, 0.3, size=(1, m))
        args = {"x": x, "y": y, "w": w, "b": b, "y_hat": spread(rng, (1, m))}
        instances.append(Instance(f"m={m}", args))
    return instances


MSE_LOSS = FunctionSpec("mse_loss", ("y_hat", "y"), "float", points=1)

EXERCISE = Exercise(
    number=3,
    name="univariate_regression",
    title="Univariate linear regression",
    source="seed 000, univariate regression",
    statement=(
        "`x, y` have shape `(1, m)`; `w, b` are floats; `y_hat = w*x + b`; the loss is "
        "`L = (1/m) * sum((y_hat - y)**2)`."
    ),
    functions=(
        FunctionSpec("univariate_forward", ("x", "w", "b"), "y_hat (1, m)", points=1),
        MSE_LOSS,
        FunctionSpec(
            "univariate_backward",
            ("x", "y", "w", "b"),
            "(dw, db) (floats)",
            points=2,
            gradient=GradientSpec(
                loss=lambda a: ref.mse_loss(ref.univariate_forward(a["x"], a["w"], a["b"]), a["y"]),
                pairs=positional_pairs("w", "b"),
                forward="univariate_forward",
                loss_of_forward=lambda y_hat, a: ref.mse_loss(y_hat, a["y"]),
            ),
        ),
    ),
    generate=generate,
)
