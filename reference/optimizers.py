"""Parameter updates and minibatching (exercise 11). Every function returns new dicts."""

from __future__ import annotations

import math

import numpy as np

Params = dict[str, np.ndarray]


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    return {key: params[key] - lr * grads[key] for key in params}


def momentum_step(
    params: Params, grads: Params, velocity: Params, lr: float, beta: float
) -> tuple[Params, Params]:
    new_velocity = {key: beta * velocity[key] + (1 - beta) * grads[key] for key in params}
    new_params = {key: params[key] - lr * new_velocity[key] for key in params}
    return new_params, new_velocity


def rmsprop_step(
    params: Params, grads: Params, sq: Params, lr: float, beta: float, eps: float
) -> tuple[Params, Params]:
    new_sq = {key: beta * sq[key] + (1 - beta) * grads[key] ** 2 for key in params}
    new_params = {
        key: params[key] - lr * grads[key] / (np.sqrt(new_sq[key]) + eps) for key in params
    }
    return new_params, new_sq


def adam_step(
    params: Params,
    grads: Params,
    m: Params,
    v: Params,
    t: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> tuple[Params, Params, Params]:
    new_m = {key: beta1 * m[key] + (1 - beta1) * grads[key] for key in params}
    new_v = {key: beta2 * v[key] + (1 - beta2) * grads[key] ** 2 for key in params}
    new_params = {}
    for key in params:
        m_hat = new_m[key] / (1 - beta1**t)
        v_hat = new_v[key] / (1 - beta2**t)
        new_params[key] = params[key] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_params, new_m, new_v


def minibatches(
    X: np.ndarray, Y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray]]:
    m = X.shape[1]
    order = rng.permutation(m)
    X, Y = X[:, order], Y[:, order]
    return [
        (X[:, i * batch_size : (i + 1) * batch_size], Y[:, i * batch_size : (i + 1) * batch_size])
        for i in range(math.ceil(m / batch_size))
    ]
