from __future__ import annotations

import numpy as np

import reference as ref
from exercises.sampling import dict_pairs, spread
from exercises.spec import Exercise, FunctionSpec, GradientSpec, Instance

# Layer widths n_0 (features), n_1, ..., n_L, and m.
ARCHITECTURES = [
    ([3, 4, 2], 5),
    ([1, 1, 1], 1),
    ([2, 3, 3, 1], 6),
    ([4, 2, 5, 3, 2], 4),
    ([3, 3, 3], 3),
]


def deep_params(rng: np.random.Generator, widths: list[int]) -> dict:
    params = {}
    for layer in range(1, len(widths)):
        params[f"W{layer}"] = spread(rng, (widths[layer], widths[layer - 1]), 0.8)
        params[f"b{layer}"] = spread(rng, (widths[layer], 1), 0.5)
    return params


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = []
    for widths, m in ARCHITECTURES:
        args = {
            "X": spread(rng, (widths[0], m)),
            "Y": rng.uniform(0.1, 0.9, size=(widths[-1], m)),
            "params": deep_params(rng, widths),
        }
        instances.append(Instance(f"layers {widths}, m={m}", args))
    return instances


EXERCISE = Exercise(
    number=9,
    name="deep_network",
    title="A deep sigmoid network, layers called in series",
    source="seed 003, layers called in series",
    statement=(
        "`L >= 2` layers, `A_l = sigma(W_l @ A_{l-1} + b_l)`, `A_0 = X`, `y_hat = A_L`. "
        "`W_l` has shape `(n_l, n_{l-1})`, `b_l` `(n_l, 1)`. Targets `Y` `(n_L, m)`; "
        "MSE over all entries divided by `m`."
    ),
    functions=(
        FunctionSpec("deep_forward", ("X", "params"), "y_hat (n_L, m)", points=1),
        FunctionSpec(
            "deep_backward",
            ("X", "Y", "params"),
            "grads: dict with keys W1 ... WL, b1 ... bL",
            points=4,
            gradient=GradientSpec(
                loss=lambda a: ref.mse_loss(ref.deep_forward(a["X"], a["params"]), a["Y"]),
                pairs=dict_pairs("params"),
                forward="deep_forward",
                loss_of_forward=lambda y_hat, a: ref.mse_loss(y_hat, a["Y"]),
            ),
        ),
    ),
    generate=generate,
)
