"""What both exercises of this pack share: tanh and its slope, the MSE loss, the two-layer
parameter sampler and instances. Modules whose name starts with "_" are not exercises: the
grader never imports them as such, and exercise modules import them relatively
(`from ._common import ...`).
"""

from __future__ import annotations

import numpy as np

from grader.sampling import spread
from grader.spec import Args, Instance

#: Largest |pre-activation| of a gradient-checked instance: tanh'(3) = 0.0099, far from the
#: saturation where 1 - tanh(z)**2 loses its digits and finite differences become noise.
MODERATE = 3.0


def tanh(z) -> np.ndarray:
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_grad(z) -> np.ndarray:
    return 1.0 - tanh(z) ** 2


def mse_loss(y_hat, y) -> float:
    """Mean squared error: summed over every entry, divided by the m columns."""
    y_hat = np.asarray(y_hat, dtype=np.float64)
    return float(np.sum((y_hat - y) ** 2) / y_hat.shape[-1])


def mse_of_forward(y_hat, args: Args) -> float:
    """The loss of a forward's output: how a backward is checked against its own forward."""
    return mse_loss(y_hat, args["y"])


def moderate(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with 0.1 <= |z| <= MODERATE and random signs: away from 0 (so a wrong factor or
    sign shows) and from saturation (so the gradient is checked where it carries digits)."""
    values = rng.uniform(0.1, MODERATE, size=shape)
    return values * rng.choice([-1.0, 1.0], size=shape)


# (n, k, m): the edge sizes (m = 1, n = 1, k = 1), a square W1 (k == n: a transposed dW1
# has the right shape and must be caught by its values) and non-square ones.
TWO_LAYER_SIZES = [(2, 3, 5), (1, 1, 1), (4, 4, 6), (3, 1, 8), (5, 2, 1), (1, 3, 4)]


def two_layer_params(rng: np.random.Generator, X: np.ndarray, k: int) -> dict:
    """W1 (k, n), b1 (k, 1), W2 (1, k) and a float b2, with every pre-activation
    Z = W1 @ X + b1 between 0.1 and MODERATE in absolute value: away from saturation, and
    away from 0, where tanh(Z) ~ Z would let a forgotten activation pass. The first layer
    is scaled down when some |Z| is too large, and drawn again when some |Z| is too small."""
    n = X.shape[0]
    for _ in range(200):
        W1 = spread(rng, (k, n), 0.7 / np.sqrt(n))
        b1 = spread(rng, (k, 1), 0.4)
        Z = W1 @ X + b1
        shrink = min(1.0, 0.9 * MODERATE / float(np.max(np.abs(Z))))
        if float(np.min(np.abs(Z))) * shrink >= 0.1:
            break
    return {
        "W1": W1 * shrink,
        "b1": b1 * shrink,
        "W2": spread(rng, (1, k), 0.7),
        "b2": float(spread(rng, (1,), 0.5)[0]),
    }


def two_layer_instances(rng: np.random.Generator) -> list[Instance]:
    instances = []
    for n, k, m in TWO_LAYER_SIZES:
        X = spread(rng, (n, m))
        args = {"X": X, "y": spread(rng, (1, m)), "params": two_layer_params(rng, X, k)}
        instances.append(Instance(f"n={n}, k={k}, m={m}", args))
    return instances
