"""Regenerate the generated sample submissions and every sidecar `*.expected.json`.

Not a submission itself. `correct.py` and `correct_styles.py` are written by hand; this
script builds `correct_notebook.ipynb` from the cells below and every `bug_*` sample from
`correct.py` (or from the notebook) by one textual edit, so each buggy sample differs
from a correct one in exactly one place. Run from anywhere:

    python submissions/_make_samples.py
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import v4

HERE = Path(__file__).resolve().parent

# ------------------------------------------------------------------ the correct notebook

NOTEBOOK_CELLS: list[tuple[str, str]] = [
    (
        "markdown",
        "# Assignment 2: gradient descent and backpropagation\n"
        "\n"
        "All twelve exercises of the sheet. Data has one example per **column**: `X` is "
        "`(n, m)`, targets are `(1, m)`.",
    ),
    (
        "code",
        "%matplotlib inline\n"
        "import numpy as np\n"
        "\n"
        "rng = np.random.default_rng(2024)\n"
        "np.set_printoptions(precision=4, suppress=True)",
    ),
    ("code", "!pip install numpy"),
    (
        "markdown",
        "## 1. Chain rule\n"
        "\n"
        "$j = 3(a + bc)$ with $u = bc$, $v = a + u$, $j = 3v$. Backwards: "
        "$\\partial j/\\partial v = 3$, $\\partial v/\\partial a = \\partial v/\\partial u = 1$, "
        "$\\partial u/\\partial b = c$, $\\partial u/\\partial c = b$.",
    ),
    (
        "code",
        '''def chain_forward(a, b, c):
    """Forward pass of j = 3(a + bc) through u = bc and v = a + u."""
    u = b * c
    v = a + u
    j = 3 * v
    return np.float64(j)


def chain_backward(a, b, c):
    """Multiply the local derivatives along each path of the graph."""
    dj_dv = 3.0
    dv_da, dv_du = 1.0, 1.0
    du_db, du_dc = c, b
    dj_da = dj_dv * dv_da
    dj_db = dj_dv * dv_du * du_db
    dj_dc = dj_dv * dv_du * du_dc
    return (dj_da, dj_db, dj_dc)


print("j =", chain_forward(1, 2, 3))  # 21, as in the lecture
print("grads =", chain_backward(1, 2, 3))  # (3, 9, 6)''',
    ),
    (
        "markdown",
        "## 2. Activations\n"
        "\n"
        "The sigmoid must survive $|z| = 1000$: only ever exponentiate $-|z|$.",
    ),
    (
        "code",
        '''def sigmoid(z):
    """Stable sigmoid: both branches use exp(-|z|), which is at most 1."""
    z = np.asarray(z, dtype=float)
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + ez), ez / (1 + ez))


def sigmoid_grad(z):
    """sigma(z) * (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1 - s)


def relu(z):
    """max(z, 0)."""
    return np.where(z > 0, z, 0.0)


def relu_grad(z):
    """1 for z > 0, 0 otherwise (also at z = 0)."""
    return np.where(z > 0, 1.0, 0.0)


zs = np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0])
display(sigmoid(zs), sigmoid_grad(zs), relu(zs), relu_grad(zs))''',
    ),
    ("markdown", "## 3. Univariate regression\n\n$\\hat y = wx + b$, MSE loss."),
    (
        "code",
        '''def univariate_forward(x, w, b):
    return w * x + b


def mse_loss(y_hat, y):
    """(1/m) * sum of squared errors, squeezed down to a number."""
    diff = y_hat - y
    m = y.shape[1]
    return np.squeeze(diff @ diff.T / m)


def univariate_backward(x, y, w, b):
    """dL/dw and dL/db, one example at a time."""
    m = x.shape[1]
    dw, db = 0.0, 0.0
    for i in range(m):
        err = w * x[0, i] + b - y[0, i]
        dw += 2 * err * x[0, i] / m
        db += 2 * err / m
    return dw, db


