from __future__ import annotations

import numpy as np

import reference as ref
from exercises.sampling import dict_pairs, scalar, spread
from exercises.spec import Exercise, FunctionSpec, GradientSpec, Instance

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


def generate(rng: np.random.Generator) -> list[Instance]:
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


EXERCISE = Exercise(
    number=5,
    name="two_layer_linear",
    title="Two-layer linear network",
    source="seed 000, two-layer linear network",
    statement=(
        '`params = {"W1": (k, n), "b1": (k, 1), "W2": (1, k), "b2": float}`. '
        "`Z = W1 @ X + b1` `(k, m)`; `y_hat = W2 @ Z + b2` `(1, m)`; mean squared error."
    ),
    functions=(
        FunctionSpec("linear2_forward", ("X", "params"), "y_hat (1, m)", points=1),
        FunctionSpec(
            "linear2_backward",
            ("X", "y", "params"),
            "grads: dict with keys W1, b1, W2, b2",
            points=3,
            gradient=GradientSpec(
                loss=lambda a: ref.mse_loss(ref.linear2_forward(a["X"], a["params"]), a["y"]),
                pairs=dict_pairs("params"),
                forward="linear2_forward",
                loss_of_forward=mse_of_forward,
            ),
        ),
    ),
    generate=generate,
)
