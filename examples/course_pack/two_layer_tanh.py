"""A two-layer network with a tanh hidden layer and a linear output, trained on the mean
squared error: the reference solution, the known mistakes and the declaration."""

from __future__ import annotations

import numpy as np

from grader.sampling import dict_pairs
from grader.spec import Args, Exercise, FunctionSpec, GradientSpec, Mistake

from ._common import mse_loss, mse_of_forward, tanh, two_layer_instances

# ------------------------------------------------------------------ reference solution


def tanh2_forward(X, params):
    """y_hat = W2 @ tanh(W1 @ X + b1) + b2, shape (1, m)."""
    A = tanh(params["W1"] @ X + params["b1"])
    return params["W2"] @ A + params["b2"]


def tanh2_backward(X, y, params):
    """The gradients of L = (1/m) * sum((y_hat - y)**2), keyed and shaped like params."""
    m = X.shape[1]
    A = tanh(params["W1"] @ X + params["b1"])
    dY = 2.0 / m * (params["W2"] @ A + params["b2"] - y)
    dZ = (params["W2"].T @ dY) * (1.0 - A**2)
    return {
        "W1": dZ @ X.T,
        "b1": np.sum(dZ, axis=1, keepdims=True),
        "W2": dY @ A.T,
        "b2": float(np.sum(dY)),
    }


def loss(args: Args) -> float:
    return mse_loss(tanh2_forward(args["X"], args["params"]), args["y"])


# ------------------------------------------------------------------ known mistakes


def cache(args: Args, scale: float = 2.0):
    """(Z, A, dY, dA) of the correct backward pass; `scale` replaces the 2 of 2/m."""
    X, y, params = args["X"], args["y"], args["params"]
    Z = params["W1"] @ X + params["b1"]
    A = tanh(Z)
    dY = scale / X.shape[1] * (params["W2"] @ A + params["b2"] - y)
    return Z, A, dY, params["W2"].T @ dY


def grads(X: np.ndarray, A: np.ndarray, dY: np.ndarray, dZ: np.ndarray) -> dict:
    return {
        "W1": dZ @ X.T,
        "b1": np.sum(dZ, axis=1, keepdims=True),
        "W2": dY @ A.T,
        "b2": float(np.sum(dY)),
    }


def forward_linear(args: Args) -> np.ndarray:
    params = args["params"]
    return params["W2"] @ (params["W1"] @ args["X"] + params["b1"]) + params["b2"]


def forward_tanh_after_output(args: Args) -> np.ndarray:
    return tanh(forward_linear(args))


def forward_sigmoid(args: Args) -> np.ndarray:
    params = args["params"]
    Z = params["W1"] @ args["X"] + params["b1"]
    return params["W2"] @ (0.5 * (1.0 + np.tanh(Z / 2.0))) + params["b2"]


def grad_not_squared(args: Args) -> dict:
    _, A, dY, dA = cache(args)
    return grads(args["X"], A, dY, dA * (1.0 - A))


def derivative_at_activation(args: Args) -> dict:
    _, A, dY, dA = cache(args)
    return grads(args["X"], A, dY, dA * (1.0 - tanh(A) ** 2))


def dW2_uses_Z(args: Args) -> dict:
    Z, A, dY, dA = cache(args)
    return {**grads(args["X"], A, dY, dA * (1.0 - A**2)), "W2": dY @ Z.T}


def missing_one_over_m(args: Args) -> dict:
    _, A, dY, dA = cache(args, 2.0 * args["X"].shape[1])
    return grads(args["X"], A, dY, dA * (1.0 - A**2))


def missing_w2_backprop(args: Args) -> dict:
    _, A, dY, _ = cache(args)
    return grads(args["X"], A, dY, dY * (1.0 - A**2))


