"""A buggy submission for the course pack: tanh' written as 1 - tanh(z), in both exercises
(the known mistakes tanh_grad_not_squared and tanh2_grad_not_squared)."""

import numpy as np


def tanh(z):
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_grad(z):
    return 1.0 - tanh(z)  # should be squared


def tanh2_forward(X, params):
    A = tanh(params["W1"] @ X + params["b1"])
    return params["W2"] @ A + params["b2"]


def tanh2_backward(X, y, params):
    m = X.shape[1]
    A = tanh(params["W1"] @ X + params["b1"])
    dY = 2.0 / m * (params["W2"] @ A + params["b2"] - y)
    dZ = (params["W2"].T @ dY) * (1.0 - A)  # should be 1 - A**2
    return {
        "W1": dZ @ X.T,
        "b1": np.sum(dZ, axis=1, keepdims=True),
        "W2": dY @ A.T,
        "b2": float(np.sum(dY)),
    }
