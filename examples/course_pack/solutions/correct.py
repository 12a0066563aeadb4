"""A correct submission for the course pack: tanh_activation and two_layer_tanh."""

import numpy as np


def tanh(z):
    z = np.asarray(z, dtype=np.float64)
    return np.tanh(z)


def tanh_grad(z):
    return 1.0 - tanh(z) ** 2


def tanh2_forward(X, params):
    A = tanh(params["W1"] @ X + params["b1"])
    return params["W2"] @ A + params["b2"]


def tanh2_backward(X, y, params):
    m = X.shape[1]
    A = tanh(params["W1"] @ X + params["b1"])
    y_hat = params["W2"] @ A + params["b2"]
    dY = 2.0 / m * (y_hat - y)
    dZ = (params["W2"].T @ dY) * (1.0 - A**2)
    return {
        "W1": dZ @ X.T,
        "b1": np.sum(dZ, axis=1, keepdims=True),
        "W2": dY @ A.T,
        "b2": float(np.sum(dY)),
    }
