"""The engine end to end: unusual correct styles get full marks, wrong answers never pass."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest

from grader import catalogue
from grader.engine import GradeOptions, grade
from grader.sandbox import Limits

SAMPLES = Path(__file__).resolve().parents[1] / "submissions"
FAST = Limits(call_seconds=2.0, submission_seconds=30.0)

UNUSUAL_BUT_CORRECT = """
import numpy as np
from math import exp


def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    for index in np.ndindex(z.shape):
        v = z[index]
        out[index] = 1 / (1 + exp(-v)) if v >= 0 else exp(v) / (1 + exp(v))
    return out


def sigmoid_grad(z):
    s = sigmoid(z)
    return s - s ** 2


def relu(z):
    return np.where(z > 0, z, 0.0)


def relu_grad(z):
    return np.heaviside(z, 0.0)


def univariate_forward(x, w, b):
    return np.array([[w * xi + b for xi in x[0]]])


def mse_loss(y_hat, y):
    return np.mean((y_hat - y) ** 2, keepdims=True)  # a (1, 1) array is a size-1 number


def univariate_backward(x, y, w, b):
    m = x.shape[1]
    dw = db = 0.0
    for i in range(m):
        r = w * x[0, i] + b - y[0, i]
        dw += 2 * r * x[0, i] / m
        db += 2 * r / m
    return [np.float64(dw), np.array(db)]  # a list where a tuple is due is accepted


def linear2_forward(X, params):
    Z = np.einsum("kn,nm->km", params["W1"], X) + params["b1"]
    return np.einsum("ok,km->om", params["W2"], Z) + params["b2"]


def linear2_backward(X, y, params):
    m = X.shape[1]
    Z = np.einsum("kn,nm->km", params["W1"], X) + params["b1"]
    dY = (2 / m) * (params["W2"] @ Z + params["b2"] - y)
    dZ = np.outer(params["W2"], np.ones(1)) * dY
    dW2 = np.einsum("om,km->ok", dY, Z)
    return dict(W1=np.einsum("km,nm->kn", dZ, X), b1=dZ.sum(1)[:, None], W2=dW2, b2=dY.sum())
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def failures(report) -> dict[str, str]:
    return {
        c.function: c.diagnosis.code for e in report.exercises for c in e.checks if not c.passed
    }


def test_correct_answers_in_unusual_styles_get_full_marks(tmp_path):
    path = write(tmp_path, "unusual.py", UNUSUAL_BUT_CORRECT)
    report = grade(path, GradeOptions(limits=FAST))
    assert {e.name for e in report.exercises} == {
        "activations",
        "univariate_regression",
        "two_layer_linear",
    }
    assert "whose functions the submission defines" in report.selection
    assert failures(report) == {}
    assert report.score == report.max_score == sum(e.max_score for e in report.exercises)


def test_wrong_types_nan_and_lying_objects_fail_with_the_right_code(tmp_path):
    path = write(
        tmp_path,
        "liar.py",
        """
        import numpy as np

        class AlwaysEqual:
            def __eq__(self, other):
                return True
            def __array__(self, dtype=None, copy=None):
                raise RuntimeError("gotcha")

        class Sneaky(np.ndarray):
            def __eq__(self, other):
                return np.ones(self.shape, bool)

        def sigmoid(z):
            return AlwaysEqual()

        def sigmoid_grad(z):
            return np.full(np.shape(z), np.nan)

        def relu(z):
            return np.maximum(z, 0).tolist()

        def relu_grad(z):
            return np.zeros(np.shape(z)).view(Sneaky)
        """,
    )
    report = grade(path, GradeOptions(exercises=["activations"], limits=FAST))
    assert failures(report) == {
        "sigmoid": "wrong_type",
        "sigmoid_grad": "not_finite",
        "relu": "wrong_type",
        "relu_grad": "wrong_values",
    }
    assert report.score == 0


def test_errors_are_reported_in_student_terms_and_the_rest_is_graded(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
        nbformat.v4.new_code_cell("def relu(z):\n    return np.maximum(z, 0)"),
        nbformat.v4.new_code_cell("def relu_grad(z)\n    return (z > 0) * 1.0"),
        nbformat.v4.new_code_cell(
            "def sigmoid(z):\n    return 1 / (1 + np.exp(-z)) + undefined_name"
        ),
    ]
    path = tmp_path / "broken.ipynb"
    nbformat.write(notebook, path)
    report = grade(path, GradeOptions(exercises=["activations"], limits=FAST))
    assert any("code cell 3" in error and "SyntaxError" in error for error in report.errors)
    found = failures(report)
    assert found["relu_grad"] == "missing" and found["sigmoid"] == "exception"
    assert "relu" not in found
    sigmoid = next(c for c in report.exercises[0].checks if c.function == "sigmoid")
    assert "undefined_name" in sigmoid.message and "code cell 4" in sigmoid.message


