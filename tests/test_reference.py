"""The answer key checked against independent oracles: finite differences, lstsq, formulas."""

from __future__ import annotations

import copy
import inspect
import math
import warnings

import numpy as np
import pytest

import reference as ref
from exercises import EXERCISES
from tests.oracles import central_difference, get_path, relative_error

SEEDS = [0, 1, 2]
GRADIENT_FUNCTIONS = [
    (exercise, spec)
    for exercise in EXERCISES
    for spec in exercise.functions
    if spec.gradient is not None
]


def call(name: str, args: dict):
    function = getattr(ref, name)
    return function(*(args[p] for p in inspect.signature(function).parameters))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("exercise", "spec"), GRADIENT_FUNCTIONS, ids=[s.name for _, s in GRADIENT_FUNCTIONS]
)
def test_backward_matches_central_differences(exercise, spec, seed):
    for instance in exercise.instances(seed):
        if not instance.gradient_check:
            continue
        result = call(spec.name, instance.args)
        for output_path, input_path in spec.gradient.pairs(instance.args):
            numeric = central_difference(spec.gradient.loss, instance.args, input_path)
            analytic = get_path(result, output_path)
            assert np.shape(analytic) == np.shape(numeric), (instance.label, input_path)
            assert relative_error(analytic, numeric) < 1e-7, (instance.label, input_path)


def test_sigmoid_is_stable_at_extremes():
    z = np.array([-1000.0, -745.0, -40.0, 0.0, 40.0, 745.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = ref.sigmoid(z)
        g = ref.sigmoid_grad(z)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(g))
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    np.testing.assert_allclose(s[2], 1 / (1 + math.exp(40.0)), rtol=1e-12)


def test_relu_grad_is_zero_at_zero():
    np.testing.assert_array_equal(ref.relu_grad(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])


def test_chain_rule_matches_lecture():
    assert ref.chain_forward(1.0, 2.0, 3.0) == 21.0
    assert ref.chain_backward(1.0, 2.0, 3.0) == (3.0, 9.0, 6.0)


def test_bce_is_finite_near_the_edges():
    y_hat = np.array([[1e-12, 1 - 1e-12, 0.5]])
    assert np.isfinite(ref.bce_loss(y_hat, np.array([[0.0, 1.0, 1.0]])))


@pytest.mark.parametrize("seed", SEEDS)
def test_normal_equation_equals_lstsq(seed):
    for instance in EXERCISES[9].instances(seed):
        X_D, y = instance.args["X_D"], instance.args["y"]
        expected, *_ = np.linalg.lstsq(X_D, y, rcond=None)
        np.testing.assert_allclose(ref.normal_equation(X_D, y), expected, rtol=1e-10, atol=1e-12)


def test_design_matrices_follow_the_lecture_order():
    x = np.array([2.0, 3.0])
    np.testing.assert_array_equal(ref.polynomial_design_matrix(x, 2), [[4, 2, 1], [9, 3, 1]])
    X = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(ref.multivariate_design_matrix(X), [[3, 2, 1, 1]])


def test_gradient_descent_approaches_closed_form():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(3, 40))
    y = np.array([[1.0, -2.0, 0.5]]) @ X + 0.3 + rng.normal(0, 0.05, size=(1, 40))
    w, b, losses = ref.gradient_descent(X, y, np.zeros((1, 3)), 0.0, lr=0.1, steps=2000)
    design = ref.multivariate_design_matrix(X.T)
    theta = ref.normal_equation(design, y.ravel())
    np.testing.assert_allclose(w.ravel(), theta[:-1][::-1], atol=1e-6)
    assert b == pytest.approx(theta[-1], abs=1e-6)
    assert len(losses) == 2000 and losses[0] > losses[-1]
    assert losses[0] == pytest.approx(ref.mse_loss(np.zeros((1, 40)), y))


def two_step_params():
    rng = np.random.default_rng(3)
    params = {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=(2, 1))}
    grads = [{k: rng.normal(size=v.shape) for k, v in params.items()} for _ in range(2)]
    return params, grads


def test_sgd_two_steps_by_hand():
    params, (g1, g2) = two_step_params()
    lr = 0.1
    out = ref.sgd_step(ref.sgd_step(params, g1, lr), g2, lr)
    for k in params:
        np.testing.assert_allclose(out[k], params[k] - lr * g1[k] - lr * g2[k], rtol=1e-14)


