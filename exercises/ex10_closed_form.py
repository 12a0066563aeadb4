from __future__ import annotations

import numpy as np

from exercises.answer_key import answer, ref
from grader.sampling import spread
from grader.spec import Args, Exercise, FunctionSpec, Instance, Mistake

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


# ------------------------------------------------------------------ known mistakes


def ascending_powers(args: Args) -> np.ndarray:
    return np.vander(np.asarray(args["x"], dtype=np.float64), args["degree"] + 1, increasing=True)


def poly_vander_n_is_degree(args: Args) -> np.ndarray:
    return np.vander(np.asarray(args["x"], dtype=np.float64), args["degree"])


def poly_missing_constant(args: Args) -> np.ndarray:
    return ref.polynomial_design_matrix(args["x"], args["degree"])[:, :-1]


def ones_column(X: np.ndarray) -> np.ndarray:
    return np.ones((X.shape[0], 1))


def features_not_reversed(args: Args) -> np.ndarray:
    X = np.asarray(args["X"], dtype=np.float64)
    return np.hstack([X, ones_column(X)])


def constant_column_first(args: Args) -> np.ndarray:
    X = np.asarray(args["X"], dtype=np.float64)
    return np.hstack([ones_column(X), X[:, ::-1]])


def constant_first_features_in_order(args: Args) -> np.ndarray:
    X = np.asarray(args["X"], dtype=np.float64)
    return np.hstack([ones_column(X), X])


def normal_equation_missing_gram_inverse(args: Args) -> np.ndarray:
    return args["X_D"].T @ args["y"]


def normal_equation_elementwise_inverse(args: Args) -> np.ndarray:
    X_D = args["X_D"]
    return (1.0 / (X_D.T @ X_D)) @ X_D.T @ args["y"]


MISTAKES = (
    Mistake(
        "ascending_powers",
        "polynomial_design_matrix",
        "columns in ascending powers (1, x, ..., x**degree) instead of descending",
        "The lecture's design matrix starts with the highest power and ends with the "
        "constant column; check the column order (np.vander's increasing flag).",
        variant=ascending_powers,
    ),
    Mistake(
        "poly_vander_n_is_degree",
        "polynomial_design_matrix",
        "one column short: degree columns instead of degree + 1",
        "A polynomial of degree d has d + 1 coefficients, powers d down to 0; np.vander's "
        "second argument is the number of columns, not the degree.",
        variant=poly_vander_n_is_degree,
    ),
    Mistake(
        "poly_missing_constant",
        "polynomial_design_matrix",
        "the constant column x**0 left out",
        "The powers run down to 0 inclusive: the last column is the constant one, which "
        "multiplies the intercept.",
        variant=poly_missing_constant,
    ),
    Mistake(
        "features_not_reversed",
        "multivariate_design_matrix",
        "features kept in their original order instead of reversed",
        "The lecture's design matrix lists the features from the last to the first, then "
        "the constant column; reverse the feature columns.",
        variant=features_not_reversed,
    ),
    Mistake(
        "constant_column_first",
        "multivariate_design_matrix",
        "the constant column placed first instead of last",
        "The features come first, in reverse order, and the column of ones comes last.",
        variant=constant_column_first,
    ),
    Mistake(
        "constant_first_features_in_order",
        "multivariate_design_matrix",
        "the textbook layout (ones, x_1, ..., x_d) instead of the lecture's",
        "This course uses the lecture's layout: the features from x_d down to x_1, then the "
        "column of ones at the end.",
        variant=constant_first_features_in_order,
    ),
    Mistake(
        "normal_equation_missing_gram_inverse",
        "normal_equation",
        "X_D^T y returned without the inverse of X_D^T X_D",
        "Setting the gradient of the squared error to zero gives a linear system in theta: "
        "X_D^T y is only its right-hand side, still to be solved with X_D^T X_D.",
        variant=normal_equation_missing_gram_inverse,
    ),
    Mistake(
        "normal_equation_elementwise_inverse",
        "normal_equation",
        "an entry-wise reciprocal of X_D^T X_D instead of its matrix inverse",
        "The inverse in the normal equation is a matrix inverse (or better, a linear solve); "
        "taking 1/x of every entry is something else.",
        variant=normal_equation_elementwise_inverse,
    ),
)


EXERCISE = Exercise(
    number=10,
    name="closed_form",
    title="Closed-form linear regression (normal equation)",
    source="seed 003, deriving linear regression",
    statement=(
        "Here, as in the lecture's design matrix, **rows** are examples.\n"
        "- `polynomial_design_matrix(x, degree)`: `x` has shape `(n,)` and `degree` is an "
        "int; `X_D` has shape `(n, degree + 1)`, with columns `x**degree, ..., x**1, 1`.\n"
        "- `multivariate_design_matrix(X)`: `X` has shape `(n, d)`; `X_D` has shape `(n, d + "
        "1)` with columns `x_d, x_{d-1}, ..., x_1, 1` (the features in reverse order, then a "
        "constant column).\n"
        "- `normal_equation(X_D, y)`: `X_D` has shape `(n, p)` and `y` `(n,)`; `theta`, shape "
        "`(p,)`, minimises `||y - X_D @ theta||^2`, i.e. `theta = (X_D^T X_D)^{-1} X_D^T y` "
        "(any numerically sound way to solve it is accepted)."
    ),
    functions=(
        FunctionSpec(
            "polynomial_design_matrix",
            ("x", "degree"),
            "X_D (n, degree + 1)",
            points=1,
            solution=answer("polynomial_design_matrix"),
        ),
        FunctionSpec(
            "multivariate_design_matrix",
            ("X",),
            "X_D (n, d + 1)",
            points=1,
            solution=answer("multivariate_design_matrix"),
        ),
        FunctionSpec(
            "normal_equation",
            ("X_D", "y"),
            "theta (p,)",
            points=2,
            solution=answer("normal_equation"),
        ),
    ),
    generate=generate,
    mistakes=MISTAKES,
)
