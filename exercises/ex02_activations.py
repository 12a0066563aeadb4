from __future__ import annotations

import numpy as np

import reference as ref
from exercises.spec import Exercise, FunctionSpec, GradientSpec, Instance

SHAPES = [(3, 4), (1, 1), (5,), (2, 3, 2), (1, 6)]


def smooth_values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Moderate values away from ReLU's kink, where derivatives can be checked numerically."""
    values = rng.uniform(0.05, 4.0, size=shape)
    return values * rng.choice([-1.0, 1.0], size=shape)


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = [
        Instance(f"z of shape {shape}", {"z": smooth_values(rng, shape)}) for shape in SHAPES
    ]
    extremes = np.array([[-1000.0, -40.0, -1.0, 0.0], [0.0, 2.5, 40.0, 1000.0]])
    instances.append(Instance("z with exact zeros and |z| up to 1000", {"z": extremes}, False))
    instances.append(Instance("0-d z", {"z": np.array(abs(smooth_values(rng, ())))}))
    return instances


EXERCISE = Exercise(
    number=2,
    name="activations",
    title="Activation functions and their derivatives",
    source="conventions of EXERCISES.md; seeds 000 and 002",
    statement=(
        "`z` is an ndarray of any shape; each function returns an array of the same shape. "
        "`sigmoid` must not overflow, warn or return nan for |z| up to 1000. "
        "`relu_grad` is 1 where z > 0, else 0."
    ),
    functions=(
        FunctionSpec("sigmoid", ("z",), "array shaped like z", points=1),
        FunctionSpec(
            "sigmoid_grad",
            ("z",),
            "sigma(z) * (1 - sigma(z)), shaped like z",
            points=1,
            gradient=GradientSpec(
                loss=lambda a: float(np.sum(ref.sigmoid(a["z"]))),
                pairs=lambda a: [((), ("z",))],
                forward="sigmoid",
                loss_of_forward=lambda out, a: float(np.sum(out)),
            ),
        ),
        FunctionSpec("relu", ("z",), "array shaped like z", points=1),
        FunctionSpec(
            "relu_grad",
            ("z",),
            "1 where z > 0 else 0, shaped like z",
            points=1,
            gradient=GradientSpec(
                loss=lambda a: float(np.sum(ref.relu(a["z"]))),
                pairs=lambda a: [((), ("z",))],
                forward="relu",
                loss_of_forward=lambda out, a: float(np.sum(out)),
            ),
        ),
    ),
    generate=generate,
)
