"""tanh and its derivative: the reference solution, the instances and the known mistakes,
next to the declaration they belong to."""

from __future__ import annotations

import numpy as np

from grader.spec import Args, Exercise, FunctionSpec, GradientSpec, Instance, Mistake

from ._common import moderate

# ------------------------------------------------------------------ reference solution


def tanh(z):
    """tanh(z) elementwise, as a new float64 array shaped like z."""
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_grad(z):
    """The derivative of tanh: 1 - tanh(z)**2, shaped like z."""
    return 1.0 - tanh(z) ** 2


# ------------------------------------------------------------------ instances

SHAPES = [(3, 4), (1, 1), (5,), (2, 3, 2), (1, 6)]


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = [Instance(f"z of shape {shape}", {"z": moderate(rng, shape)}) for shape in SHAPES]
    instances.append(Instance("0-d z", {"z": np.array(moderate(rng, ()))}))
    # Values only: exact zeros (tanh(0) = 0, tanh'(0) = 1) and |z| up to 20, where tanh is
    # saturated and finite differences of it carry no digits, so no gradient check here.
    edges = np.array([[-20.0, -6.0, -1.0, 0.0], [0.0, 1.0, 6.0, 20.0]])
    instances.append(Instance("z with exact zeros and |z| up to 20", {"z": edges}, False))
    return instances


# ------------------------------------------------------------------ known mistakes


def as_float(args: Args) -> np.ndarray:
    return np.asarray(args["z"], dtype=np.float64)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(z / 2.0))  # = 1 / (1 + exp(-z)), without overflow


MISTAKES = (
    Mistake(
        "tanh_is_sigmoid",
        "tanh",
        "the sigmoid instead of tanh",
        "tanh runs from -1 to 1 and is 0 at z = 0; the sigmoid runs from 0 to 1. Check which "
        "exponentials go in the numerator.",
        variant=lambda a: sigmoid(as_float(a)),
    ),
    Mistake(
        "tanh_half_argument",
        "tanh",
        "2 * sigma(z) - 1, which is tanh(z / 2)",
        "The identity linking tanh and the sigmoid rescales the argument as well as the "
        "output: check what the sigmoid is evaluated at.",
        variant=lambda a: 2.0 * sigmoid(as_float(a)) - 1.0,
    ),
    Mistake(
        "tanh_sign_flipped",
        "tanh",
        "the exponentials swapped in the numerator: -tanh(z)",
        "tanh increases with z; check the order of exp(z) and exp(-z) in the numerator.",
        variant=lambda a: -np.tanh(as_float(a)),
    ),
    Mistake(
        "tanh_grad_not_squared",
        "tanh_grad",
        "1 - tanh(z) instead of 1 - tanh(z)**2",
        "Differentiate tanh from its definition as a quotient: the tanh in the result "
        "appears squared.",
        variant=lambda a: 1.0 - np.tanh(as_float(a)),
    ),
    Mistake(
        "tanh_grad_is_tanh",
        "tanh_grad",
        "tanh itself where its derivative belongs",
        "tanh_grad must return the slope of tanh, which is largest at z = 0, not its value.",
        variant=lambda a: np.tanh(as_float(a)),
    ),
    Mistake(
        "tanh_grad_formula_on_z",
        "tanh_grad",
        "the formula 1 - a**2 applied to z instead of to a = tanh(z)",
        "The shortcut 1 - a**2 holds for the activation a: compute tanh(z) first.",
        variant=lambda a: 1.0 - as_float(a) ** 2,
    ),
    Mistake(
        "tanh_grad_sigmoid_shortcut",
        "tanh_grad",
        "the sigmoid's shortcut a * (1 - a) applied to a = tanh(z)",
        "a * (1 - a) is the slope of the sigmoid; tanh has a shortcut of its own in terms "
        "of its output.",
        variant=lambda a: np.tanh(as_float(a)) * (1.0 - np.tanh(as_float(a))),
    ),
)


EXERCISE = Exercise(
    number=13,
    name="tanh_activation",
    title="The tanh activation and its derivative",
    source="course pack: activation functions (the lecture after backpropagation)",
    statement=(
        "`z` is an ndarray of any shape (0-d included); both functions work elementwise and "
        "return a new float array of the same shape.\n"
        "- `tanh(z) = (exp(z) - exp(-z)) / (exp(z) + exp(-z))`, which runs from -1 to 1 "
        "(`np.tanh` is allowed).\n"
        "- `tanh_grad(z) = 1 - tanh(z)**2`, the derivative of `tanh`.\n"
        "Both are graded for |z| up to 20."
    ),
    functions=(
        FunctionSpec("tanh", ("z",), "array shaped like z", points=1, solution=tanh),
        FunctionSpec(
            "tanh_grad",
            ("z",),
            "1 - tanh(z)**2, shaped like z",
            points=1,
            gradient=GradientSpec(
                loss=lambda a: float(np.sum(tanh(a["z"]))),
                pairs=lambda a: [((), ("z",))],
                forward="tanh",
                loss_of_forward=lambda out, a: float(np.sum(out)),
            ),
            solution=tanh_grad,
        ),
    ),
    generate=generate,
    mistakes=MISTAKES,
)
