from __future__ import annotations

import numpy as np

import reference as ref
from exercises.ex05_two_layer_linear import TWO_LAYER_SIZES, mse_of_forward, two_layer_params
from exercises.sampling import dict_pairs, spread
from exercises.spec import Exercise, FunctionSpec, GradientSpec, Instance


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


EXERCISE = Exercise(
    number=6,
    name="two_layer_sigmoid",
    title="Two-layer network with a sigmoid hidden layer",
    source="seed 000, two-layer nonlinear network",
    statement=(
        "Same parameters as `two_layer_linear`. `Z = W1 @ X + b1`; `A = sigma(Z)`; "
        "`y_hat = W2 @ A + b2`; mean squared error."
    ),
    functions=(
        FunctionSpec("sigmoid2_forward", ("X", "params"), "y_hat (1, m)", points=1),
        FunctionSpec(
            "sigmoid2_backward",
            ("X", "y", "params"),
            "grads: dict with keys W1, b1, W2, b2",
            points=3,
            gradient=GradientSpec(
                loss=lambda a: ref.mse_loss(ref.sigmoid2_forward(a["X"], a["params"]), a["y"]),
                pairs=dict_pairs("params"),
                forward="sigmoid2_forward",
                loss_of_forward=mse_of_forward,
            ),
        ),
    ),
    generate=generate,
)
