"""A correct solution of exercises 1-12 in a "one example at a time" style.

Backward passes accumulate per-example contributions with np.outer and np.dot instead of
whole-batch matrix products; scalars come back as plain Python floats.
"""

import numpy as np


# Exercise 1: chain rule
def chain_forward(a, b, c):
    """j = 3 * (a + b * c)."""
    return 3.0 * (a + b * c)


def chain_backward(a, b, c):
    """dj/da = 3, dj/db = 3c, dj/dc = 3b."""
    return 3.0, 3.0 * c, 3.0 * b


# Exercise 2: activations
def sigmoid(z):
    """1 / (1 + exp(-z)) = exp(-log(1 + exp(-z))), via logaddexp, which never overflows."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=float)))


def sigmoid_grad(z):
    """sigma'(z) = sigma(z) * sigma(-z), which equals sigma(z) * (1 - sigma(z))."""
    return sigmoid(z) * sigmoid(-np.asarray(z, dtype=float))


def relu(z):
    """z where z > 0, else 0."""
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, 0.0)


def relu_grad(z):
    """Heaviside step with value 0 at z = 0."""
    return np.heaviside(np.asarray(z, dtype=float), 0.0)


# Exercise 3: univariate regression
def univariate_forward(x, w, b):
    """Prediction for every example."""
    return w * x + b


def mse_loss(y_hat, y):
    """(1/m) * sum of squared errors, m = number of columns."""
    err = (np.asarray(y_hat) - np.asarray(y)).ravel()
    return float(np.dot(err, err)) / y.shape[1]


def univariate_backward(x, y, w, b):
    """Loop over examples, adding each example's share of the gradient."""
    m = x.shape[1]
    dw = 0.0
    db = 0.0
    for xi, yi in zip(x[0], y[0], strict=True):
        err = w * xi + b - yi
        dw += 2.0 * err * xi / m
        db += 2.0 * err / m
    return float(dw), float(db)


# Exercise 4: multivariate regression
def multivariate_forward(X, w, b):
    """w @ X + b written with np.dot."""
    return np.dot(w, X) + b


def multivariate_backward(X, y, w, b):
    """Per-example accumulation of dL/dw (1, n) and dL/db."""
    n, m = X.shape
    dw = np.zeros((1, n))
    db = 0.0
    for i in range(m):
        xi = X[:, i]
        err = float(np.dot(w[0], xi) + b - y[0, i])
        dw += 2.0 * err * xi[np.newaxis, :] / m
        db += 2.0 * err / m
    return dw, db


# Exercise 5: two-layer linear network
def linear2_forward(X, params):
    """Two stacked linear layers."""
    Z = np.dot(params["W1"], X) + params["b1"]
    return np.dot(params["W2"], Z) + params["b2"]


def linear2_backward(X, y, params):
    """Gradients accumulated example by example with outer products."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    grads = {"W1": np.zeros_like(W1), "b1": np.zeros_like(b1), "W2": np.zeros_like(W2), "b2": 0.0}
    for i in range(m):
        x = X[:, i]
        z = np.dot(W1, x) + b1[:, 0]
        y_hat = float(np.dot(W2[0], z) + b2)
        g = 2.0 * (y_hat - y[0, i]) / m
        dz = g * W2[0]
        grads["W2"] += g * z[np.newaxis, :]
        grads["b2"] += g
        grads["W1"] += np.outer(dz, x)
        grads["b1"] += dz[:, np.newaxis]
    return grads


# Exercise 6: two-layer sigmoid network
def sigmoid2_forward(X, params):
    """Linear, sigmoid, linear."""
    A = sigmoid(np.dot(params["W1"], X) + params["b1"])
    return np.dot(params["W2"], A) + params["b2"]


def sigmoid2_backward(X, y, params):
    """Per-example backprop through the sigmoid hidden layer."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    grads = {"W1": np.zeros_like(W1), "b1": np.zeros_like(b1), "W2": np.zeros_like(W2), "b2": 0.0}
    for i in range(m):
        x = X[:, i]
        z = np.dot(W1, x) + b1[:, 0]
        a = sigmoid(z)
        g = 2.0 * (float(np.dot(W2[0], a) + b2) - y[0, i]) / m
        dz = g * W2[0] * sigmoid_grad(z)
        grads["W2"] += g * a[np.newaxis, :]
        grads["b2"] += g
        grads["W1"] += np.outer(dz, x)
        grads["b1"] += dz[:, np.newaxis]
    return grads


# Exercise 7: logistic regression
def logistic_forward(X, w, b):
    """Probability of class 1 for every example."""
    return sigmoid(np.dot(w, X) + b)


def bce_loss(y_hat, y):
    """Mean binary cross-entropy over the m columns."""
    m = y.shape[1]
    per_example = y * np.log(y_hat) + (1.0 - y) * np.log(1.0 - y_hat)
    return -float(np.sum(per_example)) / m


def logistic_backward(X, y, w, b):
    """dL/dz = (y_hat - y) / m per example, then dw = dz . x and db = sum dz."""
    n, m = X.shape
    dw = np.zeros((1, n))
    db = 0.0
    for i in range(m):
        x = X[:, i]
        dz = (float(sigmoid(np.dot(w[0], x) + b)) - y[0, i]) / m
        dw[0] += dz * x
        db += dz
    return dw, float(db)


