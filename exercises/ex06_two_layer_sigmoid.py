from __future__ import annotations

import numpy as np

from exercises.answer_key import answer, ref
from exercises.shared import mse_of_forward, two_layer_instances
from grader.sampling import dict_pairs
from grader.spec import Args, Exercise, FunctionSpec, GradientSpec, Mistake

# ------------------------------------------------------------------ known mistakes


def sigmoid2_cache(args: Args) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(Z, A, dY, dA): the forward values and the gradient reaching A."""
    X, y, params = args["X"], args["y"], args["params"]
    Z = params["W1"] @ X + params["b1"]
    A = ref.sigmoid(Z)
    dY = 2.0 / X.shape[1] * (params["W2"] @ A + params["b2"] - y)
    return Z, A, dY, params["W2"].T @ dY


def sigmoid2_grads(X: np.ndarray, A: np.ndarray, dY: np.ndarray, dZ: np.ndarray) -> dict:
    return {
        "W1": dZ @ X.T,
        "b1": np.sum(dZ, axis=1, keepdims=True),
        "W2": dY @ A.T,
        "b2": float(np.sum(dY)),
    }


def sigmoid_not_derivative(args: Args) -> dict:
    Z, A, dY, dA = sigmoid2_cache(args)
    return sigmoid2_grads(args["X"], A, dY, dA * ref.sigmoid(Z))


def derivative_at_activation(args: Args) -> dict:
    Z, A, dY, dA = sigmoid2_cache(args)
    return sigmoid2_grads(args["X"], A, dY, dA * ref.sigmoid_grad(A))


def sigmoid2_grad_formula_on_Z(args: Args) -> dict:
    Z, A, dY, dA = sigmoid2_cache(args)
    return sigmoid2_grads(args["X"], A, dY, dA * Z * (1.0 - Z))


def sigmoid2_missing_w2_backprop(args: Args) -> dict:
    Z, A, dY, _ = sigmoid2_cache(args)
    return sigmoid2_grads(args["X"], A, dY, dY * ref.sigmoid_grad(Z))


def sigmoid2_dW2_uses_Z(args: Args) -> dict:
    Z, A, dY, dA = sigmoid2_cache(args)
    return {**sigmoid2_grads(args["X"], A, dY, dA * ref.sigmoid_grad(Z)), "W2": dY @ Z.T}


def sigmoid2_b1_not_summed(args: Args) -> dict:
    Z, A, dY, dA = sigmoid2_cache(args)
    dZ = dA * ref.sigmoid_grad(Z)
    return {**sigmoid2_grads(args["X"], A, dY, dZ), "b1": dZ}


MISTAKES = (
    Mistake(
        "sigmoid_not_derivative",
        "sigmoid2_backward",
        "the sigmoid itself where its derivative belongs",
        "Going back through A = sigma(Z), multiply dL/dA by the slope sigma'(Z), not by the "
        "activation sigma(Z).",
        variant=sigmoid_not_derivative,
    ),
    Mistake(
        "derivative_at_activation",
        "sigmoid2_backward",
        "sigma' evaluated at the activation A instead of at the pre-activation Z",
        "sigmoid_grad expects the pre-activation Z; passing the cached A applies the sigmoid "
        "twice. Either call it on Z or use the activation-form shortcut directly on A.",
        variant=derivative_at_activation,
    ),
    Mistake(
        "sigmoid2_grad_formula_on_z",
        "sigmoid2_backward",
        "the shortcut a * (1 - a) applied to Z instead of to A",
        "The shortcut for sigma' is written in terms of the activation; the cached value it "
        "needs is A, not the pre-activation Z.",
        variant=sigmoid2_grad_formula_on_Z,
    ),
    Mistake(
        "sigmoid2_missing_w2_backprop",
        "sigmoid2_backward",
        "the gradient reaches the hidden layer without passing back through W2",
        "Between y_hat and A sits the second layer: carry dL/dy_hat back through W2 "
        "(transposed) before multiplying by the sigmoid's slope.",
        variant=sigmoid2_missing_w2_backprop,
    ),
    Mistake(
        "sigmoid2_dw2_uses_z",
        "sigmoid2_backward",
        "dW2 built from the pre-activation Z instead of the activation A",
        "The second layer multiplies the hidden activations, so dW2 pairs dL/dy_hat with the "
        "cached A, the output of the sigmoid.",
        variant=sigmoid2_dW2_uses_Z,
    ),
    Mistake(
        "sigmoid2_b1_not_summed",
        "sigmoid2_backward",
        "db1 not summed over the examples: shape (k, m) instead of (k, 1)",
        "b1 is added to every example, so its gradient sums dL/dZ along the examples axis "
        "and keeps one entry per hidden unit.",
        variant=sigmoid2_b1_not_summed,
    ),
)


EXERCISE = Exercise(
    number=6,
    name="two_layer_sigmoid",
    title="Two-layer network with a sigmoid hidden layer",
    source="seed 000, two-layer nonlinear network",
    statement=(
        '`X` has shape `(n, m)` (one example per column) and `y` `(1, m)`; `params = {"W1": '
        '(k, n), "b1": (k, 1), "W2": (1, k), "b2": float}` with `k` hidden units. Forward: `Z '
        "= W1 @ X + b1`, shape `(k, m)`; `A = sigma(Z)` with `sigma(z) = 1 / (1 + exp(-z))`; "
        "`y_hat = W2 @ A + b2`, shape `(1, m)`. Loss: the mean squared error `L = (1/m) * "
        "sum((y_hat - y)**2)`. `sigmoid2_backward` returns `grads`, a dict with the gradients "
        'of that loss `{"W1": dL/dW1, "b1": dL/db1, "W2": dL/dW2, "b2": dL/db2}`, each shaped '
        "like its parameter (`b2`'s a float)."
    ),
    functions=(
        FunctionSpec(
            "sigmoid2_forward",
            ("X", "params"),
            "y_hat (1, m)",
            points=1,
            solution=answer("sigmoid2_forward"),
        ),
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
            solution=answer("sigmoid2_backward"),
        ),
    ),
    generate=two_layer_instances,  # as the linear network: only the activation differs
    mistakes=MISTAKES,
)