MISTAKES = (
    Mistake(
        "tanh2_forward_no_activation",
        "tanh2_forward",
        "the hidden layer left linear: tanh never applied",
        "The hidden layer's output is the activation of Z, not Z itself: apply tanh before "
        "the second layer.",
        variant=forward_linear,
    ),
    Mistake(
        "tanh2_forward_tanh_on_output",
        "tanh2_forward",
        "tanh applied to the output instead of to the hidden layer",
        "The output layer is linear; the nonlinearity sits between the two layers.",
        variant=forward_tanh_after_output,
    ),
    Mistake(
        "tanh2_forward_sigmoid",
        "tanh2_forward",
        "the sigmoid as the hidden activation instead of tanh",
        "This network's hidden activation is tanh, which runs from -1 to 1.",
        variant=forward_sigmoid,
    ),
    Mistake(
        "tanh2_grad_not_squared",
        "tanh2_backward",
        "the slope of tanh taken as 1 - A instead of 1 - A**2",
        "Going back through A = tanh(Z), multiply dL/dA by the slope of tanh, written in "
        "terms of A: check its power.",
        variant=grad_not_squared,
    ),
    Mistake(
        "tanh2_derivative_at_activation",
        "tanh2_backward",
        "tanh' evaluated at the activation A instead of at the pre-activation Z",
        "1 - tanh(.)**2 takes the pre-activation; with the cached A, the shortcut is "
        "1 - A**2 directly, without applying tanh again.",
        variant=derivative_at_activation,
    ),
    Mistake(
        "tanh2_dw2_uses_z",
        "tanh2_backward",
        "dW2 built from the pre-activation Z instead of the activation A",
        "The second layer multiplies the hidden activations, so dW2 pairs dL/dy_hat with the "
        "cached A, the output of tanh.",
        variant=dW2_uses_Z,
    ),
    Mistake(
        "tanh2_missing_one_over_m",
        "tanh2_backward",
        "the 1/m of the mean missing from every gradient",
        "The loss averages over the m examples; the 1/m belongs in dL/dy_hat, where the "
        "backward pass starts, and from there reaches every gradient.",
        variant=missing_one_over_m,
    ),
    Mistake(
        "tanh2_missing_w2_backprop",
        "tanh2_backward",
        "the gradient reaches the hidden layer without passing back through W2",
        "Between y_hat and A sits the second layer: carry dL/dy_hat back through W2 "
        "(transposed) before multiplying by the slope of tanh.",
        variant=missing_w2_backprop,
    ),
)


EXERCISE = Exercise(
    number=14,
    name="two_layer_tanh",
    title="Two-layer network with a tanh hidden layer",
    source="course pack: the two-layer nonlinear network of seed 000, with tanh for sigma",
    statement=(
        '`X` has shape `(n, m)` (one example per column) and `y` `(1, m)`; `params = {"W1": '
        '(k, n), "b1": (k, 1), "W2": (1, k), "b2": float}` with `k` hidden units. Forward: '
        "`Z = W1 @ X + b1`, shape `(k, m)`; `A = tanh(Z)`; `y_hat = W2 @ A + b2`, shape "
        "`(1, m)`. Loss: the mean squared error `L = (1/m) * sum((y_hat - y)**2)`. "
        "`tanh2_backward` returns `grads`, a dict with the gradients of that loss "
        '`{"W1": dL/dW1, "b1": dL/db1, "W2": dL/dW2, "b2": dL/db2}`, each shaped like its '
        "parameter (`b2`'s a float). Recall `tanh'(z) = 1 - tanh(z)**2`."
    ),
    functions=(
        FunctionSpec(
            "tanh2_forward", ("X", "params"), "y_hat (1, m)", points=1, solution=tanh2_forward
        ),
        FunctionSpec(
            "tanh2_backward",
            ("X", "y", "params"),
            "grads: dict with keys W1, b1, W2, b2",
            points=3,
            gradient=GradientSpec(
                loss=loss,
                pairs=dict_pairs("params"),
                forward="tanh2_forward",
                loss_of_forward=mse_of_forward,
            ),
            solution=tanh2_backward,
        ),
    ),
    generate=two_layer_instances,
    mistakes=MISTAKES,
)
