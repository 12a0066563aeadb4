"""Losses shared by several exercises."""

from __future__ import annotations

import numpy as np


def mse_loss(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error, summed over every entry and divided by the number of columns m."""
    y_hat = np.asarray(y_hat, dtype=np.float64)
    m = y_hat.shape[-1] if y_hat.ndim else 1
    return float(np.sum((y_hat - y) ** 2) / m)


def bce_loss(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Binary cross-entropy averaged over the m columns."""
    y_hat = np.asarray(y_hat, dtype=np.float64)
    m = y_hat.shape[-1] if y_hat.ndim else 1
    return float(-np.sum(y * np.log(y_hat) + (1.0 - y) * np.log1p(-y_hat)) / m)