def test_momentum_two_steps_by_hand():
    params, (g1, g2) = two_step_params()
    lr, beta = 0.1, 0.9
    zero = {k: np.zeros_like(v) for k, v in params.items()}
    p1, v1 = ref.momentum_step(params, g1, zero, lr, beta)
    p2, v2 = ref.momentum_step(p1, g2, v1, lr, beta)
    for k in params:
        first = (1 - beta) * g1[k]
        second = beta * first + (1 - beta) * g2[k]
        np.testing.assert_allclose(v2[k], second, rtol=1e-14)
        np.testing.assert_allclose(p2[k], params[k] - lr * first - lr * second, rtol=1e-14)


def test_rmsprop_two_steps_by_hand():
    params, (g1, g2) = two_step_params()
    lr, beta, eps = 0.01, 0.9, 1e-8
    zero = {k: np.zeros_like(v) for k, v in params.items()}
    p1, s1 = ref.rmsprop_step(params, g1, zero, lr, beta, eps)
    p2, s2 = ref.rmsprop_step(p1, g2, s1, lr, beta, eps)
    for k in params:
        first = (1 - beta) * g1[k] ** 2
        second = beta * first + (1 - beta) * g2[k] ** 2
        expected = params[k] - lr * g1[k] / (np.sqrt(first) + eps)
        expected = expected - lr * g2[k] / (np.sqrt(second) + eps)
        np.testing.assert_allclose(s2[k], second, rtol=1e-14)
        np.testing.assert_allclose(p2[k], expected, rtol=1e-12)


def test_adam_two_steps_by_hand():
    params, (g1, g2) = two_step_params()
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    zero = {k: np.zeros_like(v) for k, v in params.items()}
    p1, m1, v1 = ref.adam_step(params, g1, zero, zero, 1, lr, b1, b2, eps)
    p2, m2, v2 = ref.adam_step(p1, g2, m1, v1, 2, lr, b1, b2, eps)
    for k in params:
        first_m, first_v = (1 - b1) * g1[k], (1 - b2) * g1[k] ** 2
        # At t = 1 bias correction makes the step exactly lr * sign(g) (up to eps).
        expected1 = params[k] - lr * g1[k] / (np.abs(g1[k]) + eps)
        second_m = b1 * first_m + (1 - b1) * g2[k]
        second_v = b2 * first_v + (1 - b2) * g2[k] ** 2
        m_hat, v_hat = second_m / (1 - b1**2), second_v / (1 - b2**2)
        np.testing.assert_allclose(p1[k], expected1, rtol=1e-12)
        np.testing.assert_allclose(m2[k], second_m, rtol=1e-14)
        np.testing.assert_allclose(v2[k], second_v, rtol=1e-14)
        np.testing.assert_allclose(p2[k], p1[k] - lr * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-12)


@pytest.mark.parametrize(("m", "batch_size"), [(10, 3), (8, 4), (1, 1), (5, 10), (50, 7)])
def test_minibatches_keep_pairs_cover_once_and_shuffle(m, batch_size):
    X = np.arange(3 * m, dtype=float).reshape(3, m)
    Y = np.arange(m, dtype=float).reshape(1, m) * 10
    batches = ref.minibatches(X, Y, batch_size, np.random.default_rng(0))
    assert len(batches) == math.ceil(m / batch_size)
    assert all(xb.shape[1] == batch_size for xb, _ in batches[:-1])
    seen = np.concatenate([yb for _, yb in batches], axis=1).ravel() / 10
    assert sorted(seen) == list(range(m))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb, X[:, (yb.ravel() / 10).astype(int)])
    if m >= 8:
        assert not np.array_equal(seen, np.arange(m))


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_reference_never_modifies_inputs(exercise):
    for instance in exercise.instances(5):
        for spec in exercise.functions:
            args = copy.deepcopy(instance.args)
            if "rng" in args:
                args["rng"] = args["rng"].make()
            before = copy.deepcopy({k: v for k, v in args.items() if k != "rng"})
            call(spec.name, args)
            for key, value in before.items():
                assert_same(value, args[key])


def assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    else:
        np.testing.assert_array_equal(a, b)
