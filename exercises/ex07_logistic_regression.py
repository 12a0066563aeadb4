from __future__ import annotations

import numpy as np

from exercises.answer_key import answer, ref
from exercises.shared import bce_of_forward
from grader.sampling import binary_targets, positional_pairs, probabilities, scalar, spread
from grader.spec import Args, Exercise, FunctionSpec, GradientSpec, Instance, Mistake

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


# ------------------------------------------------------------------ known mistakes


def logistic_forward_no_sigmoid(args: Args) -> np.ndarray:
    return args["w"] @ args["X"] + args["b"]


def bce_sum_not_mean(args: Args) -> float:
    return ref.bce_loss(args["y_hat"], args["y"]) * np.shape(args["y_hat"])[-1]


def bce_only_positive_term(args: Args) -> float:
    y_hat, y = np.asarray(args["y_hat"], dtype=np.float64), args["y"]
    return float(-np.sum(y * np.log(y_hat)) / y_hat.shape[-1])


def logistic_gradients(args: Args, dz: np.ndarray) -> tuple[np.ndarray, float]:
    return dz @ args["X"].T, float(np.sum(dz))


def logistic_error(args: Args) -> np.ndarray:
    """y_hat - y, the per-example derivative of the loss with respect to z (times m)."""
    return ref.logistic_forward(args["X"], args["w"], args["b"]) - args["y"]


def bce_y_swapped(args: Args) -> tuple[np.ndarray, float]:
    return logistic_gradients(args, -logistic_error(args) / args["X"].shape[1])


def logistic_missing_one_over_m(args: Args) -> tuple[np.ndarray, float]:
    return logistic_gradients(args, logistic_error(args))


def logistic_extra_sigmoid_derivative(args: Args) -> tuple[np.ndarray, float]:
    z = args["w"] @ args["X"] + args["b"]
    return logistic_gradients(args, logistic_error(args) * ref.sigmoid_grad(z) / z.shape[1])


def logistic_mse_gradient(args: Args) -> tuple[np.ndarray, float]:
    z = args["w"] @ args["X"] + args["b"]
    return logistic_gradients(args, 2.0 * logistic_error(args) * ref.sigmoid_grad(z) / z.shape[1])


MISTAKES = (
    Mistake(
        "logistic_forward_no_sigmoid",
        "logistic_forward",
        "the linear score returned without the sigmoid",
        "Logistic regression outputs a probability: the linear score w @ X + b still has to "
        "go through the sigmoid.",
        variant=logistic_forward_no_sigmoid,
    ),
    Mistake(
        "bce_sum_not_mean",
        "bce_loss",
        "the cross-entropy summed but not divided by m",
        "The loss is a mean over the m examples: divide the summed log-likelihood terms by "
        "the number of columns.",
        variant=bce_sum_not_mean,
    ),
    Mistake(
        "bce_only_positive_term",
        "bce_loss",
        "only the y * log(y_hat) term: the examples with y = 0 contribute nothing",
        "Each example contributes one of two terms; the one for the negative class uses "
        "1 - y and log(1 - y_hat).",
        variant=bce_only_positive_term,
    ),
    Mistake(
        "bce_y_swapped",
        "logistic_backward",
        "y - y_hat where y_hat - y belongs: both gradients point uphill",
        "Differentiate the cross-entropy through the sigmoid and check the order of the "
        "subtraction in dL/dz: a too-high prediction must give a positive gradient.",
        variant=bce_y_swapped,
    ),
    Mistake(
        "logistic_missing_one_over_m",
        "logistic_backward",
        "the 1/m of the mean missing from the gradients",
        "The loss averages over the m examples, so dL/dz carries a 1/m that reaches both dw "
        "and db.",
        variant=logistic_missing_one_over_m,
    ),
    Mistake(
        "logistic_extra_sigmoid_derivative",
        "logistic_backward",
        "sigma'(z) multiplied in on top of the simplified cross-entropy gradient",
        "With a sigmoid output and cross-entropy, dL/dz already includes the sigmoid's "
        "slope: the sigma'(z) factor cancels against dL/dy_hat and must not be applied again.",
        variant=logistic_extra_sigmoid_derivative,
    ),
    Mistake(
        "logistic_mse_gradient",
        "logistic_backward",
        "the gradient of the squared error, not of the cross-entropy",
        "This exercise's loss is the cross-entropy: dL/dy_hat comes from the log terms, not "
        "from a squared residual.",
        variant=logistic_mse_gradient,
    ),
)


EXERCISE = Exercise(
    number=7,
    name="logistic_regression",
    title="Logistic regression",
    source="seed 002 (L7 notes), extended notes of seed 000",
    statement=(
        "`X` has shape `(n, m)` (one example per column), labels `y` in {0, 1} `(1, m)`, `w` "
        "`(1, n)`, and `b` is a float. Forward: `y_hat = sigma(w @ X + b)` with `sigma(z) = 1 "
        "/ (1 + exp(-z))`, shape `(1, m)`. Loss: the binary cross-entropy `L = -(1/m) * "
        "sum(y*log(y_hat) + (1-y)*log(1-y_hat))`. `logistic_backward` returns the gradients "
        "of that loss: `dw = dL/dw`, shape `(1, n)`, and `db = dL/db`, a float."
    ),
    functions=(
        FunctionSpec(
            "logistic_forward",
            ("X", "w", "b"),
            "y_hat (1, m)",
            points=1,
            solution=answer("logistic_forward"),
        ),
        FunctionSpec("bce_loss", ("y_hat", "y"), "float", points=1, solution=answer("bce_loss")),
        FunctionSpec(
            "logistic_backward",
            ("X", "y", "w", "b"),
            "(dw (1, n), db float)",
            points=2,
            outputs=("dw", "db"),
            gradient=GradientSpec(
                loss=lambda a: ref.bce_loss(ref.logistic_forward(a["X"], a["w"], a["b"]), a["y"]),
                pairs=positional_pairs("w", "b"),
                forward="logistic_forward",
                loss_of_forward=bce_of_forward,
            ),
            solution=answer("logistic_backward"),
        ),
    ),
    generate=generate,
    mistakes=MISTAKES,
)
