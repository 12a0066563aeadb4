"""The data behind a feedback page's figures, each checked against an independent oracle."""

from __future__ import annotations

import numpy as np
import pytest

from grader import illustrate
from grader.engine import GradeOptions, grade
from grader.report import CheckResult, Report
from tests.test_verdicts import graded

SEED = 7


def check(report: Report, function: str) -> CheckResult:
    return next(c for e in report.exercises for c in e.checks if c.function == function)


def figure(result: CheckResult, kind: str):
    found = [f for f in result.figure_models() if f.kind == kind]
    assert found, f"no {kind} figure among {[f['kind'] for f in result.figures]}"
    return found[0]


def with_figures(tmp_path, exercise: str, code: str) -> Report:
    path = tmp_path / "with_figures.py"
    graded(tmp_path, exercise, code)  # writes tmp_path / "submission.py"
    path.write_text((tmp_path / "submission.py").read_text())
    return grade(path, GradeOptions(exercises=(exercise,), seed=SEED, figures=True))


DW1_DOUBLED = """
_right_linear2_backward = linear2_backward
def linear2_backward(X, y, params):
    grads = _right_linear2_backward(X, y, params)
    grads["W1"] = 2.0 * grads["W1"]
    return grads
"""


def test_figures_are_made_only_when_asked_and_change_no_verdict(tmp_path):
    plain = graded(tmp_path, "two_layer_linear", DW1_DOUBLED)
    pictured = with_figures(tmp_path, "two_layer_linear", DW1_DOUBLED)
    assert all(not c.figures for e in plain.exercises for c in e.checks)
    assert [c.score for c in pictured.exercises[0].checks] == [
        c.score for c in plain.exercises[0].checks
    ]
    assert check(pictured, "linear2_forward").figures == []  # passing: nothing to draw
    assert check(pictured, "linear2_backward").figures


def test_the_error_map_holds_relative_errors_of_the_wrong_output_only(tmp_path):
    import reference as ref
    from exercises import get

    result = check(with_figures(tmp_path, "two_layer_linear", DW1_DOUBLED), "linear2_backward")
    error_map = figure(result, "error_map")
    (panel,) = error_map.panels
    assert panel.output == "dW1"
    instance = next(
        i for i in get("two_layer_linear").instances(SEED) if i.label == error_map.instance
    )
    expected = ref.linear2_backward(instance.args["X"], instance.args["y"], instance.args["params"])
    dW1 = expected["W1"]
    oracle = np.abs(2.0 * dW1 - dW1) / np.abs(dW1).max()  # |answer - expected| / scale
    assert panel.shape == list(dW1.shape)
    assert np.allclose(np.array(panel.errors), oracle.reshape(dW1.shape[0], -1))
    assert panel.tolerance == pytest.approx((1e-9 + 1e-6 * np.abs(dW1).max()) / np.abs(dW1).max())
    assert not np.isclose(np.array(panel.errors), np.abs(dW1)).all()


def test_big_error_maps_are_max_pooled_and_keep_their_worst_entry():
    rows = np.zeros((100, 7))
    rows[63, 5] = 9.0
    pooled = illustrate.max_pooled(rows)
    assert pooled.shape == (34, 7) and pooled.max() == 9.0
    assert illustrate.max_pooled(np.ones((3, 4))).shape == (3, 4)


def test_gradient_directions_agree_for_a_right_gradient_and_not_for_a_wrong_one(tmp_path):
    result = check(with_figures(tmp_path, "two_layer_linear", DW1_DOUBLED), "linear2_backward")
    directions = figure(result, "gradient_directions")
    analytic, numeric = np.array(directions.analytic), np.array(directions.numeric)
    assert len(analytic) == 2
    assert not np.allclose(analytic, numeric, rtol=1e-3)


def test_optimizer_paths_follow_the_update_rule(tmp_path):
    report = with_figures(
        tmp_path,
        "optimizers",
        """
        def sgd_step(params, grads, lr):
            return {k: params[k] + lr * grads[k] for k in params}
        """,
    )
    steps = figure(check(report, "sgd_step"), "optimizer_steps")
    A, c = np.array(steps.A), np.array(steps.center)
    lr = illustrate.HYPERPARAMETERS["lr"]
    p = np.array(steps.reference[0])
    for following in steps.reference[1:]:  # the oracle: p <- p - lr * A (p - c)
        p = p - lr * A @ (p - c)
        assert np.allclose(following, p)
    q = np.array(steps.student[0])
    for following in steps.student[1:]:  # the student's sign error climbs the bowl
        q = q + lr * A @ (q - c)
        assert np.allclose(following, q)
    assert steps.stopped is None and len(steps.student) == illustrate.STEPS + 1


def test_an_optimizer_that_fails_part_way_stops_its_path_with_a_reason(tmp_path):
    report = with_figures(
        tmp_path,
        "optimizers",
        """
        _calls = []
        def momentum_step(params, grads, velocity, lr, beta):
            _calls.append(1)
            if len(_calls) > 7:
                raise ValueError("tired")
            v = {k: beta * velocity[k] + grads[k] for k in params}
            return {k: params[k] - lr * v[k] for k in params}, v
        """,
    )
    steps = figure(check(report, "momentum_step"), "optimizer_steps")
    assert steps.stopped is not None and "tired" in steps.stopped
    assert len(steps.student) < len(steps.reference)


def test_a_loss_history_climbs_when_the_step_goes_the_wrong_way(tmp_path):
    report = with_figures(
        tmp_path,
        "gradient_descent",
        """
        def gradient_descent(X, y, w, b, lr, steps):
            losses = []
            for _ in range(steps):
                dw, db = multivariate_backward(X, y, w, b)
                losses.append(mse_loss(multivariate_forward(X, w, b), y))
                w, b = w + lr * dw, b + lr * db
            return w, b, losses
        """,
    )
    history = figure(check(report, "gradient_descent"), "loss_history")
    assert history.diverges
    assert len(history.student) == len(history.reference)
    assert history.reference[-1] < history.reference[0]


def test_batch_membership_shows_the_dropped_examples(tmp_path):
    report = with_figures(
        tmp_path,
        "optimizers",
        """
        def minibatches(X, Y, batch_size, rng):
            m = X.shape[1]
            perm = rng.permutation(m)
            X, Y = X[:, perm], Y[:, perm]
            return [(X[:, s : s + batch_size], Y[:, s : s + batch_size])
                    for s in range(0, m - batch_size + 1, batch_size)]
        """,
    )
    membership = figure(check(report, "minibatches"), "batch_membership")
    seen = [i for batch in membership.batches for i in batch]
    assert len(seen) < membership.m and len(set(seen)) == len(seen)
    assert all(len(batch) == membership.batch_size for batch in membership.batches)


def test_an_activation_curve_shows_sigmoid_where_its_derivative_belongs(tmp_path):
    report = with_figures(
        tmp_path,
        "activations",
        """
        def sigmoid_grad(z):
            return sigmoid(z)
        """,
    )
    curve = figure(check(report, "sigmoid_grad"), "activation")
    z = np.array(curve.z)
    assert np.allclose(curve.student, 1 / (1 + np.exp(-z)))
    s = 1 / (1 + np.exp(-z))
    assert np.allclose(curve.reference, s * (1 - s))


def test_figures_survive_the_json_report(tmp_path):
    report = with_figures(tmp_path, "two_layer_linear", DW1_DOUBLED)
    again = Report.model_validate_json(report.to_json())
    assert check(again, "linear2_backward").figures == check(report, "linear2_backward").figures
