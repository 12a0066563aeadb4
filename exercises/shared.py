"""What several built-in exercises share, in one place: exercise modules never import each
other. The MSE loss and its mistakes (univariate and multivariate regression), the
two-layer parameter shapes and instances (two-layer linear, sigmoid and MLP), and the losses
a backward's own forward is differentiated through.
"""

from __future__ import annotations

import numpy as np

from exercises.answer_key import answer, ref
from grader.sampling import scalar, spread
from grader.spec import Args, FunctionSpec, Instance, Mistake

MSE_LOSS = FunctionSpec("mse_loss", ("y_hat", "y"), "float", points=1, solution=answer("mse_loss"))


# The mse_loss mistakes: the same function in both regression exercises.


def squared_errors(args: Args) -> np.ndarray:
    return (np.asarray(args["y_hat"], dtype=np.float64) - args["y"]) ** 2


def mse_sum_not_mean(args: Args) -> float:
    return float(np.sum(squared_errors(args)))


def mse_half_convention(args: Args) -> float:
    return ref.mse_loss(args["y_hat"], args["y"]) / 2.0


def mse_root(args: Args) -> float:
    return float(np.sqrt(ref.mse_loss(args["y_hat"], args["y"])))


MSE_MISTAKES = (
    Mistake(
        "mse_sum_not_mean",
        "mse_loss",
        "the squared errors summed but not divided by m",
        "The loss is a mean over the m examples: after summing the squared errors, divide "
        "by the number of columns.",
        variant=mse_sum_not_mean,
    ),
    Mistake(
        "mse_half_convention",
        "mse_loss",
        "the 1/(2m) convention instead of 1/m",
        "Some courses halve the MSE to tidy its derivative; this contract's loss has no 1/2 "
        "in front.",
        variant=mse_half_convention,
    ),
    Mistake(
        "mse_root",
        "mse_loss",
        "the root of the mean squared error (RMSE) instead of the MSE",
        "The loss is the mean of the squared errors itself; no square root is taken at the end.",
        variant=mse_root,
    ),
)


# (n, k, m): edge sizes, one square W1 (k == n) so a transposed gradient must be caught by value.
TWO_LAYER_SIZES = [(2, 3, 5), (1, 1, 1), (4, 4, 6), (3, 1, 8), (5, 2, 1), (1, 3, 4)]


def two_layer_params(rng: np.random.Generator, n: int, k: int, b2_as_array: bool) -> dict:
    b2 = spread(rng, (1, 1), 0.5) if b2_as_array else scalar(rng, 0.5)
    return {
        "W1": spread(rng, (k, n), 0.7),
        "b1": spread(rng, (k, 1), 0.5),
        "W2": spread(rng, (1, k), 0.7),
        "b2": b2,
    }


def two_layer_instances(rng: np.random.Generator) -> list[Instance]:
    instances = []
    for n, k, m in TWO_LAYER_SIZES:
        args = {
            "X": spread(rng, (n, m)),
            "y": spread(rng, (1, m)),
            "params": two_layer_params(rng, n, k, False),
        }
        instances.append(Instance(f"n={n}, k={k}, m={m}", args))
    return instances


def mse_of_forward(y_hat, args) -> float:
    return ref.mse_loss(y_hat, args["y"])


def bce_of_forward(y_hat, args) -> float:
    return ref.bce_loss(y_hat, args["y"])
