"""course.toml: the example loads, and every kind of mistake is a CourseError naming the
file and the field."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grader import catalogue
from grader.service.course import DEFAULT_UPLOAD_BYTES, CourseError, load_course
from tests.service_helpers import COURSE, ROSTER, write_course

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_course_loads():
    course = load_course(ROOT / "examples" / "course.toml")
    assert course.name == "Deep Learning 101"
    assert course.salt
    assert course.students == ("s001", "s002", "s003", "s004")
    assert course.limits.upload_bytes == DEFAULT_UPLOAD_BYTES
    assert course.limits.requests_per_minute == 30
    hw1, hw2 = course.assignment("hw1"), course.assignment("hw2")
    assert hw1.graded.exercises == ("chain_rule", "activations", "univariate_regression")
    assert hw1.graded.name == "hw1"
    assert hw1.graded.max_score == 11
    assert hw1.late == "refuse" and hw2.late == "accept"
    assert hw2.deadline == datetime(2027, 2, 12, 23, 59, tzinfo=UTC)
    assert hw1.deadline.utcoffset() is not None
    assert hw2.max_submissions == 5


def test_defaults_and_late(tmp_path):
    course = load_course(write_course(tmp_path, COURSE.replace("upload_bytes = 100000", "")))
    assert course.limits.upload_bytes == 2 * 1024 * 1024
    old = course.assignment("old")
    assert old.is_late(datetime.now(UTC))
    assert not course.assignment("hw1").is_late(datetime.now(UTC))
    with pytest.raises(KeyError, match="hw1"):
        course.assignment("nope")


def test_an_assignment_file_and_its_points(tmp_path):
    (tmp_path / "hw9.toml").write_text(
        'name = "whatever"\n[[exercises]]\nname = "chain_rule"\npoints = 10\n'
    )
    text = COURSE.replace('exercises = ["chain_rule", "activations"]', 'file = "hw9.toml"')
    course = load_course(write_course(tmp_path, text))
    graded = course.assignment("hw1").graded
    assert graded.exercises == ("chain_rule",)
    assert graded.max_score == 10
    assert graded.name == "hw1"


def test_packs_are_loaded_relative_to_the_course_file(tmp_path):
    pack = os.path.relpath(ROOT / "examples" / "course_pack", tmp_path)  # relative to the file
    text = COURSE.replace(
        'exercises = ["chain_rule", "activations"]',
        f'exercises = ["two_layer_tanh"]\npacks = ["{pack}"]',
    )
    course = load_course(write_course(tmp_path, text))
    assert course.assignment("hw1").graded.exercises == ("two_layer_tanh",)
    assert "two_layer_tanh" in catalogue.current()


def _error(tmp_path, text=COURSE, roster=ROSTER) -> str:
    path = write_course(tmp_path, text, roster)
    with pytest.raises(CourseError) as info:
        load_course(path)
    message = str(info.value)
    assert str(path) in message
    return message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"chain_rule", "activations"', '"chain_rule", "no_such"', "hw1.exercises"),
        ("2099-01-01T00:00:00Z", "2099-01-01T00:00:00", "hw1.deadline: the deadline needs"),
        ('deadline = "2000-01-01T00:00:00Z"', 'deadline = "2000-01-01 noon"', "lenient.deadline"),
        ('late = "accept"', 'late = "maybe"', "lenient.late"),
        ("max_submissions = 50", "max_submissions = 0", "hw1.max_submissions"),
        ("max_submissions = 50\n", "", "hw1.max_submissions: required field missing"),
        ('salt = "test-salt"', 'salt = ""', "course.salt"),
        ('roster = "roster.csv"', 'roster = "missing.csv"', "course.roster: the roster"),
        ("upload_bytes = 100000", "upload_bytes = -1", "limits.upload_bytes"),
        ("upload_bytes = 100000", "uploads = 3", "limits.uploads: unknown field"),
        (
            'exercises = ["chain_rule", "activations"]',
            'exercises = ["chain_rule"]\nfile = "x.toml"',
            "hw1: give either",
        ),
        ('exercises = ["chain_rule", "activations"]', 'file = "x.toml"', "hw1.file"),
        ('exercises = ["chain_rule", "activations"]', "", "hw1: give either"),
        ("[assignments.hw1]", "[assignments.hw1]\npacks = ['./nowhere']", "hw1.packs"),
    ],
)
def test_every_mistake_names_the_field(tmp_path, old, new, expected):
    assert old in COURSE
    assert expected in _error(tmp_path, COURSE.replace(old, new, 1))


def test_no_assignments_and_bad_toml(tmp_path):
    head = COURSE.split("[assignments.hw1]")[0]
    assert "assignments: required field missing" in _error(tmp_path, head)
    assert "not valid TOML" in _error(tmp_path, "[course\n")
    with pytest.raises(CourseError, match="cannot be read"):
        load_course(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("roster", "expected"),
    [
        ("id,name\ns1,Ada\n", "no `student_id` column"),
        ("student_id\ns1\ns1\n", "line 3: student id 's1' appears twice"),
        ("student_id\ns1\n\n,x\n", "is empty"),
        ("student_id\n../s1\n", "path separator"),
        ("student_id\na\\b\n", "path separator"),
        ("student_id\n..\n", "path separator"),
        ('student_id\n"a\tb"\n', "control character"),
        ("student_id\n", "no students"),
    ],
)
def test_roster_mistakes(tmp_path, roster, expected):
    message = _error(tmp_path, roster=roster)
    assert "course.roster" in message
    assert expected in message