x = np.array([[1.0, 2.0, 3.0, 4.0]])
y = 2 * x + 1
y_hat = univariate_forward(x, 0.5, 0.0)
loss = mse_loss(y_hat, y)
print("loss:", loss, "  grads:", univariate_backward(x, y, 0.5, 0.0))''',
    ),
    (
        "markdown",
        "## 4. Multivariate regression\n\n"
        "`w` is `(1, n)`; I use `einsum` so the indices are explicit.",
    ),
    (
        "code",
        """def multivariate_forward(X, w, b):
    return np.einsum("ij,jk->ik", w, X) + b


def multivariate_backward(X, y, w, b):
    m = X.shape[1]
    err = multivariate_forward(X, w, b) - y  # (1, m)
    dw = 2 / m * np.einsum("im,nm->in", err, X)  # (1, n)
    db = 2 / m * err.sum(axis=1, keepdims=True)  # (1, 1)
    return dw, db


X = rng.normal(size=(3, 5))
w = rng.normal(size=(1, 3))
dw, db = multivariate_backward(X, X.sum(axis=0, keepdims=True), w, 0.5)
print(dw.shape, db.shape)""",
    ),
    ("markdown", "## 5. Two-layer linear network"),
    (
        "code",
        """def linear2_forward(X, params):
    Z = params["W1"] @ X + params["b1"]
    return params["W2"] @ Z + params["b2"]


def linear2_backward(X, y, params):
    W1, b1, W2, b2 = (params[key] for key in ("W1", "b1", "W2", "b2"))
    m = X.shape[1]
    Z = W1 @ X + b1
    y_hat = W2 @ Z + b2
    d_yhat = (2 / m) * (y_hat - y)
    grads = {}
    grads["W2"] = np.einsum("im,km->ik", d_yhat, Z)
    grads["b2"] = d_yhat.sum(keepdims=True)
    dZ = W2.T @ d_yhat
    grads["W1"] = np.einsum("km,nm->kn", dZ, X)
    grads["b1"] = dZ.sum(axis=1, keepdims=True)
    return grads


params = {
    "W1": rng.normal(size=(4, 3)),
    "b1": np.zeros((4, 1)),
    "W2": rng.normal(size=(1, 4)),
    "b2": 0.0,
}
display({name: g.shape for name, g in linear2_backward(X, X[:1], params).items()})""",
    ),
    (
        "markdown",
        "## 6. Two-layer sigmoid network\n\n"
        "Same as 5 with $A = \\sigma(Z)$; the chain rule picks up $\\sigma'(Z)$.",
    ),
    (
        "code",
        """def sigmoid2_forward(X, params):
    A = sigmoid(params["W1"] @ X + params["b1"])
    return params["W2"] @ A + params["b2"]


def sigmoid2_backward(X, y, params):
    m = X.shape[1]
    Z = params["W1"] @ X + params["b1"]
    A = sigmoid(Z)
    y_hat = params["W2"] @ A + params["b2"]
    d_yhat = 2 * (y_hat - y) / m
    dA = params["W2"].T @ d_yhat
    dZ = dA * sigmoid_grad(Z)
    return {
        "W1": dZ @ X.T,
        "b1": dZ.sum(axis=1, keepdims=True),
        "W2": d_yhat @ A.T,
        "b2": np.float64(d_yhat.sum()),
    }""",
    ),
    ("markdown", "## 7. Logistic regression\n\nSigmoid output, binary cross-entropy."),
    (
        "code",
        """def logistic_forward(X, w, b):
    return sigmoid(w @ X + b)


def bce_loss(y_hat, y):
    m = y.shape[1]
    total = np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))
    return -total / m


def logistic_backward(X, y, w, b):
    n, m = X.shape
    dz = logistic_forward(X, w, b) - y  # (1, m)
    dw = np.zeros((1, n))
    for j in range(n):  # one feature at a time
        dw[0, j] = np.sum(dz * X[j]) / m
    db = np.sum(dz) / m
    return dw, db


X_toy = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
y_toy = np.array([[1.0, 0.0, 1.0]])
print("BCE at w = 0:", bce_loss(logistic_forward(X_toy, np.zeros((1, 2)), 0.0), y_toy))""",
    ),
    ("markdown", "## 8. Two-layer MLP (ReLU hidden layer, sigmoid output)"),
    (
        "code",
        """def mlp_forward(X, params):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = relu(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    return sigmoid(Z2)


def mlp_backward(X, y, params):
    m = X.shape[1]
    Z1 = params["W1"] @ X + params["b1"]
    A1 = relu(Z1)
    y_hat = sigmoid(params["W2"] @ A1 + params["b2"])
    dZ2 = (y_hat - y) / m  # sigmoid + BCE simplify nicely
    dZ1 = (params["W2"].T @ dZ2) * relu_grad(Z1)
    return {
        "W1": dZ1 @ X.T,
        "b1": dZ1.sum(axis=1, keepdims=True),
        "W2": dZ2 @ A1.T,
        "b2": dZ2.sum(axis=1, keepdims=True),
    }


X_mlp = rng.normal(size=(2, 3))
mlp_params = {
    "W1": rng.normal(size=(4, 2)),
    "b1": np.zeros((4, 1)),
    "W2": rng.normal(size=(1, 4)),
    "b2": np.zeros((1, 1)),
}
print(mlp_forward(X_mlp, mlp_params))""",
    ),
    ("markdown", "## 9. Deep network\n\nEvery layer is a sigmoid layer; I cache `Z` and `A`."),
    (
        "code",
        """def deep_forward(X, params):
    L = len(params) // 2
    A = X
    for l in range(1, L + 1):
        A = sigmoid(params["W" + str(l)] @ A + params["b" + str(l)])
    return A


def deep_backward(X, Y, params):
    L = len(params) // 2
    m = X.shape[1]
    cache = {"A0": X}
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ cache[f"A{l - 1}"] + params[f"b{l}"]
        cache[f"Z{l}"] = Z
        cache[f"A{l}"] = sigmoid(Z)
    grads = {}
    dA = 2 * (cache[f"A{L}"] - Y) / m
    for l in reversed(range(1, L + 1)):
        dZ = dA * sigmoid_grad(cache[f"Z{l}"])
        grads[f"W{l}"] = dZ @ cache[f"A{l - 1}"].T
        grads[f"b{l}"] = np.sum(dZ, axis=1, keepdims=True)
        dA = params[f"W{l}"].T @ dZ
    return grads""",
    ),
    ("markdown", "## 10. Closed form\n\nHere rows are examples."),
    (
        "code",
        """def polynomial_design_matrix(x, degree):
    columns = []
    for power in range(degree, -1, -1):
        columns.append(x**power)
    return np.stack(columns, axis=1).astype(float)


def multivariate_design_matrix(X):
    n, d = X.shape
    X_D = np.ones((n, d + 1))
    for j in range(d):
        X_D[:, j] = X[:, d - 1 - j]
    return X_D


def normal_equation(X_D, y):
    # solve (X^T X) theta = X^T y instead of inverting
    return np.linalg.solve(X_D.T @ X_D, X_D.T @ y)


xs = np.linspace(-1, 1, 9)
print(normal_equation(polynomial_design_matrix(xs, 2), 3 * xs**2 - xs + 2))  # [3, -1, 2]""",
    ),
    ("markdown", "## 11. Optimizers"),
    (
        "code",
        """def sgd_step(params, grads, lr):
    new_params = params.copy()
    for name in new_params:
        new_params[name] = new_params[name] - lr * grads[name]
    return new_params


def momentum_step(params, grads, velocity, lr, beta):
    velocity = {name: beta * velocity[name] + (1 - beta) * grads[name] for name in params}
    params = {name: params[name] - lr * velocity[name] for name in params}
    return params, velocity


def rmsprop_step(params, grads, sq, lr, beta, eps):
    new_params, new_sq = params.copy(), sq.copy()
    for name in params:
        new_sq[name] = beta * sq[name] + (1 - beta) * grads[name] ** 2
        new_params[name] = params[name] - lr * grads[name] / (np.sqrt(new_sq[name]) + eps)
    return new_params, new_sq


def adam_step(params, grads, m, v, t, lr, beta1, beta2, eps):
    m = {name: beta1 * m[name] + (1 - beta1) * grads[name] for name in params}
    v = {name: beta2 * v[name] + (1 - beta2) * grads[name] ** 2 for name in params}
    m_hat = {name: m[name] / (1 - beta1**t) for name in params}
    v_hat = {name: v[name] / (1 - beta2**t) for name in params}
    params = {
        name: params[name] - lr * m_hat[name] / (np.sqrt(v_hat[name]) + eps) for name in params
    }
    return params, m, v


def minibatches(X, Y, batch_size, rng):
    m = X.shape[1]
    idx = np.arange(m)
    rng.shuffle(idx)
    batches = []
    for start in range(0, m, batch_size):
        chosen = idx[start : start + batch_size]
        batches.append((X[:, chosen], Y[:, chosen]))
    return batches""",
    ),
    (
        "markdown",
        "### A small training run\n\n"
        "The two-layer sigmoid network of exercise 6 fitted to a noisy sine with Adam.",
    ),
    (
        "code",
        """X_train = np.linspace(-3, 3, 64).reshape(1, -1)
y_train = np.sin(X_train) + 0.05 * rng.normal(size=X_train.shape)
net = {
    "W1": rng.normal(size=(8, 1)),
    "b1": np.zeros((8, 1)),
    "W2": 0.1 * rng.normal(size=(1, 8)),
    "b2": 0.0,
}
m_state = {name: np.zeros_like(p) for name, p in net.items()}
v_state = {name: np.zeros_like(p) for name, p in net.items()}
t = 0
for epoch in range(100):
    for X_b, y_b in minibatches(X_train, y_train, 16, rng):
        t += 1
        grads = sigmoid2_backward(X_b, y_b, net)
        net, m_state, v_state = adam_step(net, grads, m_state, v_state, t, 0.05, 0.9, 0.999, 1e-8)
    if epoch % 25 == 0:
        print(epoch, np.mean((sigmoid2_forward(X_train, net) - y_train) ** 2))""",
    ),
    (
        "markdown",
        "## 12. Gradient descent\n\nShould end up close to the normal-equation solution.",
    ),
    (
        "code",
        """def gradient_descent(X, y, w, b, lr, steps):
    losses = []
    for _ in range(steps):
        y_hat = multivariate_forward(X, w, b)
        losses.append(float(np.mean((y_hat - y) ** 2)))  # before the update
        dw, db = multivariate_backward(X, y, w, b)
        w = w - lr * dw
        b = b - lr * db
    return w, b, losses""",
    ),
    (
        "code",
        """%%time
X_demo = rng.normal(size=(2, 200))
y_demo = np.array([[1.5, -2.0]]) @ X_demo + 0.7 + 0.1 * rng.normal(size=(1, 200))
w_gd, b_gd, losses = gradient_descent(X_demo, y_demo, np.zeros((1, 2)), 0.0, 0.1, 500)
theta = normal_equation(multivariate_design_matrix(X_demo.T), y_demo.ravel())
print("gradient descent:", w_gd.ravel()[::-1], b_gd, "losses:", losses[0], losses[-1])
print("normal equation: ", theta)""",
    ),
    ("markdown", "That's all twelve."),
]


def make_notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11"},
    }
    for kind, source in cells:
        nb.cells.append(
            v4.new_code_cell(source) if kind == "code" else v4.new_markdown_cell(source)
        )
    for i, cell in enumerate(nb.cells):  # stable ids keep regeneration byte-identical
        cell["id"] = f"cell-{i:02d}"
    nbformat.validate(nb)
    return nb


# ------------------------------------------------------------------ the samples


@dataclass
class Sample:
    name: str
    description: str
    fail: dict[str, str] = field(default_factory=dict)
    base: str | None = None  # "correct.py" or "notebook"; None for hand-written samples
    edits: list[tuple[str, str]] = field(default_factory=list)
    suffix: str = ".py"


def one_edit(text: str, old: str, new: str, sample: str) -> str:
    count = text.count(old)
    if count != 1:
        raise SystemExit(f"{sample}: edit target found {count} times:\n{old}")
    return text.replace(old, new)


def bug_header(description: str) -> str:
    return (
        '"""Sample submission with ONE deliberate bug (see the sidecar .expected.json).\n\n'
        + textwrap.fill(description, width=88)
        + "\n"
    )


SAMPLES: list[Sample] = [
    Sample(
        "correct",
        "A clean, vectorised, correct solution of every exercise of the course.",
    ),
    Sample(
        "correct_styles",
        "A correct solution written one example at a time with np.dot and np.outer loops; "
        "scalars returned as Python floats.",
    ),
    Sample(
        "correct_notebook",
        "A correct student notebook in mixed styles (einsum, loops, np.where sigmoid, "
        "np.linalg.solve, size-1 arrays for scalars) with magics, display() and a training "
        "run.",
        base="notebook",
        suffix=".ipynb",
    ),
    # ---- exercise 1
    Sample(
        "bug_chain_forward_no_return",
        "chain_forward prints j instead of returning it, so it returns None.",
        {"chain_forward": "wrong_type"},
        "correct.py",
        [("    return float(3 * v)\n", "    print(float(3 * v))\n")],
    ),
    Sample(
        "bug_chain_backward_db",
        "chain_backward uses du/db = b instead of c, so dj/db comes out as 3*b.",
        {"chain_backward": "known_mistake"},
        "correct.py",
        [("    dj_db = dj_du * c\n", "    dj_db = dj_du * b\n")],
    ),
    # ---- exercise 2
    Sample(
        "bug_sigmoid_overflow",
        "sigmoid is written as exp(z) / (1 + exp(z)), which overflows to inf/inf = nan "
        "for large positive z.",
        {"sigmoid": "not_finite"},
        "correct.py",
        [
            (
                '''    """Numerically stable logistic function: exp is only ever taken of -|z|."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
''',
                '''    """Logistic function, written as e^z / (1 + e^z)."""
    z = np.asarray(z, dtype=np.float64)
    return np.exp(z) / (1.0 + np.exp(z))
''',
            )
        ],
    ),
    Sample(
        "bug_relu_grad_at_zero",
        "relu_grad uses z >= 0, so it returns 1 at z = 0 where the contract says 0.",
        {"relu_grad": "known_mistake"},
        "correct.py",
        [
            (
                '''    """1 where z > 0, else 0 (the derivative at 0 is taken to be 0)."""
    return (np.asarray(z) > 0).astype(np.float64)''',
                '''    """1 where z is non-negative, else 0."""
    return (np.asarray(z) >= 0).astype(np.float64)''',
            )
        ],
    ),
    # ---- exercise 3
    Sample(
        "bug_mse_loss_sum",
        "mse_loss sums the squared errors and forgets to divide by m.",
        {"mse_loss": "known_mistake"},
        "correct.py",
        [
            (
                '''    """Sum of squared errors divided by m, the number of columns."""
    m = y.shape[1]
    return float(np.sum((y_hat - y) ** 2) / m)''',
                '''    """Mean squared error."""
    return float(np.sum((y_hat - y) ** 2))''',
            )
        ],
    ),
    Sample(
        "bug_univariate_backward_no_factor_2",
        "univariate_backward drops the 2 from the derivative of the square, so both "
        "gradients are half the true ones.",
        {"univariate_backward": "known_mistake"},
        "correct.py",
        [("    dy_hat = 2.0 / m * (w * x + b - y)\n", "    dy_hat = (w * x + b - y) / m\n")],
    ),
    Sample(
        "bug_mse_loss_shadowed",
        "A notebook whose test cell does `mse_loss = mse_loss(y_hat, y)`, so mse_loss is a "
        "number, not a function, when grading.",
        {"mse_loss": "not_callable"},
        "notebook",
        [
            (
                'loss = mse_loss(y_hat, y)\nprint("loss:", loss,',
                'mse_loss = mse_loss(y_hat, y)\nprint("loss:", mse_loss,',
            )
        ],
        ".ipynb",
    ),
    # ---- exercise 4
    Sample(
        "bug_multivariate_backward_no_mean",
        "multivariate_backward forgets the 1/m of the mean, so dw and db are m times too large.",
        {"multivariate_backward": "known_mistake"},
        "correct.py",
        [
            (
                """    m = X.shape[1]
    dy_hat = 2.0 / m * (w @ X + b - y)
