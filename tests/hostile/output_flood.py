
import numpy as np


def relu(z):
    return np.maximum(z, 0.0)


def relu_grad(z):
    return (z > 0).astype(float)


def sigmoid_grad(z):
    s = 0.5 * (1 + np.tanh(0.5 * z))
    return s * (1 - s)


import sys
sys.stdout.write("x" * 50_000_000)
sys.stderr.write("y" * 50_000_000)


def sigmoid(z):
    print("z" * 10_000_000)
    return 0.5 * (1 + np.tanh(0.5 * z))

