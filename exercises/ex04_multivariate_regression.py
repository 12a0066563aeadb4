from __future__ import annotations

import numpy as np

from exercises.answer_key import answer, ref
from exercises.shared import MSE_LOSS, MSE_MISTAKES
from grader.sampling import positional_pairs, scalar, spread
from grader.spec import Args, Exercise, FunctionSpec, GradientSpec, Instance, Mistake

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


# ------------------------------------------------------------------ known mistakes


def multivariate_residual(args: Args) -> np.ndarray:
    return ref.multivariate_forward(args["X"], args["w"], args["b"]) - args["y"]


def multivariate_forward_missing_b(args: Args) -> np.ndarray:
    return args["w"] @ args["X"]


def scaled_gradients(args: Args, factor: float) -> tuple[np.ndarray, float]:
    """factor * residual @ X.T and factor * sum(residual): the gradients with any constant."""
    r = multivariate_residual(args)
    return factor * r @ args["X"].T, float(factor * np.sum(r))


def multivariate_missing_one_over_m(args: Args) -> tuple[np.ndarray, float]:
    return scaled_gradients(args, 2.0)


def multivariate_missing_factor_two(args: Args) -> tuple[np.ndarray, float]:
    return scaled_gradients(args, 1.0 / args["X"].shape[1])


def multivariate_m_from_wrong_axis(args: Args) -> tuple[np.ndarray, float]:
    return scaled_gradients(args, 2.0 / args["X"].shape[0])


def multivariate_db_not_summed(args: Args) -> tuple[np.ndarray, np.ndarray]:
    r = multivariate_residual(args)
    m = args["X"].shape[1]
    return 2.0 / m * r @ args["X"].T, 2.0 / m * r


MISTAKES = (
    Mistake(
        "multivariate_forward_missing_b",
        "multivariate_forward",
        "the bias b left out of the prediction",
        "The model is w @ X plus an intercept: the bias is added to every example's prediction.",
        variant=multivariate_forward_missing_b,
    ),
    *MSE_MISTAKES,
    Mistake(
        "multivariate_missing_one_over_m",
        "multivariate_backward",
        "the 1/m of the mean missing from the gradients",
        "The loss averages over the m examples, so dw and db are averages too: keep the 1/m "
        "in front of the sums over examples.",
        variant=multivariate_missing_one_over_m,
    ),
    Mistake(
        "multivariate_missing_factor_two",
        "multivariate_backward",
        "the factor 2 from differentiating the square dropped",
        "Differentiate the squared residual with the power rule: the exponent comes down as "
        "a factor in dL/dy_hat, and so in both gradients.",
        variant=multivariate_missing_factor_two,
    ),
    Mistake(
        "multivariate_m_from_wrong_axis",
        "multivariate_backward",
        "the gradients divided by the number of features n instead of the examples m",
        "X has one example per column: m is the size of its second axis, the first axis "
        "counts features.",
        variant=multivariate_m_from_wrong_axis,
    ),
    Mistake(
        "multivariate_db_not_summed",
        "multivariate_backward",
        "db left as one value per example instead of summed over the examples",
        "The bias is shared by every example, so its gradient adds up the per-example terms "
        "along the examples axis to a single number.",
        variant=multivariate_db_not_summed,
    ),
)


EXERCISE = Exercise(
    number=4,
    name="multivariate_regression",
    title="Multivariate linear regression",
    source="seed 000, multivariate regression",
    statement=(
        "`X` has shape `(n, m)` (n features, one example per column), `y` `(1, m)`, `w` `(1, "
        "n)`, and `b` is a float. Forward: `y_hat = w @ X + b`, shape `(1, m)`. Loss: the "
        "mean squared error `L = (1/m) * sum((y_hat - y)**2)`. `multivariate_backward` "
        "returns the gradients of that loss: `dw = dL/dw`, shape `(1, n)`, and `db = dL/db`, "
        "a float."
    ),
    functions=(
        FunctionSpec(
            "multivariate_forward",
            ("X", "w", "b"),
            "y_hat (1, m)",
            points=1,
            solution=answer("multivariate_forward"),
        ),
        MSE_LOSS,
        FunctionSpec(
            "multivariate_backward",
            ("X", "y", "w", "b"),
            "(dw (1, n), db float)",
            points=2,
            outputs=("dw", "db"),
            gradient=GradientSpec(
                loss=lambda a: ref.mse_loss(
                    ref.multivariate_forward(a["X"], a["w"], a["b"]), a["y"]
                ),
                pairs=positional_pairs("w", "b"),
                forward="multivariate_forward",
                loss_of_forward=lambda y_hat, a: ref.mse_loss(y_hat, a["y"]),
            ),
            solution=answer("multivariate_backward"),
        ),
    ),
    generate=generate,
    mistakes=MISTAKES,
)
