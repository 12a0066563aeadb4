from __future__ import annotations

import numpy as np

from exercises.answer_key import answer, ref
from grader.spec import Args, Exercise, FunctionSpec, GradientSpec, Instance, Mistake

SHAPES = [(3, 4), (1, 1), (5,), (2, 3, 2), (1, 6)]


def smooth_values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Moderate values away from ReLU's kink, where derivatives can be checked numerically."""
    values = rng.uniform(0.05, 4.0, size=shape)
    return values * rng.choice([-1.0, 1.0], size=shape)


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = [
        Instance(f"z of shape {shape}", {"z": smooth_values(rng, shape)}) for shape in SHAPES
    ]
    zeros = np.array([[-40.0, -2.5, -1.0, 0.0], [0.0, 1.0, 2.5, 40.0]])
    instances.append(Instance("z with exact zeros and |z| up to 40", {"z": zeros}, False))
    # The contract asks overflow-safety of sigmoid alone: a textbook sigmoid_grad written as
    # exp(-z) / (1 + exp(-z))**2 is correct and is not graded at |z| = 1000.
    extremes = np.array([[-1000.0, -700.0, -40.0, 0.0], [0.0, 40.0, 710.0, 1000.0]])
    instances.append(
        Instance(
            "|z| up to 1000 (sigmoid must not overflow)",
            {"z": extremes},
            gradient_check=False,
            functions=("sigmoid",),
        )
    )
    instances.append(Instance("0-d z", {"z": np.array(abs(smooth_values(rng, ())))}))
    return instances


# ------------------------------------------------------------------ known mistakes


def as_float(z: np.ndarray) -> np.ndarray:
    return np.asarray(z, dtype=np.float64)


def sigmoid_sign_flipped(args: Args) -> np.ndarray:
    return ref.sigmoid(-as_float(args["z"]))


def sigmoid_grad_is_sigmoid(args: Args) -> np.ndarray:
    return ref.sigmoid(args["z"])


def sigmoid_grad_formula_on_z(args: Args) -> np.ndarray:
    z = as_float(args["z"])
    return z * (1.0 - z)


def sigmoid_grad_mixed(args: Args) -> np.ndarray:
    z = as_float(args["z"])
    return ref.sigmoid(z) * (1.0 - z)


def relu_min_not_max(args: Args) -> np.ndarray:
    return np.minimum(as_float(args["z"]), 0.0)


def relu_returns_mask(args: Args) -> np.ndarray:
    return ref.relu_grad(args["z"])


def relu_grad_at_zero_is_one(args: Args) -> np.ndarray:
    return (as_float(args["z"]) >= 0).astype(np.float64)


def relu_grad_is_relu(args: Args) -> np.ndarray:
    return ref.relu(args["z"])


MISTAKES = (
    Mistake(
        "sigmoid_sign_flipped",
        "sigmoid",
        "the exponent's sign flipped: sigma(-z) instead of sigma(z)",
        "The sigmoid rises from 0 to 1 as z grows; check the sign inside the exponential "
        "of each branch.",
        variant=sigmoid_sign_flipped,
    ),
    Mistake(
        "sigmoid_grad_is_sigmoid",
        "sigmoid_grad",
        "the sigmoid itself where its derivative belongs",
        "sigmoid_grad must return the slope of the sigmoid, built from sigma(z) and "
        "1 - sigma(z), not the sigmoid's value.",
        variant=sigmoid_grad_is_sigmoid,
    ),
    Mistake(
        "sigmoid_grad_formula_on_z",
        "sigmoid_grad",
        "the formula a * (1 - a) applied to z instead of to a = sigma(z)",
        "The shortcut a * (1 - a) holds for the activation a, so compute sigma(z) first and "
        "use it in both factors.",
        variant=sigmoid_grad_formula_on_z,
    ),
    Mistake(
        "sigmoid_grad_mixed",
        "sigmoid_grad",
        "sigma(z) times (1 - z): the second factor uses z instead of sigma(z)",
        "Both factors of the derivative are written in terms of the sigmoid's output; "
        "check the second one.",
        variant=sigmoid_grad_mixed,
    ),
    Mistake(
        "relu_min_not_max",
        "relu",
        "min(z, 0) instead of max(z, 0)",
        "ReLU keeps the positive part of z and zeroes the rest; check which of min and max "
        "does that.",
        variant=relu_min_not_max,
    ),
    Mistake(
        "relu_returns_mask",
        "relu",
        "the 0/1 mask of positive entries instead of the activation",
        "relu passes positive values through unchanged; the 0/1 mask is its derivative, "
        "which belongs in relu_grad.",
        variant=relu_returns_mask,
    ),
    Mistake(
        "relu_grad_at_zero_is_one",
        "relu_grad",
        "relu'(0) taken as 1 instead of 0",
        "The contract fixes the derivative at the kink to 0: the comparison must be strict, "
        "so an exact zero gives 0.",
        variant=relu_grad_at_zero_is_one,
    ),
    Mistake(
        "relu_grad_is_relu",
        "relu_grad",
        "the ReLU itself where its derivative belongs",
        "The derivative of max(z, 0) is a step: it is constant on each side of 0 and does "
        "not grow with z.",
        variant=relu_grad_is_relu,
    ),
)


EXERCISE = Exercise(
    number=2,
    name="activations",
    title="Activation functions and their derivatives",
    source="the course conventions; seeds 000 and 002",
    statement=(
        "`z` is an ndarray of any shape (0-d included); each function works elementwise and "
        "returns a new float array of the same shape.\n"
        "- `sigmoid(z) = sigma(z) = 1 / (1 + exp(-z))`. It must not overflow, warn or return "
        "nan for |z| up to 1000 (only `sigmoid` is graded at such z; the other three are "
        "graded for |z| up to 40).\n"
        "- `sigmoid_grad(z) = sigma(z) * (1 - sigma(z))`, the derivative of the sigmoid.\n"
        "- `relu(z) = max(z, 0)`.\n"
        "- `relu_grad(z)`, the derivative of `relu`: 1 where z > 0, else 0 (so `relu'(0) = "
        "0`)."
    ),
    functions=(
        FunctionSpec(
            "sigmoid",
            ("z",),
            "array shaped like z",
            points=1,
            must_not_warn=True,
            solution=answer("sigmoid"),
            figure="activation",
        ),
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
            solution=answer("sigmoid_grad"),
            figure="activation",
        ),
        FunctionSpec(
            "relu",
            ("z",),
            "array shaped like z",
            points=1,
            solution=answer("relu"),
            figure="activation",
        ),
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
            solution=answer("relu_grad"),
            figure="activation",
        ),
    ),
    generate=generate,
    mistakes=MISTAKES,
)
