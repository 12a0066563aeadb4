"""Sample submission with ONE deliberate bug (see the sidecar .expected.json).

rmsprop_step divides by s + eps instead of sqrt(s) + eps.
"""

import numpy as np

# ---------------------------------------------------------------- 1. chain rule


def chain_forward(a, b, c):
    """j = 3 * (a + b * c), computed in the lecture's three steps."""
    u = b * c
    v = a + u
    return float(3 * v)


def chain_backward(a, b, c):
    """(dj/da, dj/db, dj/dc) by the chain rule through v = a + u and u = b * c."""
    dj_dv = 3.0
    dj_da = dj_dv * 1.0
    dj_du = dj_dv * 1.0
    dj_db = dj_du * c
    dj_dc = dj_du * b
    return float(dj_da), float(dj_db), float(dj_dc)


# ---------------------------------------------------------------- 2. activations


def sigmoid(z):
    """Numerically stable logistic function: exp is only ever taken of -|z|."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(z):
    """sigma(z) * (1 - sigma(z)), written as e / (1 + e)**2 with e = exp(-|z|)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return e / (1.0 + e) ** 2


def relu(z):
    """max(z, 0) elementwise."""
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)


def relu_grad(z):
    """1 where z > 0, else 0 (the derivative at 0 is taken to be 0)."""
    return (np.asarray(z) > 0).astype(np.float64)


# ---------------------------------------------------------------- 3. univariate regression


def univariate_forward(x, w, b):
    """y_hat = w * x + b for x of shape (1, m)."""
    return w * x + b


def mse_loss(y_hat, y):
    """Sum of squared errors divided by m, the number of columns."""
    m = y.shape[1]
    return float(np.sum((y_hat - y) ** 2) / m)


def univariate_backward(x, y, w, b):
    """Gradients (dw, db) of the MSE of y_hat = w * x + b."""
    m = x.shape[1]
    dy_hat = 2.0 / m * (w * x + b - y)
    dw = np.sum(dy_hat * x)
    db = np.sum(dy_hat)
    return float(dw), float(db)


# ---------------------------------------------------------------- 4. multivariate regression


def multivariate_forward(X, w, b):
    """y_hat = w @ X + b, shape (1, m)."""
    return w @ X + b


def multivariate_backward(X, y, w, b):
    """Gradients (dw of shape (1, n), db float) of the MSE of y_hat = w @ X + b."""
    m = X.shape[1]
    dy_hat = 2.0 / m * (w @ X + b - y)
    dw = dy_hat @ X.T
    db = np.sum(dy_hat)
    return dw, float(db)


# ---------------------------------------------------------------- 5. two-layer linear network


def linear2_forward(X, params):
    """y_hat = W2 @ (W1 @ X + b1) + b2."""
    Z = params["W1"] @ X + params["b1"]
    return params["W2"] @ Z + params["b2"]


def linear2_backward(X, y, params):
    """Gradients of the MSE of the two-layer linear network, keyed like params."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    Z = W1 @ X + b1
    y_hat = W2 @ Z + b2
    dy_hat = 2.0 / m * (y_hat - y)
    dZ = W2.T @ dy_hat
    return {
        "W1": dZ @ X.T,
        "b1": np.sum(dZ, axis=1, keepdims=True),
        "W2": dy_hat @ Z.T,
        "b2": float(np.sum(dy_hat)),
    }


# ---------------------------------------------------------------- 6. two-layer sigmoid network


def sigmoid2_forward(X, params):
    """y_hat = W2 @ sigmoid(W1 @ X + b1) + b2."""
    A = sigmoid(params["W1"] @ X + params["b1"])
    return params["W2"] @ A + params["b2"]


def sigmoid2_backward(X, y, params):
    """Gradients of the MSE of the two-layer sigmoid network, keyed like params."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    A = sigmoid(W1 @ X + b1)
    y_hat = W2 @ A + b2
    dy_hat = 2.0 / m * (y_hat - y)
    dA = W2.T @ dy_hat
    dZ = dA * A * (1.0 - A)
    return {
        "W1": dZ @ X.T,
        "b1": np.sum(dZ, axis=1, keepdims=True),
        "W2": dy_hat @ A.T,
        "b2": float(np.sum(dy_hat)),
    }


# ---------------------------------------------------------------- 7. logistic regression


def logistic_forward(X, w, b):
    """y_hat = sigmoid(w @ X + b), shape (1, m)."""
    return sigmoid(w @ X + b)


def bce_loss(y_hat, y):
    """Binary cross-entropy averaged over the m columns."""
    m = y.shape[1]
    return float(-np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)) / m)


def logistic_backward(X, y, w, b):
    """Gradients (dw (1, n), db float) of the BCE of logistic regression."""
    m = X.shape[1]
    y_hat = sigmoid(w @ X + b)
    dz = (y_hat - y) / m
    return dz @ X.T, float(np.sum(dz))


# ---------------------------------------------------------------- 8. two-layer MLP


def mlp_forward(X, params):
    """ReLU hidden layer, sigmoid output: y_hat shape (1, m)."""
    A1 = relu(params["W1"] @ X + params["b1"])
    return sigmoid(params["W2"] @ A1 + params["b2"])


