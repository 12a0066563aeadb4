"""`grader.check`: grading the functions a running script or notebook defines, in the sandbox,
without ever running them (or failing) in the caller's process."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import exercises as catalogue
import reference as ref
from grader import selfcheck
from grader.sandbox import Limits
from grader.selfcheck import CheckReport, check, rebuild_source

FAST = Limits(call_seconds=0.5, load_seconds=2.0, submission_seconds=20.0, memory_mb=512)
ROOT = Path(__file__).resolve().parents[1]

SIGMOID2 = "from __future__ import annotations\nimport numpy as np\n\n" + "\n\n".join(
    inspect.getsource(f)
    for f in (ref.sigmoid, ref.sigmoid_grad, ref.sigmoid2_forward, ref.sigmoid2_backward)
)


def script(tmp_path: Path, source: str, name: str = "student.py") -> dict:
    """The globals of a script run from a file, as `python student.py` would leave them."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    namespace = {"__name__": "student_script", "__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


def checks_of(report) -> dict:
    return {c.function: c for e in report.exercises for c in e.checks}


def test_correct_functions_get_full_marks(tmp_path):
    report = check("two_layer_sigmoid", namespace=script(tmp_path, SIGMOID2), show=False)
    assert isinstance(report, CheckReport)
    assert report.errors == []
    assert [e.name for e in report.exercises] == ["two_layer_sigmoid"]
    assert report.score == report.max_score == 4
    assert repr(report) == "<grader report: 4 / 4 points (100%), 1 exercise(s)>"
    assert report.submission == "student.py"


def test_a_buggy_function_is_reported_with_its_diagnosis_and_location(tmp_path):
    buggy = SIGMOID2.replace("* sigmoid_grad(Z)", "* sigmoid(Z)")
    assert buggy != SIGMOID2
    buggy += "\n\ndef relu(z):\n    raise ValueError('not yet')\n"
    namespace = script(tmp_path, buggy)
    report = check("two_layer_sigmoid", "relu", namespace=namespace, show=False)
    checks = checks_of(report)
    assert checks["sigmoid2_forward"].passed
    assert not checks["sigmoid2_backward"].passed
    assert checks["sigmoid2_backward"].diagnosis.mistake == "sigmoid_not_derivative"
    relu = checks["relu"]
    line = buggy.splitlines().index("    raise ValueError('not yet')") + 1
    assert relu.diagnosis.code == "exception"
    assert f"student.py, line {line}, in relu" in relu.message


@pytest.mark.parametrize(
    ("body", "code", "phrase"),
    [
        ("import os\n    os._exit(1)", "exception", "ended the grading process"),
        ("while True:\n        pass", "timeout", "took longer than 0.5 s"),
    ],
    ids=["os._exit", "infinite loop"],
)
def test_a_hostile_function_still_gives_a_report_and_the_caller_survives(
    tmp_path, body, code, phrase
):
    source = (
        SIGMOID2 + f"\n\ndef relu(z):\n    {body}\n\ndef relu_grad(z):\n    return (z > 0) * 1.0\n"
    )
    before = os.getpid()
    report = check("activations", namespace=script(tmp_path, source), limits=FAST, show=False)
    assert os.getpid() == before
    checks = checks_of(report)
    assert checks["relu"].diagnosis.code == code
    assert phrase in checks["relu"].message
    assert checks["sigmoid"].passed and checks["sigmoid_grad"].passed
    assert checks["relu_grad"].passed


def test_default_namespace_is_the_callers_and_exercises_are_inferred(tmp_path):
    source = SIGMOID2 + textwrap.dedent(
        """
        from grader import check

        result = check(show=False)
        """
    )
    namespace = script(tmp_path, source)
    report = namespace["result"]
    # sigmoid and sigmoid_grad belong to `activations`: it is graded too, relu missing.
    assert [e.name for e in report.exercises] == ["activations", "two_layer_sigmoid"]
    missing = {name for name, c in checks_of(report).items() if not c.passed}
    assert missing == {"relu", "relu_grad"}
    assert "defined here" in report.selection


