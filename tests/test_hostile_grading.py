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