""",
                """    dy_hat = 2.0 * (w @ X + b - y)
""",
            )
        ],
    ),
    Sample(
        "bug_multivariate_dw_column",
        "multivariate_backward computes dw as X @ dy_hat.T, a column of shape (n, 1) "
        "instead of the row (1, n).",
        {"multivariate_backward": "shape_transposed"},
        "correct.py",
        [
            (
                "    dw = dy_hat @ X.T\n    db = np.sum(dy_hat)\n",
                "    dw = X @ dy_hat.T\n    db = np.sum(dy_hat)\n",
            )
        ],
    ),
    # ---- exercise 5
    Sample(
        "bug_linear2_dW1_transposed",
        "linear2_backward returns dW1 as X @ dZ.T, the transpose of the (k, n) gradient.",
        {"linear2_backward": "shape_transposed"},
        "correct.py",
        [
            (
                '    dZ = W2.T @ dy_hat\n    return {\n        "W1": dZ @ X.T,\n',
                '    dZ = W2.T @ dy_hat\n    return {\n        "W1": X @ dZ.T,\n',
            )
        ],
    ),
    # ---- exercise 6
    Sample(
        "bug_sigmoid2_forward_sigmoid_output",
        "sigmoid2_forward also puts a sigmoid on the output layer (y_hat = sigma(W2 A + b2)), "
        "which the regression network does not have.",
        {"sigmoid2_forward": "wrong_values"},
        "correct.py",
        [
            (
                """    A = sigmoid(params["W1"] @ X + params["b1"])
    return params["W2"] @ A + params["b2"]""",
                """    A = sigmoid(params["W1"] @ X + params["b1"])
    return sigmoid(params["W2"] @ A + params["b2"])""",
            )
        ],
    ),
    Sample(
        "bug_sigmoid2_backward_sigmoid_not_derivative",
        "A notebook whose sigmoid2_backward multiplies by sigmoid(Z) where the derivative "
        "sigmoid'(Z) belongs.",
        {"sigmoid2_backward": "known_mistake"},
        "notebook",
        [("    dZ = dA * sigmoid_grad(Z)\n", "    dZ = dA * sigmoid(Z)\n")],
        ".ipynb",
    ),
    # ---- exercise 7
    Sample(
        "bug_bce_loss_sign",
        "bce_loss forgets the leading minus sign and returns the negative of the loss.",
        {"bce_loss": "sign"},
        "correct.py",
        [
            (
                "    return float(-np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)) / m)",
                "    return float(np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)) / m)",
            )
        ],
    ),
    Sample(
        "bug_logistic_backward_sign",
        "logistic_backward uses y - y_hat instead of y_hat - y, so both gradients have the "
        "wrong sign.",
        {"logistic_backward": "known_mistake"},
        "correct.py",
        [("    dz = (y_hat - y) / m\n", "    dz = (y - y_hat) / m\n")],
    ),
    Sample(
        "bug_logistic_forward_column",
        "logistic_forward computes sigmoid(X.T @ w.T + b), a column (m, 1) instead of the "
        "row (1, m).",
        {"logistic_forward": "shape_transposed"},
        "correct.py",
        [("    return sigmoid(w @ X + b)\n", "    return sigmoid(X.T @ w.T + b)\n")],
    ),
    Sample(
        "bug_notebook_syntax_error",
        "A notebook whose logistic-regression cell has a syntax error (a missing colon), so "
        "the three functions of that cell are never defined; every other cell is fine.",
        {
            "logistic_forward": "missing",
            "bce_loss": "missing",
            "logistic_backward": "missing",
        },
        "notebook",
        [("def bce_loss(y_hat, y):\n", "def bce_loss(y_hat, y)\n")],
        ".ipynb",
    ),
    # ---- exercise 8
    Sample(
        "bug_mlp_db1_not_summed",
        "A notebook whose mlp_backward returns db1 = dZ1 without summing over the examples, "
        "shape (k, m) instead of (k, 1).",
        {"mlp_backward": "shape_broadcast"},
        "notebook",
        [('        "b1": dZ1.sum(axis=1, keepdims=True),\n', '        "b1": dZ1,\n')],
        ".ipynb",
    ),
    Sample(
        "bug_mlp_grads_keys",
        "mlp_backward names its gradients dW1, db1, dW2, db2 instead of using the parameter "
        "keys W1, b1, W2, b2.",
        {"mlp_backward": "wrong_structure"},
        "correct.py",
        [
            (
                """    return {
        "W1": dZ1 @ X.T,
        "b1": np.sum(dZ1, axis=1, keepdims=True),
        "W2": dZ2 @ A1.T,
        "b2": np.sum(dZ2, axis=1, keepdims=True),
    }""",
                """    return {
        "dW1": dZ1 @ X.T,
        "db1": np.sum(dZ1, axis=1, keepdims=True),
        "dW2": dZ2 @ A1.T,
        "db2": np.sum(dZ2, axis=1, keepdims=True),
    }""",
            )
        ],
    ),
    # ---- exercise 9
    Sample(
        "bug_deep_backward_derivative_at_A",
        "deep_backward evaluates the sigmoid derivative at the activation A instead of at "
        "the pre-activation Z (sigmoid_grad(A)).",
        {"deep_backward": "known_mistake"},
        "correct.py",
        [("        dZ = dA * A * (1.0 - A)\n", "        dZ = dA * sigmoid_grad(A)\n")],
    ),
    Sample(
        "bug_deep_linear_output",
        "The deep network leaves the last layer linear (no sigmoid) in deep_forward, and "
        "deep_backward differentiates that same wrong network consistently.",
        {"deep_forward": "wrong_values", "deep_backward": "forward_wrong"},
        "correct.py",
        [
            (
                """    A = X
    for l in range(1, _num_layers(params) + 1):
        A = sigmoid(params[f"W{l}"] @ A + params[f"b{l}"])
    return A""",
                """    A = X
    L = _num_layers(params)
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        A = sigmoid(Z) if l < L else Z  # linear output layer
    return A""",
            ),
            (
                """    for l in range(1, L + 1):
        activations.append(sigmoid(params[f"W{l}"] @ activations[-1] + params[f"b{l}"]))
