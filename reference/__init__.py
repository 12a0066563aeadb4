"""The answer key: plain-numpy solutions of every exercise in EXERCISES.md.

Every contract function is importable from here (`from reference import sigmoid2_backward`).
Functions work in float64 and never modify their inputs.
"""

from reference.activations import relu, relu_grad, sigmoid, sigmoid_grad
from reference.closed_form import (
    multivariate_design_matrix,
    normal_equation,
    polynomial_design_matrix,
)
from reference.losses import bce_loss, mse_loss
from reference.networks import (
    deep_backward,
    deep_forward,
    linear2_backward,
    linear2_forward,
    mlp_backward,
    mlp_forward,
    sigmoid2_backward,
    sigmoid2_forward,
)
from reference.optimizers import adam_step, minibatches, momentum_step, rmsprop_step, sgd_step
from reference.regression import (
    gradient_descent,
    logistic_backward,
    logistic_forward,
    multivariate_backward,
    multivariate_forward,
    univariate_backward,
    univariate_forward,
)
from reference.scalar import chain_backward, chain_forward

__all__ = [
    "adam_step",
    "bce_loss",
    "chain_backward",
    "chain_forward",
    "deep_backward",
    "deep_forward",
    "gradient_descent",
    "linear2_backward",
    "linear2_forward",
    "logistic_backward",
    "logistic_forward",
    "minibatches",
    "mlp_backward",
    "mlp_forward",
    "momentum_step",
    "mse_loss",
    "multivariate_backward",
    "multivariate_design_matrix",
    "multivariate_forward",
    "normal_equation",
    "polynomial_design_matrix",
    "relu",
    "relu_grad",
    "rmsprop_step",
    "sgd_step",
    "sigmoid",
    "sigmoid2_backward",
    "sigmoid2_forward",
    "sigmoid_grad",
    "univariate_backward",
    "univariate_forward",
]
