"""Diagnoses: scale factors, signs, transposes and shapes are named on every instance shape."""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref
from exercises import EXERCISES
from grader.compare import compare
from grader.feedback import diagnose, examples_count

GRADIENT_FUNCTIONS = [
    (exercise, spec) for exercise in EXERCISES for spec in exercise.functions if spec.gradient
]
IDS = [spec.name for _, spec in GRADIENT_FUNCTIONS]


def scaled(value, factor):
    if isinstance(value, dict):
        return {k: scaled(v, factor) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(scaled(v, factor) for v in value)
    return value * factor


def finding_for(spec, args, got):
    expected = getattr(ref, spec.name)(*(args[p] for p in spec.params))
    mismatch = compare(expected, got, spec.rtol, spec.atol)
    if mismatch is None:
        return None
    return diagnose(mismatch, expected, got, args, [], spec.rtol, spec.atol)


@pytest.mark.parametrize(("exercise", "spec"), GRADIENT_FUNCTIONS, ids=IDS)
@pytest.mark.parametrize(("factor", "name"), [(2.0, "2"), (0.5, "1/2"), ("m", "m"), ("1/m", "1/m")])
def test_scale_factors_are_named_on_every_instance(exercise, spec, factor, name):
    for instance in exercise.instances(0):
        args = instance.args
        m = examples_count(args)
        value = {"m": m, "1/m": 1 / m if m else None}.get(factor, factor)
        if value is None:
            continue
        expected = getattr(ref, spec.name)(*(args[p] for p in spec.params))
        finding = finding_for(spec, args, scaled(expected, value))
        if value == 1:
            assert finding is None, "m = 1: 1/m and 1 coincide, the answer is right there"
            continue
        assert finding is not None and finding.diagnosis.code == "scaled", instance.label
        assert name in finding.diagnosis.factor_name.split(" = "), instance.label
        if " = " in finding.diagnosis.factor_name:
            assert "cannot tell" in finding.explanation


@pytest.mark.parametrize(("exercise", "spec"), GRADIENT_FUNCTIONS, ids=IDS)
def test_sign_errors_are_named_on_every_instance(exercise, spec):
    for instance in exercise.instances(1):
        args = instance.args
        expected = getattr(ref, spec.name)(*(args[p] for p in spec.params))
        finding = finding_for(spec, args, scaled(expected, -1.0))
        assert finding.diagnosis.code == "sign", instance.label
        assert finding.diagnosis.factor == -1.0


def test_m_equals_two_says_the_factor_is_ambiguous():
    spec = EXERCISES[2].function("univariate_backward")
    args = {"x": np.array([[1.0, 2.0]]), "y": np.array([[0.5, -1.0]]), "w": 0.3, "b": -0.2}
    expected = ref.univariate_backward(**args)
    finding = finding_for(spec, args, scaled(expected, 2.0))
    assert finding.diagnosis.factor_name == "2 = m"
    assert "cannot tell" in finding.explanation


def test_transposed_square_matrix_values():
    spec = EXERCISES[4].function("linear2_backward")
    square = next(i for i in EXERCISES[4].instances(0) if i.label.startswith("n=4, k=4"))
    grads = ref.linear2_backward(square.args["X"], square.args["y"], square.args["params"])
    finding = finding_for(spec, square.args, {**grads, "W1": grads["W1"].T})
    assert finding.diagnosis.code == "transposed"
    assert "'W1'" in finding.explanation


@pytest.mark.parametrize(
    ("expected_shape", "got_shape", "code"),
    [
        ((3, 2), (2, 3), "shape_transposed"),
        ((3, 1), (3, 5), "shape_broadcast"),
        ((3, 1), (3,), "shape"),
    ],
)
def test_shape_codes(expected_shape, got_shape, code):
    mismatch = compare(np.ones(expected_shape), np.ones(got_shape), 1e-6, 1e-9)
    assert mismatch.code == code
    assert str(expected_shape) in mismatch.message and str(got_shape) in mismatch.message


def test_messages_never_print_the_expected_array():
    spec = EXERCISES[5].function("sigmoid2_backward")
    instance = EXERCISES[5].instances(0)[0]
    grads = ref.sigmoid2_backward(instance.args["X"], instance.args["y"], instance.args["params"])
    wrong = {**grads, "W1": grads["W1"] + 0.1}
    finding = finding_for(spec, instance.args, wrong)
    for value in grads["W1"].ravel():
        assert f"{value:.3g}" not in finding.explanation


def test_scalar_outputs_accept_any_size_one_form():
    for got in (2.5, np.float64(2.5), np.array(2.5), np.array([2.5]), np.array([[2.5]])):
        assert compare(2.5, got, 1e-6, 1e-9) is None
    assert compare(2.5, np.array([2.5, 2.5]), 1e-6, 1e-9).code == "shape"
    assert compare(2.5, "2.5", 1e-6, 1e-9).code == "wrong_type"
    assert compare(np.array(0.5), np.float64(0.5), 1e-6, 1e-9) is None