def test_same_inputs_and_seed_give_identical_json_apart_from_durations():
    sample = SAMPLES / "bug_linear2_dW1_transposed.py"

    def run() -> dict:
        report = grade(sample, GradeOptions(student_id="s123", limits=FAST))
        data = json.loads(report.to_json())
        data.pop("duration_seconds")
        return data

    first, second = run(), run()
    assert first == second
    assert first["seed"] == grade(sample, GradeOptions(student_id="s123", limits=FAST)).seed
    other = grade(sample, GradeOptions(student_id="s999", limits=FAST))
    assert other.seed != first["seed"]


def test_a_corrupt_notebook_gets_a_valid_report(tmp_path):
    path = write(tmp_path, "corrupt.ipynb", '{"cells": [ this is not json')
    report = grade(path, GradeOptions(limits=FAST))
    assert report.score == 0
    assert report.max_score == sum(e.max_score for e in catalogue.current().exercises)
    assert any("not a valid Jupyter notebook" in error for error in report.errors)
    assert set(failures(report).values()) == {"missing"}


@pytest.mark.parametrize("top_level", ["import sys; sys.exit(0)", "raise KeyboardInterrupt"])
def test_exiting_at_import_does_not_stop_grading(tmp_path, top_level):
    path = write(
        tmp_path,
        "exits.py",
        f"""
        import numpy as np

        def relu(z):
            return np.maximum(z, 0)

        {top_level}

        def relu_grad(z):
            return (z > 0) * 1.0
        """,
    )
    report = grade(path, GradeOptions(exercises=["activations"], limits=FAST))
    assert "relu" not in failures(report)
    assert report.errors


def test_a_sigmoid_that_overflows_fails_even_with_the_right_values(tmp_path):
    naive = write(
        tmp_path,
        "naive.py",
        """
        import numpy as np

        def sigmoid(z):
            return 1 / (1 + np.exp(-z))

        def sigmoid_grad(z):
            s = sigmoid(z)
            return s * (1 - s)
        """,
    )
    report = grade(naive, GradeOptions(exercises=["activations"], limits=FAST))
    sigmoid = next(c for c in report.exercises[0].checks if c.function == "sigmoid")
    assert not sigmoid.passed and sigmoid.diagnosis.code == "not_finite"
    assert "overflow" in sigmoid.message
    assert sigmoid.instances_passed == sigmoid.instances_total - 1
    grad = next(c for c in report.exercises[0].checks if c.function == "sigmoid_grad")
    assert grad.passed, "only sigmoid's contract forbids warnings"


def test_plotting_and_progress_libraries_are_harmless_stand_ins(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import numpy as np\nimport matplotlib.pyplot as plt\nfrom tqdm import tqdm\n"
            "from IPython.display import display, Markdown"
        ),
        nbformat.v4.new_code_cell("def relu(z):\n    return np.maximum(z, 0)"),
        nbformat.v4.new_code_cell(
            "losses = [relu(np.array([i - 2.0]))[0] for i in tqdm(range(5))]\n"
            "fig, ax = plt.subplots()\nax.plot(losses)\nplt.title('loss')\nplt.show()\n"
            "display(Markdown('done'))\nassert len(losses) == 5"
        ),
    ]
    path = tmp_path / "plots.ipynb"
    nbformat.write(notebook, path)
    report = grade(path, GradeOptions(limits=FAST))
    assert report.errors == []
    assert [e.name for e in report.exercises] == ["activations"]
    assert "relu" not in failures(report)


def test_a_generator_of_minibatches_is_a_list_of_minibatches(tmp_path):
    path = write(
        tmp_path,
        "gen.py",
        """
        def minibatches(X, Y, batch_size, rng):
            order = rng.permutation(X.shape[1])
            for start in range(0, X.shape[1], batch_size):
                cols = order[start : start + batch_size]
                yield X[:, cols], Y[:, cols]
        """,
    )
    report = grade(path, GradeOptions(exercises=["optimizers"], limits=FAST))
    minibatches = next(c for c in report.exercises[0].checks if c.function == "minibatches")
    assert minibatches.passed, minibatches.message