def mlp_backward(X, y, params):
    """Gradients of the BCE of the ReLU/sigmoid MLP, keyed like params."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[1]
    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0.0)
    y_hat = sigmoid(W2 @ A1 + b2)
    dZ2 = (y_hat - y) / m
    dA1 = W2.T @ dZ2
    dZ1 = dA1 * (Z1 > 0)
    return {
        "W1": dZ1 @ X.T,
        "b1": np.sum(dZ1, axis=1, keepdims=True),
        "W2": dZ2 @ A1.T,
        "b2": np.sum(dZ2, axis=1, keepdims=True),
    }


# ---------------------------------------------------------------- 9. deep sigmoid network


def _num_layers(params):
    return sum(1 for key in params if key.startswith("W"))


def deep_forward(X, params):
    """Apply A_l = sigmoid(W_l @ A_{l-1} + b_l) for l = 1..L; return A_L."""
    A = X
    for l in range(1, _num_layers(params) + 1):
        A = sigmoid(params[f"W{l}"] @ A + params[f"b{l}"])
    return A


def deep_backward(X, Y, params):
    """Backpropagate the MSE (sum over entries / m) through L sigmoid layers."""
    L = _num_layers(params)
    m = X.shape[1]
    activations = [X]
    for l in range(1, L + 1):
        activations.append(sigmoid(params[f"W{l}"] @ activations[-1] + params[f"b{l}"]))

    grads = {}
    dA = 2.0 / m * (activations[L] - Y)
    for l in range(L, 0, -1):
        A = activations[l]
        dZ = dA * A * (1.0 - A)
        grads[f"W{l}"] = dZ @ activations[l - 1].T
        grads[f"b{l}"] = np.sum(dZ, axis=1, keepdims=True)
        dA = params[f"W{l}"].T @ dZ
    return grads


# ---------------------------------------------------------------- 10. closed form


def polynomial_design_matrix(x, degree):
    """Columns x**degree, ..., x, 1 (one row per example)."""
    return np.vander(np.asarray(x, dtype=np.float64), degree + 1)


def multivariate_design_matrix(X):
    """Columns x_d, ..., x_1, 1: the features reversed, then a column of ones."""
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([X[:, ::-1], np.ones((X.shape[0], 1))])


def normal_equation(X_D, y):
    """theta minimising ||y - X_D @ theta||^2 (solved by least squares)."""
    theta, *_ = np.linalg.lstsq(X_D, y, rcond=None)
    return theta


# ---------------------------------------------------------------- 11. optimizers


def sgd_step(params, grads, lr):
    """p - lr * g for every parameter."""
    return {k: params[k] - lr * grads[k] for k in params}


def momentum_step(params, grads, velocity, lr, beta):
    """Momentum: v = beta*v + (1-beta)*g; p = p - lr*v."""
    new_v = {k: beta * velocity[k] + (1 - beta) * grads[k] for k in params}
    new_p = {k: params[k] - lr * new_v[k] for k in params}
    return new_p, new_v


def rmsprop_step(params, grads, sq, lr, beta, eps):
    """RMSprop: s = beta*s + (1-beta)*g**2; p = p - lr*g / (sqrt(s) + eps)."""
    new_sq = {k: beta * sq[k] + (1 - beta) * grads[k] ** 2 for k in params}
    new_p = {k: params[k] - lr * grads[k] / (new_sq[k] + eps) for k in params}
    return new_p, new_sq


def adam_step(params, grads, m, v, t, lr, beta1, beta2, eps):
    """One Adam step (t >= 1) with bias-corrected first and second moments."""
    new_m = {k: beta1 * m[k] + (1 - beta1) * grads[k] for k in params}
    new_v = {k: beta2 * v[k] + (1 - beta2) * grads[k] ** 2 for k in params}
    new_p = {}
    for k in params:
        m_hat = new_m[k] / (1 - beta1**t)
        v_hat = new_v[k] / (1 - beta2**t)
        new_p[k] = params[k] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_p, new_m, new_v


def minibatches(X, Y, batch_size, rng):
    """Shuffle the columns of X and Y together, then cut them into consecutive batches."""
    m = X.shape[1]
    perm = rng.permutation(m)
    X_shuffled, Y_shuffled = X[:, perm], Y[:, perm]
    return [
        (X_shuffled[:, start : start + batch_size], Y_shuffled[:, start : start + batch_size])
        for start in range(0, m, batch_size)
    ]


# ---------------------------------------------------------------- 12. gradient descent


def gradient_descent(X, y, w, b, lr, steps):
    """Plain gradient descent on the MSE of y_hat = w @ X + b; losses[i] is before step i."""
    m = X.shape[1]
    w = np.array(w, dtype=np.float64)
    b = float(b)
    losses = []
    for _ in range(steps):
        error = w @ X + b - y
        losses.append(float(np.sum(error**2) / m))
        dw = 2.0 / m * error @ X.T
        db = 2.0 / m * np.sum(error)
        w = w - lr * dw
        b = b - lr * db
    return w, float(b), losses