""",
                """    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ activations[-1] + params[f"b{l}"]
        activations.append(sigmoid(Z) if l < L else Z)
""",
            ),
            (
                "        dZ = dA * A * (1.0 - A)\n",
                "        dZ = dA if l == L else dA * A * (1.0 - A)\n",
            ),
        ],
    ),
    # ---- exercise 10
    Sample(
        "bug_poly_ascending_powers",
        "polynomial_design_matrix uses np.vander(..., increasing=True): columns 1, x, ..., "
        "x**degree instead of x**degree, ..., 1.",
        {"polynomial_design_matrix": "known_mistake"},
        "correct.py",
        [
            (
                '''    """Columns x**degree, ..., x, 1 (one row per example)."""
    return np.vander(np.asarray(x, dtype=np.float64), degree + 1)''',
                '''    """Columns 1, x, ..., x**degree (one row per example)."""
    return np.vander(np.asarray(x, dtype=np.float64), degree + 1, increasing=True)''',
            )
        ],
    ),
    Sample(
        "bug_design_matrix_no_ones",
        "multivariate_design_matrix reverses the features but forgets the column of ones: "
        "shape (n, d) instead of (n, d + 1).",
        {"multivariate_design_matrix": "shape"},
        "correct.py",
        [
            (
                '''    """Columns x_d, ..., x_1, 1: the features reversed, then a column of ones."""
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([X[:, ::-1], np.ones((X.shape[0], 1))])''',
                '''    """Columns x_d, ..., x_1: the features in reverse order."""
    X = np.asarray(X, dtype=np.float64)
    return X[:, ::-1]''',
            )
        ],
    ),
    Sample(
        "bug_normal_equation_missing_transpose",
        "normal_equation writes inv(X^T X) @ X @ y, missing the transpose on the second X, "
        "which raises a shape error.",
        {"normal_equation": "exception"},
        "correct.py",
        [
            (
                '''    """theta minimising ||y - X_D @ theta||^2 (solved by least squares)."""
    theta, *_ = np.linalg.lstsq(X_D, y, rcond=None)
    return theta''',
                '''    """theta = (X^T X)^-1 X^T y."""
    return np.linalg.inv(X_D.T @ X_D) @ X_D @ y''',
            )
        ],
    ),
    # ---- exercise 11
    Sample(
        "bug_sgd_mutates_params",
        "sgd_step updates a shallow copy of params in place (-=), which changes the "
        "caller's arrays even though the returned values are right.",
        {"sgd_step": "mutated_input"},
        "correct.py",
        [
            (
                '''    """p - lr * g for every parameter."""
    return {k: params[k] - lr * grads[k] for k in params}''',
                '''    """p - lr * g for every parameter (on a copy of the dict)."""
    new_params = params.copy()
    for k in new_params:
        new_params[k] -= lr * grads[k]
    return new_params''',
            )
        ],
    ),
    Sample(
        "bug_momentum_no_one_minus_beta",
        "momentum_step forgets the (1 - beta) factor: v = beta*v + g.",
        {"momentum_step": "known_mistake"},
        "correct.py",
        [
            (
                "    new_v = {k: beta * velocity[k] + (1 - beta) * grads[k] for k in params}\n",
                "    new_v = {k: beta * velocity[k] + grads[k] for k in params}\n",
            )
        ],
    ),
    Sample(
        "bug_rmsprop_no_sqrt",
        "rmsprop_step divides by s + eps instead of sqrt(s) + eps.",
        {"rmsprop_step": "known_mistake"},
        "correct.py",
        [
            (
                "lr * grads[k] / (np.sqrt(new_sq[k]) + eps)",
                "lr * grads[k] / (new_sq[k] + eps)",
            )
        ],
    ),
    Sample(
        "bug_adam_no_bias_correction",
        "adam_step uses the raw moments m and v where the bias-corrected m_hat and v_hat belong.",
        {"adam_step": "known_mistake"},
        "correct.py",
        [
            (
                """    new_p = {}
    for k in params:
        m_hat = new_m[k] / (1 - beta1**t)
        v_hat = new_v[k] / (1 - beta2**t)
        new_p[k] = params[k] - lr * m_hat / (np.sqrt(v_hat) + eps)""",
                """    new_p = {}
    for k in params:
        new_p[k] = params[k] - lr * new_m[k] / (np.sqrt(new_v[k]) + eps)""",
            )
        ],
    ),
    Sample(
        "bug_minibatches_drop_last",
        "minibatches makes m // batch_size batches, dropping the last partial batch.",
        {"minibatches": "known_mistake"},
        "correct.py",
        [
            (
                """    return [
        (X_shuffled[:, start : start + batch_size], Y_shuffled[:, start : start + batch_size])
        for start in range(0, m, batch_size)
    ]""",
                """    batches = []
    for i in range(m // batch_size):
        cols = slice(i * batch_size, (i + 1) * batch_size)
        batches.append((X_shuffled[:, cols], Y_shuffled[:, cols]))
    return batches""",
            )
        ],
    ),
    Sample(
        "bug_minibatches_unpaired_shuffle",
        "minibatches shuffles X and Y with two different permutations, so examples lose "
        "their targets.",
        {"minibatches": "known_mistake"},
        "correct.py",
        [
            (
                """    perm = rng.permutation(m)
    X_shuffled, Y_shuffled = X[:, perm], Y[:, perm]""",
                """    X_shuffled = X[:, rng.permutation(m)]
    Y_shuffled = Y[:, rng.permutation(m)]""",
            )
        ],
    ),
    # ---- exercise 12
    Sample(
        "bug_gd_loss_after_update",
        "gradient_descent records each loss after the update instead of before it.",
        {"gradient_descent": "known_mistake"},
        "correct.py",
        [
            (
                """        error = w @ X + b - y
        losses.append(float(np.sum(error**2) / m))
        dw = 2.0 / m * error @ X.T
        db = 2.0 / m * np.sum(error)
        w = w - lr * dw
        b = b - lr * db
""",
                """        error = w @ X + b - y
        dw = 2.0 / m * error @ X.T
        db = 2.0 / m * np.sum(error)
        w = w - lr * dw
        b = b - lr * db
        losses.append(float(np.sum((w @ X + b - y) ** 2) / m))
""",
            )
        ],
    ),
    Sample(
        "bug_gd_infinite_loop",
        "gradient_descent counts its steps with `step =+ 1` (a typo for +=), so the loop "
        "never ends whenever steps > 1.",
        {"gradient_descent": "timeout"},
        "correct.py",
        [
            (
                """    losses = []
    for _ in range(steps):
        error = w @ X + b - y
        losses.append(float(np.sum(error**2) / m))
        dw = 2.0 / m * error @ X.T
        db = 2.0 / m * np.sum(error)
        w = w - lr * dw
        b = b - lr * db
    return w, float(b), losses""",
                """    losses = np.zeros(steps)
    step = 0
    while step < steps:
        error = w @ X + b - y
        losses[step] = np.sum(error**2) / m
        dw = 2.0 / m * error @ X.T
        db = 2.0 / m * np.sum(error)
        w = w - lr * dw
        b = b - lr * db
        step =+ 1
    return w, float(b), losses.tolist()""",
            )
        ],
    ),
]


def build_notebook_cells(edits: list[tuple[str, str]], sample: str) -> list[tuple[str, str]]:
    cells = list(NOTEBOOK_CELLS)
    for old, new in edits:
        hits = [i for i, (kind, src) in enumerate(cells) if kind == "code" and old in src]
        if len(hits) != 1 or cells[hits[0]][1].count(old) != 1:
            raise SystemExit(f"{sample}: notebook edit target not unique:\n{old}")
        kind, src = cells[hits[0]]
        cells[hits[0]] = (kind, src.replace(old, new))
    return cells


README_INTRO = """# Sample submissions

Bundled student submissions for demos and as test fixtures of the grader. Every sample
`NAME.py` or `NAME.ipynb` has a sidecar `NAME.expected.json`:

```json
{"description": "what the submission is, in a TA's words",
 "fail": {"function_name": "expected_diagnosis_code"},
 "exercises": null}
```

`fail` lists each contract function that must fail (lose its points) with the diagnosis
a good grader gives it; every other function of the exercises it is graded on must pass
with full marks. `"exercises": null` means the sample is graded on the exercises it was
written for: those one of whose own functions it defines (all the course's exercises, for a
complete solution), so that an exercise added later changes no sample's outcome. Each buggy
sample is a complete solution with exactly one realistic bug: it is `correct.py` (or
`correct_notebook.ipynb`) with one edit, so a bug never spills into other functions
unless the sidecar lists them (`bug_deep_linear_output` is the one deliberate case: one
conceptual mistake shared by a forward and its backward).

`correct.py` and `correct_styles.py` are written by hand; `_make_samples.py` (not a
sample) generates the notebooks, the `bug_*` files, every sidecar and this README:
edit the table in it and run `python submissions/_make_samples.py`.
`ruff.toml` here extends the project's configuration; it excludes the notebook whose
syntax error is the point of the sample, and keeps `ruff format` away from the `=+` typo.

| sample | what it shows | must fail (diagnosis) |
| --- | --- | --- |
"""


def readme() -> str:
    rows = []
    for sample in SAMPLES:
        fails = ", ".join(f"`{f}` ({code})" for f, code in sample.fail.items()) or "nothing"
        rows.append(f"| `{sample.name}{sample.suffix}` | {sample.description} | {fails} |")
    return README_INTRO + "\n".join(rows) + "\n"


def main() -> None:
    correct_py = (HERE / "correct.py").read_text()
    for sample in SAMPLES:
        target = HERE / f"{sample.name}{sample.suffix}"
        if sample.base == "notebook":
            nb = make_notebook(build_notebook_cells(sample.edits, sample.name))
            if sample.name != "correct_notebook":
                nb.cells.insert(
                    0, v4.new_markdown_cell(f"*Sample with one bug:* {sample.description}")
                )
                for i, cell in enumerate(nb.cells):
                    cell["id"] = f"cell-{i:02d}"
            target.write_text(nbformat.writes(nb) + "\n")
        elif sample.base == "correct.py":
            text = correct_py
            for old, new in sample.edits:
                text = one_edit(text, old, new, sample.name)
            _, rest = text.split('"""\n', 1)  # drop correct.py's module docstring
            target.write_text(bug_header(sample.description) + '"""\n' + rest)
        elif not target.exists():
            raise SystemExit(f"hand-written sample {target.name} is missing")
        sidecar = {"description": sample.description, "fail": sample.fail, "exercises": None}
        (HERE / f"{sample.name}.expected.json").write_text(json.dumps(sidecar, indent=2) + "\n")
    (HERE / "README.md").write_text(readme())
    print(f"wrote {len(SAMPLES)} samples, their sidecars and README.md to {HERE}")


if __name__ == "__main__":
    main()
