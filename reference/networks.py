"""Two-layer and deep networks, forward and backward (exercises 5, 6, 8 and 9)."""

from __future__ import annotations

import numpy as np

from reference.activations import relu, relu_grad, sigmoid, sigmoid_grad

Params = dict[str, np.ndarray]


def linear2_forward(X: np.ndarray, params: Params) -> np.ndarray:
    Z = params["W1"] @ X + params["b1"]
    return params["W2"] @ Z + params["b2"]


def linear2_backward(X: np.ndarray, y: np.ndarray, params: Params) -> Params:
    m = X.shape[1]
    Z = params["W1"] @ X + params["b1"]
    dY = 2.0 / m * (params["W2"] @ Z + params["b2"] - y)
    dZ = params["W2"].T @ dY
    return {
        "W1": dZ @ X.T,
        "b1": np.sum(dZ, axis=1, keepdims=True),
        "W2": dY @ Z.T,
        "b2": float(np.sum(dY)),
    }


def sigmoid2_forward(X: np.ndarray, params: Params) -> np.ndarray:
    A = sigmoid(params["W1"] @ X + params["b1"])
    return params["W2"] @ A + params["b2"]


def sigmoid2_backward(X: np.ndarray, y: np.ndarray, params: Params) -> Params:
    m = X.shape[1]
    Z = params["W1"] @ X + params["b1"]
    A = sigmoid(Z)
    dY = 2.0 / m * (params["W2"] @ A + params["b2"] - y)
    dZ = (params["W2"].T @ dY) * sigmoid_grad(Z)
    return {
        "W1": dZ @ X.T,
        "b1": np.sum(dZ, axis=1, keepdims=True),
        "W2": dY @ A.T,
        "b2": float(np.sum(dY)),
    }


def mlp_forward(X: np.ndarray, params: Params) -> np.ndarray:
    A1 = relu(params["W1"] @ X + params["b1"])
    return sigmoid(params["W2"] @ A1 + params["b2"])


def mlp_backward(X: np.ndarray, y: np.ndarray, params: Params) -> Params:
    """Sigmoid output with cross-entropy: dL/dZ2 collapses to (y_hat - y) / m."""
    m = X.shape[1]
    Z1 = params["W1"] @ X + params["b1"]
    A1 = relu(Z1)
    dZ2 = (sigmoid(params["W2"] @ A1 + params["b2"]) - y) / m
    dZ1 = (params["W2"].T @ dZ2) * relu_grad(Z1)
    return {
        "W1": dZ1 @ X.T,
        "b1": np.sum(dZ1, axis=1, keepdims=True),
        "W2": dZ2 @ A1.T,
        "b2": np.sum(dZ2, axis=1, keepdims=True),
    }


def layer_count(params: Params) -> int:
    return sum(1 for key in params if key.startswith("W"))


def deep_forward(X: np.ndarray, params: Params) -> np.ndarray:
    A = X
    for layer in range(1, layer_count(params) + 1):
        A = sigmoid(params[f"W{layer}"] @ A + params[f"b{layer}"])
    return A


def deep_backward(X: np.ndarray, Y: np.ndarray, params: Params) -> Params:
    m = X.shape[1]
    depth = layer_count(params)
    activations = [X]
    pre_activations = []
    for layer in range(1, depth + 1):
        Z = params[f"W{layer}"] @ activations[-1] + params[f"b{layer}"]
        pre_activations.append(Z)
        activations.append(sigmoid(Z))
    grads: Params = {}
    dA = 2.0 / m * (activations[-1] - Y)
    for layer in range(depth, 0, -1):
        dZ = dA * sigmoid_grad(pre_activations[layer - 1])
        grads[f"W{layer}"] = dZ @ activations[layer - 1].T
        grads[f"b{layer}"] = np.sum(dZ, axis=1, keepdims=True)
        dA = params[f"W{layer}"].T @ dZ
    return grads
