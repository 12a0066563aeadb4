"""Assignment files, and the fixed set of exercises and points every student is graded on."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import exercises
from grader.assignment import Assignment, AssignmentError, load_assignment
from grader.batch import BatchOptions, grade_batch
from grader.cli import main
from grader.engine import GradeOptions, grade
from grader.gradebook import Gradebook
from grader.sandbox import Limits

SAMPLES = Path(__file__).resolve().parents[1] / "submissions"
LIMITS = Limits(call_seconds=1, submission_seconds=10)
FAST = ["--call-timeout", "1", "--budget", "10"]
HW2 = """
name = "hw2"

[[exercises]]
name = "chain_rule"
points = 6

[[exercises]]
name = "activations"
"""


def write(folder: Path, text: str, name: str = "hw2.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_an_assignment_file_names_the_exercises_and_their_points(tmp_path):
    assignment = load_assignment(write(tmp_path, HW2))
    assert assignment.name == "hw2"
    assert assignment.exercises == ("chain_rule", "activations")
    assert assignment.points == {"chain_rule": 6.0}
    assert assignment.max_score == 6 + 4
    short = load_assignment(write(tmp_path, 'name = "x"\nexercises = ["activations"]\n', "s.toml"))
    assert short.exercises == ("activations",) and short.max_score == 4
    assert load_assignment(write(tmp_path, assignment.to_toml(), "back.toml")) == assignment


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\nexercises = ["nope"]\n', "unknown exercise 'nope'"),
        ('name = "x"\n[[exercises]]\nname = "chain_rule"\npoints = -1\n', "positive number"),
        ('name = "x"\n[[exercises]]\nname = "chain_rule"\npoints = "ten"\n', "positive number"),
        ('name = "x"\n[[exercises]]\nname = "chain_rule"\npoint = 2\n', "unknown key point"),
        ('name = "x"\nexercises = ["chain_rule", "chain_rule"]\n', "listed twice"),
        ('name = "x"\nexercises = []\n', "`exercises` is required"),
        ('exercises = ["chain_rule"]\n', "`name` is required"),
        ('name = "x"\nexercise = ["chain_rule"]\n', "unknown key exercise"),
        ("name = \n", "not valid TOML"),
    ],
)
def test_a_malformed_assignment_file_says_what_is_wrong(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(AssignmentError, match=message):
        load_assignment(path)
    for command in (["grade", str(SAMPLES / "correct.py")], ["gradescope", "build", "a.zip"]):
        result = CliRunner().invoke(main, [*command, "--assignment", str(path)])
        assert result.exit_code == 2, result.output
        assert message.split("'")[0].strip("`") in result.output
    result = CliRunner().invoke(
        main, ["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--assignment", str(path)]
    )
    assert result.exit_code == 2 and "Invalid value for '--assignment'" in result.output


def test_an_assignment_and_exercises_together_are_a_usage_error(tmp_path):
    path = write(tmp_path, HW2)
    result = CliRunner().invoke(
        main, ["grade", str(SAMPLES / "correct.py"), "--assignment", str(path), "-e", "chain_rule"]
    )
    assert result.exit_code == 2 and "not both" in result.output


def test_points_scale_each_function_and_the_engine_grades_every_exercise(tmp_path):
    one = tmp_path / "one.py"
    one.write_text("def chain_forward(a, b, c):\n    return float(3 * (a + b * c))\n")
    report = grade(one, GradeOptions(assignment=load_assignment(write(tmp_path, HW2))))
    assert [e.name for e in report.exercises] == ["chain_rule", "activations"]
    assert (report.score, report.max_score) == (2, 10)  # chain_forward: 1 of 3, scaled to 6
    chain = report.exercises[0]
    assert [(c.score, c.max_score) for c in chain.checks] == [(2, 2), (0, 4)]
    assert report.selection.startswith("assignment hw2: the exercises of the assignment")


def test_batch_with_an_assignment_file_records_it_in_the_gradebook(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(SAMPLES / "correct.py", folder / "ann.py")
    (folder / "ben.py").write_text("def sigmoid(z):\n    return 0\n")
    path = write(tmp_path, HW2)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["batch", str(folder), "--out", str(out), "--assignment", str(path), "-j", "0", *FAST]
    )
    assert result.exit_code == 0, result.output
    with Gradebook(out / "gradebook.sqlite", create=False) as book:
        assert book.assignments() == ["hw2"]
        runs = book.latest_runs("hw2")
    assert [(r.student, r.score, r.max_score) for r in runs] == [("ann", 10, 10), ("ben", 0, 10)]
    assert {r.selection for r in runs} == {"chain_rule=6,activations=4"}
    assert runs[0].exercises == ["chain_rule", "activations"]
    with (out / "gradebook.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["student", "total", "max", "chain_rule", "activations"]
    assert [row["max"] for row in rows] == ["10", "10"]
    exported = CliRunner().invoke(
        main, ["gradebook", "export", "--db", str(out / "gradebook.sqlite"), "--csv", "-"]
    )
    assert exported.stdout == (out / "gradebook.csv").read_text()


def test_every_row_of_a_batch_has_the_same_max(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(SAMPLES / "correct.py", folder / "ann.py")
    (folder / "ben.py").write_text(
        "def chain_forward(a, b, c):\n    return float(3 * (a + b * c))\n"
    )
    (folder / "cy.py").write_text("def relu(z):\n    return z * (z > 0)\n")
    result = grade_batch(folder, tmp_path / "out", BatchOptions(workers=0, limits=LIMITS))
    total = sum(e.max_score for e in exercises.EXERCISES)
    with (tmp_path / "out" / "gradebook.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(row["max"]) for row in rows] == [total] * 3
    assert [o.max_score for o in result.outcomes] == [total] * 3
    assert result.max_score == total and result.exercises == exercises.names()
    assert json.loads((tmp_path / "out" / "reports" / "ben.json").read_text())["score"] == 1


def test_an_assignment_rejects_unknown_exercises_and_bad_points():
    with pytest.raises(AssignmentError, match="unknown exercise"):
        Assignment(exercises=("nope",))
    with pytest.raises(AssignmentError, match="positive number"):
        Assignment(exercises=("chain_rule",), points={"chain_rule": 0})
    assert Assignment.of().max_score == sum(e.max_score for e in exercises.EXERCISES)
