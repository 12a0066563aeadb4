"""Linear and logistic regression, forward and backward (exercises 3, 4, 7 and 12)."""

from __future__ import annotations

import numpy as np

from reference.activations import sigmoid
from reference.losses import mse_loss


def univariate_forward(x: np.ndarray, w: float, b: float) -> np.ndarray:
    return w * np.asarray(x, dtype=np.float64) + b


def univariate_backward(x: np.ndarray, y: np.ndarray, w: float, b: float) -> tuple[float, float]:
    m = x.shape[1]
    residual = univariate_forward(x, w, b) - y
    dw = 2.0 / m * np.sum(residual * x)
    db = 2.0 / m * np.sum(residual)
    return float(dw), float(db)


def multivariate_forward(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return w @ X + b


def multivariate_backward(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float
) -> tuple[np.ndarray, float]:
    m = X.shape[1]
    residual = multivariate_forward(X, w, b) - y
    dw = 2.0 / m * residual @ X.T
    db = 2.0 / m * np.sum(residual)
    return dw, float(db)


def logistic_forward(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return sigmoid(w @ X + b)


def logistic_backward(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float
) -> tuple[np.ndarray, float]:
    m = X.shape[1]
    dz = (logistic_forward(X, w, b) - y) / m
    return dz @ X.T, float(np.sum(dz))


def gradient_descent(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, lr: float, steps: int
) -> tuple[np.ndarray, float, list[float]]:
    """Plain gradient descent on the MSE of multivariate regression.

    losses[i] is the loss before update i.
    """
    w = np.array(w, dtype=np.float64)
    b = float(b)
    losses = []
    for _ in range(steps):
        losses.append(mse_loss(multivariate_forward(X, w, b), y))
        dw, db = multivariate_backward(X, y, w, b)
        w = w - lr * dw
        b = b - lr * db
    return w, b, losses
