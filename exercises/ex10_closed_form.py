from __future__ import annotations

import numpy as np

from exercises.sampling import spread
from exercises.spec import Exercise, FunctionSpec, Instance

MAX_CONDITION = (
    1e6  # of X_D^T X_D: keeps every correct solver (solve, inv, lstsq, pinv) within 1e-9
)


def well_conditioned(design: np.ndarray) -> bool:
    return bool(np.linalg.cond(design.T @ design) < MAX_CONDITION)


def polynomial_case(rng: np.random.Generator, n: int, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Points x of shape (n,) and their design matrix, well conditioned whenever n > degree."""
    while True:
        x = rng.uniform(-2.0, 2.0, size=n)
        X_D = np.vander(x, degree + 1)
        if n <= degree or well_conditioned(X_D):
            return x, X_D


def multivariate_case(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    while True:
        X = spread(rng, (n, d))
        X_D = np.hstack([X[:, ::-1], np.ones((n, 1))])
        if n <= d or well_conditioned(X_D):
            return X, X_D


def generate(rng: np.random.Generator) -> list[Instance]:
    """The normal equation alternates between polynomial and multivariate design matrices."""
    instances = []
    for i, (n, degree, d) in enumerate([(8, 2, 3), (12, 3, 1), (6, 1, 4), (20, 4, 2), (5, 2, 2)]):
        x, polynomial = polynomial_case(rng, n, degree)
        X, multivariate = multivariate_case(rng, n, d)
        X_D = polynomial if i % 2 == 0 else multivariate
        y = X_D @ spread(rng, (X_D.shape[1],)) + rng.normal(0.0, 0.1, size=n)
        args = {"x": x, "degree": degree, "X": X, "X_D": X_D, "y": y}
        instances.append(Instance(f"n={n}, degree={degree}, d={d}", args))
    _, X_D = polynomial_case(rng, 4, 1)
    single = {"x": spread(rng, (1,)), "degree": 2, "X": spread(rng, (1, 3)), "X_D": X_D}
    single["y"] = spread(rng, (4,))
    instances.append(Instance("n=1 example for the design matrices", single))
    return instances


EXERCISE = Exercise(
    number=10,
    name="closed_form",
    title="Closed-form linear regression (normal equation)",
    source="seed 003, deriving linear regression",
    statement=(
        "Here **rows** are examples. `polynomial_design_matrix(x, degree)`: `x` `(n,)`, "
        "columns `x**degree, ..., x**1, 1`. `multivariate_design_matrix(X)`: `X` `(n, d)`, "
        "columns `x_d, ..., x_1, 1`. `normal_equation(X_D, y)`: `theta` `(p,)` minimising "
        "`||y - X_D @ theta||^2`, i.e. `(X_D^T X_D)^{-1} X_D^T y`."
    ),
    functions=(
        FunctionSpec("polynomial_design_matrix", ("x", "degree"), "X_D (n, degree + 1)", points=1),
        FunctionSpec("multivariate_design_matrix", ("X",), "X_D (n, d + 1)", points=1),
        FunctionSpec("normal_equation", ("X_D", "y"), "theta (p,)", points=2),
    ),
    generate=generate,
)
