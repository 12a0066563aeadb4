from __future__ import annotations

import numpy as np

from exercises.sampling import scalar, spread
from exercises.spec import Exercise, FunctionSpec, Instance

# (n, m, steps)
RUNS = [(2, 10, 20), (1, 1, 3), (3, 6, 1), (4, 25, 50), (2, 2, 5)]


def stable_learning_rate(X: np.ndarray) -> float:
    """A fifth of 1/L, where L is the largest curvature of the MSE in (w, b)."""
    augmented = np.vstack([X, np.ones((1, X.shape[1]))])
    curvature = 2.0 / X.shape[1] * np.linalg.eigvalsh(augmented @ augmented.T).max()
    return float(0.2 / curvature)


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = []
    for n, m, steps in RUNS:
        X = spread(rng, (n, m))
        y = spread(rng, (1, n)) @ X + 0.7 + rng.normal(0, 0.1, size=(1, m))
        args = {
            "X": X,
            "y": y,
            "w": spread(rng, (1, n), 0.5),
            "b": scalar(rng, 0.5),
            "lr": stable_learning_rate(X),
            "steps": steps,
        }
        instances.append(Instance(f"n={n}, m={m}, steps={steps}", args))
    return instances


EXERCISE = Exercise(
    number=12,
    name="gradient_descent",
    title="Training multivariate regression with gradient descent",
    source="seed 003, the gradient descent algorithm",
    statement=(
        "Multivariate linear regression trained by plain gradient descent: `steps` updates "
        "`p = p - lr * grad`; `losses` has length `steps`, `losses[i]` being the MSE before "
        "update `i`."
    ),
    functions=(
        FunctionSpec(
            "gradient_descent",
            ("X", "y", "w", "b", "lr", "steps"),
            "(w (1, n), b float, losses list of steps floats)",
            points=3,
        ),
    ),
    generate=generate,
)
