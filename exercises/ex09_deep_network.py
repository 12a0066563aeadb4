from __future__ import annotations

from collections.abc import Callable

import numpy as np

from exercises.answer_key import answer, ref
from grader.sampling import dict_pairs, spread
from grader.spec import Args, Exercise, FunctionSpec, GradientSpec, Instance, Mistake

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


# ------------------------------------------------------------------ known mistakes
# Each backward mistake is the reference's backward loop with one step replaced.

# (dA, Z, A) of a layer -> dZ: how the gradient crosses that layer's sigmoid.
SigmoidStep = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def correct_sigmoid_step(dA: np.ndarray, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    return dA * ref.sigmoid_grad(Z)


def deep_backward_with(
    args: Args,
    sigmoid_step: SigmoidStep = correct_sigmoid_step,
    output_scale: float = 2.0,
    weights_input_offset: int = 1,
    propagate_dZ: bool = True,
) -> dict:
    """The backward pass of deep_network with one step changed by a keyword.

    output_scale replaces the 2 of 2/m in dL/dA_L; weights_input_offset chooses which
    activation dW_l pairs with (1: A_{l-1}, correct; 0: A_l); propagate_dZ False carries
    dA instead of dZ back to the previous layer.
    """
    X, Y, params = args["X"], args["Y"], args["params"]
    depth = ref.networks.layer_count(params)
    activations, pre_activations = [X], [None]
    for layer in range(1, depth + 1):
        pre_activations.append(params[f"W{layer}"] @ activations[-1] + params[f"b{layer}"])
        activations.append(ref.sigmoid(pre_activations[-1]))
    grads = {}
    dA = output_scale / X.shape[1] * (activations[-1] - Y)
    for layer in range(depth, 0, -1):
        dZ = sigmoid_step(dA, pre_activations[layer], activations[layer])
        grads[f"W{layer}"] = dZ @ activations[layer - weights_input_offset].T
        grads[f"b{layer}"] = np.sum(dZ, axis=1, keepdims=True)
        dA = params[f"W{layer}"].T @ (dZ if propagate_dZ else dA)
    return grads


def deep_forward_skips_last_layer(args: Args) -> np.ndarray:
    params, A = args["params"], args["X"]
    for layer in range(1, ref.networks.layer_count(params)):
        A = ref.sigmoid(params[f"W{layer}"] @ A + params[f"b{layer}"])
    return A


def deep_derivative_at_activation(args: Args) -> dict:
    return deep_backward_with(args, lambda dA, Z, A: dA * ref.sigmoid_grad(A))


def deep_sigmoid_not_derivative(args: Args) -> dict:
    return deep_backward_with(args, lambda dA, Z, A: dA * A)


def deep_missing_factor_two(args: Args) -> dict:
    return deep_backward_with(args, output_scale=1.0)


def deep_missing_one_over_m(args: Args) -> dict:
    return deep_backward_with(args, output_scale=2.0 * args["X"].shape[1])


def deep_dw_uses_layer_output(args: Args) -> dict:
    return deep_backward_with(args, weights_input_offset=0)


def deep_propagates_da_not_dz(args: Args) -> dict:
    return deep_backward_with(args, propagate_dZ=False)


MISTAKES = (
    Mistake(
        "deep_forward_skips_last_layer",
        "deep_forward",
        "the loop over layers stops one layer early",
        "Layers are numbered 1 to L and every one of them is applied: check the end of the "
        "range in the loop.",
        variant=deep_forward_skips_last_layer,
    ),
    Mistake(
        "deep_derivative_at_activation",
        "deep_backward",
        "sigma' evaluated at the activation A instead of at the pre-activation Z",
        "sigmoid_grad expects each layer's cached Z; passing A applies the sigmoid twice. "
        "Either call it on Z or use the activation-form shortcut directly on A.",
        variant=deep_derivative_at_activation,
    ),
    Mistake(
        "deep_sigmoid_not_derivative",
        "deep_backward",
        "the sigmoid itself where its derivative belongs",
        "Crossing a layer's sigmoid multiplies dL/dA by the slope sigma'(Z), not by the "
        "activation A.",
        variant=deep_sigmoid_not_derivative,
    ),
    Mistake(
        "deep_missing_factor_two",
        "deep_backward",
        "the factor 2 from differentiating the square dropped",
        "The backward pass starts at dL/dA_L, the derivative of the squared error: the "
        "power rule brings down a factor there.",
        variant=deep_missing_factor_two,
    ),
    Mistake(
        "deep_missing_one_over_m",
        "deep_backward",
        "the 1/m of the mean missing from every gradient",
        "The loss divides by the m examples; the 1/m belongs in dL/dA_L, where the backward "
        "pass starts, and from there reaches every layer.",
        variant=deep_missing_one_over_m,
    ),
    Mistake(
        "deep_dw_uses_layer_output",
        "deep_backward",
        "dW_l built from the layer's own output A_l instead of its input A_{l-1}",
        "W_l multiplies the previous layer's activation, so dW_l pairs dZ_l with the cached "
        "input of layer l, one index lower.",
        variant=deep_dw_uses_layer_output,
    ),
    Mistake(
        "deep_propagates_da_not_dz",
        "deep_backward",
        "dA, not dZ, carried back to the previous layer",
        "The gradient sent back through W_l to layer l-1 must already have crossed layer "
        "l's sigmoid: propagate the gradient after the sigmoid step, not the one before it.",
        variant=deep_propagates_da_not_dz,
    ),
)


EXERCISE = Exercise(
    number=9,
    name="deep_network",
    title="A deep sigmoid network, layers called in series",
    source="seed 003, layers called in series",
    statement=(
        "`L >= 2` sigmoid layers called in series: `A_0 = X`, `A_l = sigma(W_l @ A_{l-1} + "
        "b_l)` for `l = 1, ..., L` with `sigma(z) = 1 / (1 + exp(-z))`, and `y_hat = A_L`. "
        '`X` has shape `(n_0, m)` (one example per column); `params = {"W1": ..., "b1": ..., '
        '..., "WL": ..., "bL": ...}` with `W_l` of shape `(n_l, n_{l-1})` and `b_l` `(n_l, '
        "1)`; `L` is the number of `W` keys. Targets `Y` have shape `(n_L, m)`. Loss: the "
        "squared errors summed over every entry and divided by the number of examples, "
        "`Loss = (1/m) * sum((y_hat - Y)**2)`. `deep_backward` returns `grads`, a dict with "
        'the same keys as `params` holding the gradients of that loss (`grads["W1"] = '
        "dLoss/dW1`, ...), each shaped like its parameter."
    ),
    functions=(
        FunctionSpec(
            "deep_forward",
            ("X", "params"),
            "y_hat (n_L, m)",
            points=1,
            solution=answer("deep_forward"),
        ),
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
            solution=answer("deep_backward"),
        ),
    ),
    generate=generate,
    mistakes=MISTAKES,
)
