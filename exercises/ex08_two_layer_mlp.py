from __future__ import annotations

import numpy as np

from exercises.answer_key import answer, ref
from exercises.shared import TWO_LAYER_SIZES, bce_of_forward, two_layer_params
from grader.sampling import binary_targets, dict_pairs, spread
from grader.spec import Args, Exercise, FunctionSpec, GradientSpec, Instance, Mistake

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


# ------------------------------------------------------------------ known mistakes


def mlp_cache(args: Args) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(Z1, A1, Z2, dZ2) of the correct backward pass."""
    X, y, params = args["X"], args["y"], args["params"]
    Z1 = params["W1"] @ X + params["b1"]
    A1 = ref.relu(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    return Z1, A1, Z2, (ref.sigmoid(Z2) - y) / X.shape[1]


def mlp_grads(args: Args, A1: np.ndarray, dZ2: np.ndarray, dZ1: np.ndarray) -> dict:
    return {
        "W1": dZ1 @ args["X"].T,
        "b1": np.sum(dZ1, axis=1, keepdims=True),
        "W2": dZ2 @ A1.T,
        "b2": np.sum(dZ2, axis=1, keepdims=True),
    }


def hidden_gradient(args: Args, dZ2: np.ndarray, Z1: np.ndarray) -> np.ndarray:
    return (args["params"]["W2"].T @ dZ2) * ref.relu_grad(Z1)


def mlp_forward_no_output_sigmoid(args: Args) -> np.ndarray:
    params = args["params"]
    return params["W2"] @ ref.relu(params["W1"] @ args["X"] + params["b1"]) + params["b2"]


def mlp_relu_derivative_forgotten(args: Args) -> dict:
    _, A1, _, dZ2 = mlp_cache(args)
    return mlp_grads(args, A1, dZ2, args["params"]["W2"].T @ dZ2)


def mlp_relu_not_derivative(args: Args) -> dict:
    Z1, A1, _, dZ2 = mlp_cache(args)
    return mlp_grads(args, A1, dZ2, (args["params"]["W2"].T @ dZ2) * ref.relu(Z1))


def mlp_output_sigmoid_derivative_again(args: Args) -> dict:
    Z1, A1, Z2, dZ2 = mlp_cache(args)
    dZ2 = dZ2 * ref.sigmoid_grad(Z2)
    return mlp_grads(args, A1, dZ2, hidden_gradient(args, dZ2, Z1))


def mlp_missing_one_over_m(args: Args) -> dict:
    Z1, A1, _, dZ2 = mlp_cache(args)
    dZ2 = dZ2 * args["X"].shape[1]
    return mlp_grads(args, A1, dZ2, hidden_gradient(args, dZ2, Z1))


def mlp_dW2_uses_Z1(args: Args) -> dict:
    Z1, A1, _, dZ2 = mlp_cache(args)
    return {**mlp_grads(args, A1, dZ2, hidden_gradient(args, dZ2, Z1)), "W2": dZ2 @ Z1.T}


def mlp_b2_not_summed(args: Args) -> dict:
    Z1, A1, _, dZ2 = mlp_cache(args)
    return {**mlp_grads(args, A1, dZ2, hidden_gradient(args, dZ2, Z1)), "b2": dZ2}


MISTAKES = (
    Mistake(
        "mlp_forward_no_output_sigmoid",
        "mlp_forward",
        "the output layer's sigmoid left out: y_hat is the raw score Z2",
        "The network ends in a probability: the output pre-activation Z2 still goes through "
        "the sigmoid.",
        variant=mlp_forward_no_output_sigmoid,
    ),
    Mistake(
        "mlp_relu_derivative_forgotten",
        "mlp_backward",
        "the ReLU's derivative left out on the way back to the hidden layer",
        "After carrying the gradient back through W2 you are at A1; one more chain-rule step, "
        "through A1 = relu(Z1), is needed to reach dL/dZ1.",
        variant=mlp_relu_derivative_forgotten,
    ),
    Mistake(
        "mlp_relu_not_derivative",
        "mlp_backward",
        "the ReLU itself where its derivative belongs",
        "Going back through A1 = relu(Z1), multiply by the ReLU's slope (a 0/1 mask of Z1), "
        "not by the activation values.",
        variant=mlp_relu_not_derivative,
    ),
    Mistake(
        "mlp_output_sigmoid_derivative_again",
        "mlp_backward",
        "sigma'(Z2) multiplied in on top of the simplified cross-entropy gradient",
        "With a sigmoid output and cross-entropy, dL/dZ2 already includes the sigmoid's "
        "slope: the sigma' factor cancels and must not be applied a second time.",
        variant=mlp_output_sigmoid_derivative_again,
    ),
    Mistake(
        "mlp_missing_one_over_m",
        "mlp_backward",
        "the 1/m of the mean missing from every gradient",
        "The loss averages over the m examples; the 1/m belongs in dL/dZ2, where the "
        "backward pass starts, and from there reaches every gradient.",
        variant=mlp_missing_one_over_m,
    ),
    Mistake(
        "mlp_dw2_uses_z1",
        "mlp_backward",
        "dW2 built from the pre-activation Z1 instead of the activation A1",
        "The output layer multiplies the hidden activations, so dW2 pairs dL/dZ2 with the "
        "cached A1, after the ReLU.",
        variant=mlp_dW2_uses_Z1,
    ),
    Mistake(
        "mlp_b2_not_summed",
        "mlp_backward",
        "db2 not summed over the examples: shape (1, m) instead of (1, 1)",
        "b2 is added to every example, so its gradient sums dL/dZ2 along the examples axis, "
        "keeping the (1, 1) shape of b2.",
        variant=mlp_b2_not_summed,
    ),
)


EXERCISE = Exercise(
    number=8,
    name="two_layer_mlp",
    title="Two-layer MLP: ReLU hidden layer, sigmoid output, cross-entropy",
    source="seed 002, one hidden ReLU layer",
    statement=(
        "`X` has shape `(n, m)` (one example per column) and labels `y` in {0, 1} `(1, m)`; "
        '`params = {"W1": (k, n), "b1": (k, 1), "W2": (1, k), "b2": (1, 1)}` with `k` hidden '
        "units. Forward: `Z1 = W1 @ X + b1`, shape `(k, m)`; `A1 = relu(Z1)` with `relu(z) = "
        "max(z, 0)` and `relu'(0) = 0`; `Z2 = W2 @ A1 + b2`; `y_hat = sigma(Z2)` with "
        "`sigma(z) = 1 / (1 + exp(-z))`, shape `(1, m)`. Loss: the binary cross-entropy `L = "
        "-(1/m) * sum(y*log(y_hat) + (1-y)*log(1-y_hat))`. `mlp_backward` returns `grads`, a "
        'dict with the gradients of that loss `{"W1": dL/dW1, "b1": dL/db1, "W2": dL/dW2, '
        '"b2": dL/db2}`, each shaped like its parameter.'
    ),
    functions=(
        FunctionSpec(
            "mlp_forward", ("X", "params"), "y_hat (1, m)", points=1, solution=answer("mlp_forward")
        ),
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
            solution=answer("mlp_backward"),
        ),
    ),
    generate=generate,
    mistakes=MISTAKES,
)
