from __future__ import annotations

import numpy as np

import reference as ref
from exercises.ex05_two_layer_linear import TWO_LAYER_SIZES, two_layer_params
from exercises.ex07_logistic_regression import bce_of_forward
from exercises.sampling import binary_targets, dict_pairs, spread
from exercises.spec import Exercise, FunctionSpec, GradientSpec, Instance

KINK_MARGIN = 1e-3


def trap_free(Z1: np.ndarray) -> bool:
    """No pre-activation near ReLU's kink, and no dead hidden unit (its gradients would be 0)."""
    return bool(np.min(np.abs(Z1)) >= KINK_MARGIN and np.all(np.max(Z1, axis=1) > 0))


def away_from_kink(rng: np.random.Generator, X: np.ndarray, params: dict) -> dict:
    """Resample the first layer until its pre-activations are trap-free."""
    while not trap_free(params["W1"] @ X + params["b1"]):
        W1, b1 = params["W1"], params["b1"]
        params = {**params, "W1": spread(rng, W1.shape, 0.7), "b1": spread(rng, b1.shape, 0.5)}
    return params


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = []
    for n, k, m in TWO_LAYER_SIZES:
        X = spread(rng, (n, m))
        params = away_from_kink(rng, X, two_layer_params(rng, n, k, True))
        instances.append(
            Instance(
                f"n={n}, k={k}, m={m}", {"X": X, "y": binary_targets(rng, m), "params": params}
            )
        )
    return instances


EXERCISE = Exercise(
    number=8,
    name="two_layer_mlp",
    title="Two-layer MLP: ReLU hidden layer, sigmoid output, cross-entropy",
    source="seed 002, one hidden ReLU layer",
    statement=(
        '`params = {"W1": (k, n), "b1": (k, 1), "W2": (1, k), "b2": (1, 1)}`. '
        "`Z1 = W1 @ X + b1`; `A1 = relu(Z1)`; `Z2 = W2 @ A1 + b2`; `y_hat = sigma(Z2)`; "
        "binary cross-entropy."
    ),
    functions=(
        FunctionSpec("mlp_forward", ("X", "params"), "y_hat (1, m)", points=1),
        FunctionSpec(
            "mlp_backward",
            ("X", "y", "params"),
            "grads: dict with keys W1, b1, W2, b2",
            points=3,
            gradient=GradientSpec(
                loss=lambda a: ref.bce_loss(ref.mlp_forward(a["X"], a["params"]), a["y"]),
                pairs=dict_pairs("params"),
                forward="mlp_forward",
                loss_of_forward=bce_of_forward,
            ),
        ),
    ),
    generate=generate,
)
