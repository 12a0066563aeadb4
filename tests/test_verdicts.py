"""Verdicts a TA can trust: no crash on a wrong-shaped gradient, no diagnosis contradicting
the report it is in, each output of a tuple or dict diagnosed on its own, and grading that
follows the contract (the rng of minibatches, overflow-safety asked of sigmoid alone)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.engine import GradeOptions, grade
from grader.report import CheckResult, Report

CORRECT = (Path(__file__).parent.parent / "submissions" / "correct.py").read_text()


def graded(tmp_path: Path, exercise: str, replacement: str) -> Report:
    """The correct solution with one function redefined at the end of the file."""
    path = tmp_path / "submission.py"
    path.write_text(CORRECT + "\n\n" + textwrap.dedent(replacement))
    return grade(path, GradeOptions(exercises=(exercise,), seed=7))


def check(report: Report, function: str) -> CheckResult:
    return next(c for e in report.exercises for c in e.checks if c.function == function)


# ------------------------------------------------------------------ wrong-shaped gradients

# Each has wrong values in an output the comparison meets first and a wrong shape in one it
# meets later: the values code sent the whole answer to the finite-difference checks, which
# broadcast the later output against the direction and raised.
WRONG_SHAPED = {
    "a (k, k) dW2 where (k, n) is due": (
        "deep_network",
        "deep_backward",
        """
        _right_deep_backward = deep_backward
        def deep_backward(X, Y, params):
            grads = _right_deep_backward(X, Y, params)
            grads["W1"] = 2.0 * grads["W1"]
            if "W2" in grads:
                k, n = grads["W2"].shape
                grads["W2"] = np.ones((k, k)) if k != n else np.ones((k, n + 1))
            return grads
        """,
    ),
    "a (1, k + 1) dW2 where (1, k) is due": (
        "two_layer_mlp",
        "mlp_backward",
        """
        _right_mlp_backward = mlp_backward
        def mlp_backward(X, y, params):
            grads = _right_mlp_backward(X, y, params)
            grads["b1"] = 2.0 * grads["b1"]
            grads["W2"] = np.ones((1, grads["W2"].shape[1] + 1))
            return grads
        """,
    ),
    "a (2, 1) db1 where (k, 1) is due": (
        "two_layer_linear",
        "linear2_backward",
        """
        _right_linear2_backward = linear2_backward
        def linear2_backward(X, y, params):
            grads = _right_linear2_backward(X, y, params)
            grads["W1"] = 3.0 * grads["W1"]
            grads["b1"] = np.ones((grads["b1"].shape[0] + 1, 2))
            return grads
        """,
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_SHAPED))
def test_a_wrong_shaped_gradient_gets_a_report_not_a_traceback(tmp_path, case):
    exercise, function, code = WRONG_SHAPED[case]
    report = graded(tmp_path, exercise, code)
    result = check(report, function)
    assert not result.passed and result.score == 0
    assert result.diagnosis is not None and result.diagnosis.code != "forward_wrong"
    forward = next(c for c in report.exercises[0].checks if c.function.endswith("forward"))
    assert forward.passed


def test_the_forward_is_never_blamed_when_it_passed(tmp_path):
    """db1 left unsummed, shape (k, m): the own-forward check used to broadcast it against a
    (k, 1) direction, find it 'consistent' and blame a forward that passed."""
    report = graded(
        tmp_path,
        "two_layer_linear",
        """
        def linear2_backward(X, y, params):
            W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
            m = X.shape[1]
            Z = W1 @ X + b1
            dy_hat = 2.0 / m * (W2 @ Z + b2 - y)
            dZ = W2.T @ dy_hat
            return {"W1": dZ @ X.T, "b1": dZ, "W2": dy_hat @ Z.T, "b2": float(np.sum(dy_hat))}
        """,
    )
    assert check(report, "linear2_forward").passed
    backward = check(report, "linear2_backward")
    assert not backward.passed
    codes = {backward.diagnosis.code} | {f.diagnosis.code for f in backward.failures}
    assert "forward_wrong" not in codes
    assert backward.diagnosis.mistake == "linear2_b1_not_summed"


def test_the_forward_is_still_blamed_when_it_failed(tmp_path):
    """The other side of the rule: a backward that differentiates a wrong forward exactly."""
    report = graded(
        tmp_path,
        "univariate_regression",
        """
        def univariate_forward(x, w, b):
            return w * x + 2 * b

        def univariate_backward(x, y, w, b):
            m = x.shape[1]
            d = 2.0 / m * (w * x + 2 * b - y)
            return float(np.sum(d * x)), float(2 * np.sum(d))
        """,
    )
    assert not check(report, "univariate_forward").passed
    assert check(report, "univariate_backward").diagnosis.code == "forward_wrong"


# ------------------------------------------------------------------ one output at a time

ONE_OUTPUT_WRONG = {
    "dw missing its factor 2": (
        "univariate_regression",
        "univariate_backward",
        """
        def univariate_backward(x, y, w, b):
            m = x.shape[1]
            r = w * x + b - y
            return float(np.sum(r * x) / m), float(2.0 * np.sum(r) / m)
        """,
        ("scaled", "dw", "dw is 2 times too small"),
    ),
    "db with the wrong sign": (
        "univariate_regression",
        "univariate_backward",
        """
        def univariate_backward(x, y, w, b):
            m = x.shape[1]
            d = 2.0 / m * (w * x + b - y)
            return float(np.sum(d * x)), -float(np.sum(d))
        """,
        ("sign", "db", "db has the wrong sign"),
    ),
    "db missing its 1/m": (
        "logistic_regression",
        "logistic_backward",
        """
        def logistic_backward(X, y, w, b):
            m = X.shape[1]
            y_hat = sigmoid(w @ X + b)
            return (y_hat - y) @ X.T / m, float(np.sum(y_hat - y))
        """,
        ("scaled", "db", "db is m times too large"),
    ),
    "dW missing its 1/m": (
        "multivariate_regression",
        "multivariate_backward",
        """
        def multivariate_backward(X, y, w, b):
            m = X.shape[1]
            r = w @ X + b - y
            return 2.0 * r @ X.T, float(2.0 / m * np.sum(r))
        """,
        ("scaled", "dw", "dw is m times too large"),
    ),
    "dW1 averaged twice": (
        "two_layer_linear",
        "linear2_backward",
        """
        _right_linear2_backward = linear2_backward
        def linear2_backward(X, y, params):
            grads = _right_linear2_backward(X, y, params)
            grads["W1"] = grads["W1"] / X.shape[1]
            return grads
        """,
        ("scaled", "dW1", "dW1 is m times too small"),
    ),
}


@pytest.mark.parametrize("case", sorted(ONE_OUTPUT_WRONG))
def test_a_factor_or_sign_on_one_output_is_named_with_that_output(tmp_path, case):
    exercise, function, code, (diagnosis, output, text) = ONE_OUTPUT_WRONG[case]
    result = check(graded(tmp_path, exercise, code), function)
    assert not result.passed
    assert result.diagnosis.code == diagnosis
    assert result.diagnosis.output == output
    assert text in result.message
    assert "[0]" not in result.message and "[1]" not in result.message


# ------------------------------------------------------------------ the contract, only it


def shuffled_batches(permutation: str) -> str:
    """A minibatches that shuffles with the given permutation expression of m."""
    return f"""
        def minibatches(X, Y, batch_size, rng):
            m = X.shape[1]
            perm = {permutation}
            X, Y = X[:, perm], Y[:, perm]
            return [(X[:, s : s + batch_size], Y[:, s : s + batch_size])
                    for s in range(0, m, batch_size)]
        """


IGNORING_RNG = {
    "the global rng": ("np.random.permutation(m)", "same rng"),
    "a fixed seed of its own": ("np.random.default_rng(0).permutation(m)", "different seeds"),
}


@pytest.mark.parametrize("case", sorted(IGNORING_RNG))
def test_minibatches_that_do_not_shuffle_with_their_rng_fail(tmp_path, case):
    permutation, said = IGNORING_RNG[case]
    result = check(graded(tmp_path, "optimizers", shuffled_batches(permutation)), "minibatches")
    assert not result.passed
    assert result.diagnosis.code == "not_reproducible"
    assert said in result.message


def test_minibatches_drawing_from_rng_in_another_way_pass(tmp_path):
    report = graded(
        tmp_path,
        "optimizers",
        """
        def minibatches(X, Y, batch_size, rng):
            order = list(range(X.shape[1]))
            rng.shuffle(order)
            chunks = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
            return [(X[:, chunk], Y[:, chunk]) for chunk in chunks]
        """,
    )
    assert check(report, "minibatches").passed


def test_a_textbook_sigmoid_grad_is_not_graded_on_overflow(tmp_path):
    report = graded(
        tmp_path,
        "activations",
        """
        def sigmoid_grad(z):
            return np.exp(-z) / (1.0 + np.exp(-z)) ** 2
        """,
    )
    assert check(report, "sigmoid_grad").passed
    assert check(report, "sigmoid").passed


def test_a_naive_sigmoid_still_fails_on_overflow(tmp_path):
    report = graded(
        tmp_path,
        "activations",
        """
        def sigmoid(z):
            return 1.0 / (1.0 + np.exp(-z))
        """,
    )
    result = check(report, "sigmoid")
    assert not result.passed and result.diagnosis.code == "not_finite"
    assert result.instances_passed == result.instances_total - 1


def test_the_problem_line_says_a_failing_statement_was_skipped_and_the_rest_ran(tmp_path):
    path = tmp_path / "submission.py"
    path.write_text("import numpy as np\nW = undefined_name\n\n" + CORRECT)
    report = grade(path, GradeOptions(exercises=("chain_rule",), seed=7))
    assert report.errors == [
        "submission.py, line 2: NameError: name 'undefined_name' is not defined "
        "(this statement was skipped; the statements after it still ran)"
    ]
    assert report.score == report.max_score
