from __future__ import annotations

import numpy as np

from exercises.answer_key import answer, ref
from exercises.shared import mse_of_forward, two_layer_instances
from grader.sampling import dict_pairs
from grader.spec import Args, Exercise, FunctionSpec, GradientSpec, Mistake

# ------------------------------------------------------------------ known mistakes


def linear2_cache(args: Args, scale: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Z, dY, dZ) of the correct backward pass; `scale` replaces the 2 of 2/m."""
    X, y, params = args["X"], args["y"], args["params"]
    Z = params["W1"] @ X + params["b1"]
    dY = scale / X.shape[1] * (params["W2"] @ Z + params["b2"] - y)
    return Z, dY, params["W2"].T @ dY


def linear2_grads(X: np.ndarray, Z: np.ndarray, dY: np.ndarray, dZ: np.ndarray) -> dict:
    return {
        "W1": dZ @ X.T,
        "b1": np.sum(dZ, axis=1, keepdims=True),
        "W2": dY @ Z.T,
        "b2": float(np.sum(dY)),
    }


def linear2_missing_one_over_m(args: Args) -> dict:
    scaled = linear2_cache(args, 2.0 * args["X"].shape[1])
    return linear2_grads(args["X"], *scaled)


def linear2_missing_w2_backprop(args: Args) -> dict:
    Z, dY, _ = linear2_cache(args)
    return linear2_grads(args["X"], Z, dY, dY)


def linear2_dW2_uses_X(args: Args) -> dict:
    Z, dY, dZ = linear2_cache(args)
    return {**linear2_grads(args["X"], Z, dY, dZ), "W2": dY @ args["X"].T}


def linear2_b1_not_summed(args: Args) -> dict:
    Z, dY, dZ = linear2_cache(args)
    return {**linear2_grads(args["X"], Z, dY, dZ), "b1": dZ}


def linear2_b1_wrong_axis(args: Args) -> dict:
    Z, dY, dZ = linear2_cache(args)
    return {**linear2_grads(args["X"], Z, dY, dZ), "b1": np.sum(dZ, axis=0, keepdims=True)}


MISTAKES = (
    Mistake(
        "linear2_missing_one_over_m",
        "linear2_backward",
        "the 1/m of the mean missing from every gradient",
        "The loss averages over the m examples; the 1/m belongs in dL/dy_hat, where the "
        "backward pass starts, and from there reaches every gradient.",
        variant=linear2_missing_one_over_m,
    ),
    Mistake(
        "linear2_missing_w2_backprop",
        "linear2_backward",
        "the gradient reaches the hidden layer without passing back through W2",
        "Going from y_hat back to Z crosses the second layer: dL/dy_hat must be carried "
        "through W2 (transposed) to give one row per hidden unit before dW1 and db1.",
        variant=linear2_missing_w2_backprop,
    ),
    Mistake(
        "linear2_dw2_uses_x",
        "linear2_backward",
        "dW2 built from the input X instead of the hidden layer Z",
        "The second layer's input is the cached Z, not X: dW2 pairs dL/dy_hat with the "
        "values that W2 multiplies.",
        variant=linear2_dW2_uses_X,
    ),
    Mistake(
        "linear2_b1_not_summed",
        "linear2_backward",
        "db1 not summed over the examples: shape (k, m) instead of (k, 1)",
        "b1 is added to every example, so its gradient sums dL/dZ along the examples axis "
        "and keeps one entry per hidden unit.",
        variant=linear2_b1_not_summed,
    ),
    Mistake(
        "linear2_b1_wrong_axis",
        "linear2_backward",
        "db1 summed over the hidden units instead of over the examples",
        "Examples run along the columns of dL/dZ; sum along that axis and keep one entry "
        "per hidden unit, with keepdims for the (k, 1) shape.",
        variant=linear2_b1_wrong_axis,
    ),
)


EXERCISE = Exercise(
    number=5,
    name="two_layer_linear",
    title="Two-layer linear network",
    source="seed 000, two-layer linear network",
    statement=(
        '`X` has shape `(n, m)` (one example per column) and `y` `(1, m)`; `params = {"W1": '
        '(k, n), "b1": (k, 1), "W2": (1, k), "b2": float}` with `k` hidden units. Forward: `Z '
        "= W1 @ X + b1`, shape `(k, m)`; `y_hat = W2 @ Z + b2`, shape `(1, m)`. Loss: the "
        "mean squared error `L = (1/m) * sum((y_hat - y)**2)`. `linear2_backward` returns "
        '`grads`, a dict with the gradients of that loss `{"W1": dL/dW1, "b1": dL/db1, "W2": '
        'dL/dW2, "b2": dL/db2}`, each shaped like its parameter (`b2`\'s a float).'
    ),
    functions=(
        FunctionSpec(
            "linear2_forward",
            ("X", "params"),
            "y_hat (1, m)",
            points=1,
            solution=answer("linear2_forward"),
        ),
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
            solution=answer("linear2_backward"),
        ),
    ),
    generate=two_layer_instances,
    mistakes=MISTAKES,
)
