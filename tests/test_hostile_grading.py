"""Hostile submissions graded end to end: valid reports, no unearned credit, nothing left behind.

The sandbox's own tests (tests/test_sandbox_hostile.py) attack the isolation layer; these
check what a TA sees: one valid report per submission, honest functions keeping their
points beside hostile ones, and the report on disk being the grader's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.batch import BatchOptions, grade_batch
from grader.engine import GradeOptions, grade
from grader.report import Report
from grader.sandbox import Limits

HOSTILE = Path(__file__).resolve().parent / "hostile"
LIMITS = Limits(call_seconds=1.0, load_seconds=3.0, submission_seconds=20.0, memory_mb=512)
HONEST = {"relu", "relu_grad", "sigmoid_grad"}
# Hostile in how they behave, but the values they return are right: they keep the points.
HOSTILE_BUT_CORRECT = {"output_flood"}


@pytest.mark.parametrize("path", sorted(HOSTILE.glob("*.py")), ids=lambda p: p.stem)
def test_hostile_functions_earn_nothing_and_honest_ones_keep_their_points(path):
    report = grade(path, GradeOptions(exercises=["activations"], limits=LIMITS))
    Report.model_validate_json(report.to_json())
    passed = {c.function for c in report.exercises[0].checks if c.passed}
    expected = HONEST | ({"sigmoid"} if path.stem in HOSTILE_BUT_CORRECT else set())
    assert passed == expected
    assert report.score == len(expected)


MARKER = b"sleep\x00600.4242"  # the detached grandchild of hostile/detached_process.py


def detached_sleepers() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(MARKER):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_no_process_survives_grading():
    assert detached_sleepers() == []
    grade(HOSTILE / "detached_process.py", GradeOptions(exercises=["activations"], limits=LIMITS))
    time.sleep(0.3)
    assert detached_sleepers() == []


def test_the_report_on_disk_is_the_graders(tmp_path):
    """A submission that knows the report path tries to overwrite it, now and later."""
    out = tmp_path / "report.json"
    fake = json.dumps({"score": 50, "max_score": 50, "exercises": []})
    submission = tmp_path / "tamper.py"
    submission.write_text(
        textwrap.dedent(
            f"""
            import atexit, os, time
            import numpy as np

            PATH = {str(out)!r}
            FAKE = {fake!r}

            def write():
                try:
                    with open(PATH, "w") as f:
                        f.write(FAKE)
                except OSError:
                    pass

            write()
            atexit.register(write)
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    for _ in range(30):
                        write()
                        time.sleep(0.1)
                os._exit(0)

            print(FAKE)

            def relu(z):
                write()
                return np.zeros_like(z)
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(submission),
            "-e",
            "activations",
            "--json",
            str(out),
            "--call-timeout",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    time.sleep(3.5)
    report = Report.model_validate_json(out.read_text())
    assert report.score == 0 and report.max_score == 4
    assert report.exercises[0].checks[0].function == "sigmoid"


def test_a_batch_of_every_hostile_submission_gives_one_valid_report_each(tmp_path):
    result = grade_batch(
        HOSTILE,
        tmp_path / "out",
        BatchOptions(exercises=["activations"], workers=2, limits=LIMITS),
    )
    files = sorted(p.stem for p in HOSTILE.glob("*.py"))
    assert sorted(o.student for o in result.outcomes) == files
    assert all(o.status == "graded" for o in result.outcomes)
    for outcome in result.outcomes:
        on_disk = Report.model_validate_json(
            (tmp_path / "out" / "reports" / f"{outcome.student}.json").read_text()
        )
        assert on_disk.score == (4 if outcome.student in HOSTILE_BUT_CORRECT else 3), (
            outcome.student
        )
    assert detached_sleepers() == []


def test_an_in_place_update_is_caught_however_the_child_is_patched():
    """Whether an argument was modified is decided in the parent: patching numpy's
    comparisons or the child's wire module does not hide an in-place update."""
    path = HOSTILE / "hides_mutation.py"
    report = grade(path, GradeOptions(exercises=["activations", "optimizers"], limits=LIMITS))
    checks = {c.function: c for e in report.exercises for c in e.checks}
    for name in ("sigmoid", "sgd_step"):
        assert not checks[name].passed
        assert checks[name].diagnosis.code == "mutated_input", checks[name].message
    assert {"relu", "relu_grad", "sigmoid_grad"} <= {n for n, c in checks.items() if c.passed}


NAIVE_SIGMOID = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
STABLE_SIGMOID = "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(0.5 * z))\n"
SILENCERS = {
    "seterr": 'np.seterr(all="ignore")',
    "simplefilter": 'warnings.simplefilter("ignore")',
    "filterwarnings": 'warnings.filterwarnings("ignore")',
    "patched_functions": (
        'np.seterr(all="ignore")\n'
        "np.errstate.__enter__ = lambda self: None\n"
        "np.errstate = lambda *a, **k: contextlib.nullcontext()\n"
        "warnings.catch_warnings = lambda *a, **k: contextlib.nullcontext([])\n"
        "warnings.simplefilter = lambda *a, **k: None\n"
        "warnings._showwarnmsg = lambda message: None\n"
        "warnings.showwarning = lambda *a, **k: None\n"
        'warnings.filters[:] = [("ignore", None, Warning, None, 0)]\n'
    ),
    "fake_warnings_module": (
        "fake = types.ModuleType('warnings')\n"
        "fake.filters = [('ignore', None, Warning, None, 0)]\n"
        "fake._showwarnmsg = lambda message: None\n"
        "sys.modules['warnings'] = fake\n"
    ),
}


@pytest.mark.parametrize("silencer", sorted(SILENCERS))
@pytest.mark.parametrize("correct", [False, True], ids=["naive", "stable"])
def test_silencing_warnings_at_top_level_does_not_hide_an_overflow(tmp_path, silencer, correct):
    """Every call runs under numpy's default error state (over, invalid, divide: warn) and
    records every warning, whatever the top-level code did to numpy or the warnings module:
    a naive sigmoid that overflows still gets not_finite, a stable one still passes."""
    path = tmp_path / "silenced.py"
    path.write_text(
        "import contextlib, sys, types, warnings\n"
        "import numpy as np\n"
        + SILENCERS[silencer]
        + "\n"
        + (STABLE_SIGMOID if correct else NAIVE_SIGMOID)
    )
    report = grade(path, GradeOptions(exercises=["activations"], limits=LIMITS))
    (check,) = [c for c in report.exercises[0].checks if c.function == "sigmoid"]
    if correct:
        assert check.passed, check.message
    else:
        assert not check.passed
        assert check.diagnosis.code == "not_finite", check.message
        assert "overflow" in check.message


@pytest.mark.parametrize("path", sorted(HOSTILE.glob("*.py")), ids=lambda p: p.stem)
def test_the_command_line_grades_every_hostile_file_without_a_traceback(path, tmp_path):
    """What a TA runs: `grader grade FILE --json -` exits 0 with a valid report, and nothing
    the submission does makes the grader print a traceback of its own."""
    command = [sys.executable, "-m", "grader", "grade", str(path), "-e", "activations"]
    command += ["--json", "-", "--call-timeout", "1", "--budget", "20", "--memory-mb", "512"]
    command += ["--limit", "load_seconds=3"]
    done = subprocess.run(command, capture_output=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    report = Report.model_validate_json(done.stdout)
    assert report.max_score == 4
