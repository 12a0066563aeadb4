from __future__ import annotations

import numpy as np

from exercises.sampling import spread
from exercises.spec import Exercise, FunctionSpec, Instance, RngSeed

LAYOUTS = [
    {"W1": (3, 2), "b1": (3, 1)},
    {"w": (1, 1)},
    {"W1": (4, 3), "b1": (4, 1), "W2": (1, 4), "b2": (1, 1)},
    {"W": (2, 2), "b": (2, 1)},
    {"w": (1, 5)},
]
# (m, batch_size): a partial last batch, exact division, m = 1, one batch larger than m, size 1.
BATCHING = [(10, 3), (8, 4), (1, 1), (5, 10), (7, 1)]


def state(rng: np.random.Generator, layout: dict, positive: bool = False) -> dict:
    values = {key: spread(rng, shape, 0.3) for key, shape in layout.items()}
    return {key: np.abs(v) for key, v in values.items()} if positive else values


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = []
    for t, (layout, (m, batch_size)) in zip(
        [1, 2, 7, 1, 30], zip(LAYOUTS, BATCHING, strict=True), strict=True
    ):
        n, k = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        args = {
            "params": state(rng, layout),
            "grads": state(rng, layout),
            "velocity": state(rng, layout),
            "sq": state(rng, layout, positive=True),
            "m": state(rng, layout),
            "v": state(rng, layout, positive=True),
            "t": t,
            "lr": float(rng.uniform(0.01, 0.3)),
            "beta": float(rng.uniform(0.8, 0.95)),
            "beta1": 0.9,
            "beta2": 0.999,
            "eps": 1e-8,
            "X": spread(rng, (n, m)),
            "Y": spread(rng, (k, m)),
            "batch_size": batch_size,
            "rng": RngSeed(int(rng.integers(2**31))),
        }
        label = f"keys {sorted(layout)}, t={t}, m={m}, batch_size={batch_size}"
        instances.append(Instance(label, args))
    return instances


EXERCISE = Exercise(
    number=11,
    name="optimizers",
    title="Optimizers: SGD, momentum, RMSprop, Adam and minibatches",
    source="seed 000, extended notes (optimization techniques)",
    statement=(
        "`params`, `grads` and every state (`velocity`, `sq`, `m`, `v`) are dicts with the "
        "same keys and shapes as `params`; each function returns new dicts. "
        "momentum: `v = beta*v + (1-beta)*g`; `p = p - lr*v`. "
        "RMSprop: `s = beta*s + (1-beta)*g**2`; `p = p - lr*g / (sqrt(s) + eps)`. "
        "Adam: `m = beta1*m + (1-beta1)*g`; `v = beta2*v + (1-beta2)*g**2`; "
        "`m_hat = m / (1 - beta1**t)`; `v_hat = v / (1 - beta2**t)`; "
        "`p = p - lr*m_hat / (sqrt(v_hat) + eps)`. `minibatches` shuffles the columns with "
        "`rng` and cuts them into `ceil(m / batch_size)` consecutive batches."
    ),
    functions=(
        FunctionSpec("sgd_step", ("params", "grads", "lr"), "params (dict)", points=1),
        FunctionSpec(
            "momentum_step",
            ("params", "grads", "velocity", "lr", "beta"),
            "(params, velocity)",
            points=1,
        ),
        FunctionSpec(
            "rmsprop_step", ("params", "grads", "sq", "lr", "beta", "eps"), "(params, sq)", points=1
        ),
        FunctionSpec(
            "adam_step",
            ("params", "grads", "m", "v", "t", "lr", "beta1", "beta2", "eps"),
            "(params, m, v)",
            points=2,
        ),
        FunctionSpec(
            "minibatches",
            ("X", "Y", "batch_size", "rng"),
            "list of (X_batch, Y_batch)",
            points=2,
            check="minibatches",
        ),
    ),
    generate=generate,
)