def test_globals_the_functions_use_are_rebuilt(tmp_path):
    source = """
        from __future__ import annotations
        import functools
        import numpy
        import numpy as np
        from numpy import exp as EXP
        Params = dict[str, np.ndarray]
        SCALE = {"a": (1.0, 2)}
        ONES = np.ones((2, 0))
        NAN = np.float64("nan")
        rng = np.random.default_rng(0)

        def _clip(z):
            return np.clip(z, -500, 500) * numpy.float64(1.0)

        def sigmoid(z: Params, k=SCALE["a"][1]):
            return 1.0 / (1.0 + EXP(-_clip(z))) + 0 * ONES.size + 0 * (NAN is None)

        sigmoid_grad = lambda z: sigmoid(z) * (1.0 - sigmoid(z))

        def relu(z):
            return rng.random()

        def unused():
            return undefined_anywhere

        def logged(function):
            @functools.wraps(function)
            def wrapper(*args):
                return function(*args)
            return wrapper

        @logged
        def relu_grad(z):
            return (np.asarray(z) > 0) * 1.0
        """
    namespace = script(tmp_path, source)
    source = rebuild_source(namespace, ["sigmoid", "sigmoid_grad", "relu", "relu_grad"])
    code = "\n".join(chunk.code for chunk in source.chunks)
    imports = (
        "import functools",
        "import numpy\n",
        "import numpy as np\n",
        "from numpy import exp as",
    )
    for line in imports:
        assert line in code
    assert "SCALE = {'a': (1.0, 2)}" in code and "ONES = " in code and "NAN = " in code
    assert "def _clip(z):" in code and "sigmoid_grad = lambda" in code
    assert "unused" not in code and "Params =" not in code
    assert source.problems == (
        "Your code uses the global 'rng' (a Generator), which cannot be sent to the check; "
        "pass it as an argument or define it inside the function.",
    )
    report = check("activations", namespace=namespace, limits=FAST, show=False)
    checks = checks_of(report)
    assert checks["sigmoid"].passed and checks["sigmoid_grad"].passed
    assert checks["relu"].diagnosis.code == "exception"  # NameError: rng
    assert checks["relu_grad"].passed  # decorated: the decorator came along
    assert report.errors == list(source.problems)


def test_a_public_instance_file_replaces_the_answer_key(tmp_path, capsys):
    from grader.public_instances import write_instances

    published = tmp_path / "public.json"
    write_instances(published, [catalogue.get("two_layer_sigmoid")], seed=7)
    namespace = script(tmp_path, SIGMOID2)
    report = check(namespace=namespace, instances=published, show=False)
    assert [e.name for e in report.exercises] == ["two_layer_sigmoid"]  # activations: no data
    assert report.score == report.max_score == 4
    assert "public instance file" in report.selection
    assert check("activations", namespace=namespace, instances=published) is None
    assert "public.json has no instances for activations" in capsys.readouterr().out


def test_a_function_name_stands_for_its_exercise_and_bad_names_are_explained(tmp_path, capsys):
    namespace = script(tmp_path, SIGMOID2)
    report = check("sigmoid2_backward", namespace=namespace, show=False)
    assert [e.name for e in report.exercises] == ["two_layer_sigmoid"]
    assert check("no_such_exercise", namespace=namespace) is None
    assert "unknown exercise 'no_such_exercise'" in capsys.readouterr().out
    assert check(namespace={"__name__": "empty"}) is None
    assert "no function of the exercises is defined here" in capsys.readouterr().out


def test_check_never_raises(tmp_path, capsys, monkeypatch):
    namespace = script(tmp_path, SIGMOID2)

    def broken(*args, **kwargs):
        raise RuntimeError("sandbox exploded")

    monkeypatch.setattr(selfcheck, "grade_source", broken)
    assert check("two_layer_sigmoid", namespace=namespace) is None
    assert "sandbox exploded" in capsys.readouterr().out

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(selfcheck, "grade_source", interrupted)
    assert check("two_layer_sigmoid", namespace=namespace) is None
    assert "interrupted" in capsys.readouterr().out