# Exercise 8: two-layer MLP
def mlp_forward(X, params):
    """ReLU hidden layer then a sigmoid output unit."""
    A1 = relu(np.dot(params["W1"], X) + params["b1"])
    return sigmoid(np.dot(params["W2"], A1) + params["b2"])


def mlp_backward(X, y, params):
    """Per-example backprop; b2 keeps its (1, 1) shape."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    grads = {key: np.zeros_like(value, dtype=float) for key, value in params.items()}
    for i in range(m):
        x = X[:, i]
        z1 = np.dot(W1, x) + b1[:, 0]
        a1 = relu(z1)
        y_hat = sigmoid(np.dot(W2[0], a1) + b2[0, 0])
        dz2 = (float(y_hat) - y[0, i]) / m
        dz1 = dz2 * W2[0] * relu_grad(z1)
        grads["W2"] += np.outer([dz2], a1)
        grads["b2"] += dz2
        grads["W1"] += np.outer(dz1, x)
        grads["b1"] += dz1[:, np.newaxis]
    return grads


# Exercise 9: deep sigmoid network
def _layer_names(params):
    L = len([key for key in params if key.startswith("W")])
    return [(f"W{l}", f"b{l}") for l in range(1, L + 1)]


def deep_forward(X, params):
    """Layers called in series."""
    A = X
    for W_name, b_name in _layer_names(params):
        A = sigmoid(np.dot(params[W_name], A) + params[b_name])
    return A


def deep_backward(X, Y, params):
    """Store every layer's input and output, then walk the layers backwards."""
    layers = _layer_names(params)
    m = X.shape[1]
    inputs, outputs = [], []
    A = X
    for W_name, b_name in layers:
        inputs.append(A)
        A = sigmoid(np.dot(params[W_name], A) + params[b_name])
        outputs.append(A)

    grads = {}
    dA = 2.0 * (A - Y) / m
    for (W_name, b_name), A_in, A_out in reversed(list(zip(layers, inputs, outputs, strict=True))):
        dZ = dA * A_out * (1.0 - A_out)
        grads[W_name] = np.dot(dZ, A_in.T)
        grads[b_name] = dZ.sum(axis=1, keepdims=True)
        dA = np.dot(params[W_name].T, dZ)
    return grads


# Exercise 10: closed form
def polynomial_design_matrix(x, degree):
    """Broadcast x against the powers degree, ..., 1, 0."""
    powers = np.arange(degree, -1, -1)
    return np.asarray(x, dtype=float)[:, np.newaxis] ** powers


def multivariate_design_matrix(X):
    """Reversed feature columns, then the constant column."""
    X = np.asarray(X, dtype=float)
    return np.c_[np.fliplr(X), np.ones(X.shape[0])]


def normal_equation(X_D, y):
    """theta = pinv(X_D) @ y, the least-squares solution."""
    return np.linalg.pinv(X_D) @ y


# Exercise 11: optimizers
def sgd_step(params, grads, lr):
    """Vanilla SGD; builds a new dict."""
    new_params = {}
    for key, value in params.items():
        new_params[key] = value - lr * grads[key]
    return new_params


def momentum_step(params, grads, velocity, lr, beta):
    """Exponential average of gradients, then a step along it."""
    new_params, new_velocity = {}, {}
    for key in params:
        new_velocity[key] = beta * velocity[key] + (1.0 - beta) * grads[key]
        new_params[key] = params[key] - lr * new_velocity[key]
    return new_params, new_velocity


def rmsprop_step(params, grads, sq, lr, beta, eps):
    """Divide each step by the root of a running average of squared gradients."""
    new_params, new_sq = {}, {}
    for key in params:
        g = grads[key]
        new_sq[key] = beta * sq[key] + (1.0 - beta) * np.square(g)
        new_params[key] = params[key] - lr * g / (np.sqrt(new_sq[key]) + eps)
    return new_params, new_sq


def adam_step(params, grads, m, v, t, lr, beta1, beta2, eps):
    """Adam with bias correction."""
    new_params, new_m, new_v = {}, {}, {}
    correction1 = 1.0 - beta1**t
    correction2 = 1.0 - beta2**t
    for key in params:
        g = grads[key]
        new_m[key] = beta1 * m[key] + (1.0 - beta1) * g
        new_v[key] = beta2 * v[key] + (1.0 - beta2) * np.square(g)
        step = (new_m[key] / correction1) / (np.sqrt(new_v[key] / correction2) + eps)
        new_params[key] = params[key] - lr * step
    return new_params, new_m, new_v


def minibatches(X, Y, batch_size, rng):
    """Shuffled column indices, taken batch_size at a time."""
    order = rng.permutation(X.shape[1])
    batches = []
    start = 0
    while start < len(order):
        idx = order[start : start + batch_size]
        batches.append((X[:, idx], Y[:, idx]))
        start += batch_size
    return batches


# Exercise 12: gradient descent
def gradient_descent(X, y, w, b, lr, steps):
    """Reuses the exercise 3/4 functions; the loss is recorded before each update."""
    losses = []
    for _ in range(steps):
        losses.append(mse_loss(multivariate_forward(X, w, b), y))
        dw, db = multivariate_backward(X, y, w, b)
        w = w - lr * dw
        b = b - lr * db
    return w, b, losses
