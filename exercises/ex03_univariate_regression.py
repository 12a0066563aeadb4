from __future__ import annotations

import numpy as np

from exercises.answer_key import answer, ref
from exercises.shared import MSE_LOSS, MSE_MISTAKES
from grader.sampling import positional_pairs, scalar, spread
from grader.spec import Args, Exercise, FunctionSpec, GradientSpec, Instance, Mistake

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


# ------------------------------------------------------------------ known mistakes
def univariate_residual(args: Args) -> np.ndarray:
    return ref.univariate_forward(args["x"], args["w"], args["b"]) - args["y"]


def univariate_forward_missing_b(args: Args) -> np.ndarray:
    return args["w"] * np.asarray(args["x"], dtype=np.float64)


def univariate_missing_factor_two(args: Args) -> tuple[float, float]:
    r, x = univariate_residual(args), args["x"]
    m = x.shape[1]
    return float(np.sum(r * x) / m), float(np.sum(r) / m)


def univariate_missing_one_over_m(args: Args) -> tuple[float, float]:
    r, x = univariate_residual(args), args["x"]
    return float(2.0 * np.sum(r * x)), float(2.0 * np.sum(r))


def univariate_dw_missing_x(args: Args) -> tuple[float, float]:
    r = univariate_residual(args)
    db = 2.0 / r.shape[1] * np.sum(r)
    return float(db), float(db)


def univariate_db_times_x(args: Args) -> tuple[float, float]:
    r, x = univariate_residual(args), args["x"]
    dw = 2.0 / x.shape[1] * np.sum(r * x)
    return float(dw), float(dw)


MISTAKES = (
    Mistake(
        "univariate_forward_missing_b",
        "univariate_forward",
        "the bias b left out of the prediction",
        "The model is a line with a slope and an intercept: the prediction needs both parameters.",
        variant=univariate_forward_missing_b,
    ),
    *MSE_MISTAKES,
    Mistake(
        "univariate_missing_factor_two",
        "univariate_backward",
        "the factor 2 from differentiating the square dropped",
        "Differentiate the square (y_hat - y)**2 with the power rule: the exponent comes "
        "down as a factor in both gradients.",
        variant=univariate_missing_factor_two,
    ),
    Mistake(
        "univariate_missing_one_over_m",
        "univariate_backward",
        "the 1/m of the mean missing from the gradients",
        "The loss averages over the m examples, so its gradients are averages too: the 1/m "
        "stays in front of each sum.",
        variant=univariate_missing_one_over_m,
    ),
    Mistake(
        "univariate_dw_missing_x",
        "univariate_backward",
        "dw computed without the inner derivative x",
        "By the chain rule dL/dw is dL/dy_hat times dy_hat/dw, and dy_hat/dw is x: each "
        "example's residual must be weighted by its x.",
        variant=univariate_dw_missing_x,
    ),
    Mistake(
        "univariate_db_times_x",
        "univariate_backward",
        "db weighted by x as if it were dw",
        "dy_hat/db is 1, not x: the bias gradient is the plain average of the residual "
        "term, with no input factor.",
        variant=univariate_db_times_x,
    ),
)


EXERCISE = Exercise(
    number=3,
    name="univariate_regression",
    title="Univariate linear regression",
    source="seed 000, univariate regression",
    statement=(
        "One feature, one example per column: `x` and `y` have shape `(1, m)`; `w` and `b` "
        "are floats. Forward: `y_hat = w * x + b`, shape `(1, m)`. Loss: the mean squared "
        "error `L = (1/m) * sum((y_hat - y)**2)`. `univariate_backward` returns the gradients "
        "of that loss, `dw = dL/dw` and `db = dL/db`, as floats."
    ),
    functions=(
        FunctionSpec(
            "univariate_forward",
            ("x", "w", "b"),
            "y_hat (1, m)",
            points=1,
            solution=answer("univariate_forward"),
        ),
        MSE_LOSS,
        FunctionSpec(
            "univariate_backward",
            ("x", "y", "w", "b"),
            "(dw, db) (floats)",
            points=2,
            outputs=("dw", "db"),
            gradient=GradientSpec(
                loss=lambda a: ref.mse_loss(ref.univariate_forward(a["x"], a["w"], a["b"]), a["y"]),
                pairs=positional_pairs("w", "b"),
                forward="univariate_forward",
                loss_of_forward=lambda y_hat, a: ref.mse_loss(y_hat, a["y"]),
            ),
            solution=answer("univariate_backward"),
        ),
    ),
    generate=generate,
    mistakes=MISTAKES,
)