def test_shows_a_text_table_outside_jupyter_and_html_inside(tmp_path, capsys, monkeypatch):
    namespace = script(tmp_path, SIGMOID2)
    check("two_layer_sigmoid", namespace=namespace)
    out = capsys.readouterr().out
    assert "student.py: 4 / 4 points" in out and "sigmoid2_backward" in out

    display = pytest.importorskip("IPython.display")
    shown = []
    monkeypatch.setattr(selfcheck, "in_jupyter", lambda: True)
    monkeypatch.setattr(display, "display", shown.append)
    check("two_layer_sigmoid", namespace=namespace)
    (html,) = shown
    assert html.data.startswith('<div class="grader-page">') and "sigmoid2_backward" in html.data
    assert "<figure" not in html.data  # everything passed: no figures, a short page
    assert capsys.readouterr().out == ""


def test_in_jupyter_the_page_shows_the_figures_of_failing_functions(tmp_path, monkeypatch):
    display = pytest.importorskip("IPython.display")
    shown = []
    monkeypatch.setattr(selfcheck, "in_jupyter", lambda: True)
    monkeypatch.setattr(display, "display", shown.append)
    buggy = SIGMOID2.replace("* sigmoid_grad(Z)", "* sigmoid(Z)")
    report = check("two_layer_sigmoid", namespace=script(tmp_path, buggy))
    (html,) = shown
    page = html.data
    assert '<figure class="plot" role="img" aria-label="' in page
    assert 'id="figures-two_layer_sigmoid-sigmoid2_backward"' in page
    assert 'id="figures-two_layer_sigmoid-sigmoid2_forward"' not in page
    assert not checks_of(report)["sigmoid2_backward"].passed
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', ""
    )


IPYTHON_SESSION = """
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
shell.run_cell("import numpy as np", store_history=True)
shell.run_cell('''
class Scale:
    FACTOR = 3.0

def chain_forward(a, b, c):
    return Scale.FACTOR * (a + b * c)

def chain_backward(a, b, c):
    x = 1
    raise ValueError("todo")
''', store_history=True)
shell.run_cell("%time from grader import check", store_history=True)
shell.run_cell("report = check('chain_rule')", store_history=True)
report = shell.user_ns["report"]
print(report.submission)
print(report.score, report.max_score)
print(report.exercises[0].checks[1].message)
"""


def test_inside_ipython_locations_name_the_cell():
    pytest.importorskip("IPython")
    result = subprocess.run(
        [sys.executable, "-c", IPYTHON_SESSION],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "this notebook\n1.0 3.0\n" in out
    assert "Cell In[2], line 9, in chain_backward" in out


def test_import_grader_stays_cheap():
    code = (
        "import sys, grader\n"
        "assert not {'numpy', 'rich', 'pydantic'} & set(sys.modules), sys.modules.keys()\n"
        "from grader import check\n"
        "assert check is grader.selfcheck.check and 'check' in dir(grader)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


JUPYTER_SESSION = """
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
shell.kernel = object()  # what a Jupyter or Colab kernel has, and a terminal IPython has not
published = []
shell.display_pub.publish = lambda data, metadata=None, **kw: published.append(data)
shell.run_cell("import numpy as np", store_history=True)
shell.run_cell('''
def relu(z):
    return np.maximum(z, 0.0)

def relu_grad(z):
    return np.where(z > 0, 1.0, 0.5)
''', store_history=True)
shell.run_cell("from grader import check", store_history=True)
shell.run_cell("report = check('relu', 'relu_grad')", store_history=True)
(data,) = published
page = data["text/html"]
print(page.count('<figure class="plot" role="img"'), 'id="figures-activations-relu_grad"' in page)
print('id="figures-activations-relu"' in page, shell.user_ns["report"].score)
"""


def test_in_an_ipython_kernel_check_displays_the_page_with_figures():
    pytest.importorskip("IPython")
    result = subprocess.run(
        [sys.executable, "-c", JUPYTER_SESSION],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    count, relu_grad, relu, score = result.stdout.split()
    assert int(count) >= 1 and relu_grad == "True" and relu == "False"
