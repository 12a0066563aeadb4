"""A small course for the service tests: two students, assignments on cheap exercises."""

from __future__ import annotations

from pathlib import Path

from grader.service.course import Course, load_course

ROSTER = "student_id,name\ns001,Ada\ns002,Alan\n"

COURSE = """
[course]
name = "Test course"
salt = "test-salt"
roster = "roster.csv"

[limits]
upload_bytes = 100000

[assignments.hw1]
exercises = ["chain_rule", "activations"]
deadline = 2099-01-01T00:00:00Z
max_submissions = 50

[assignments.old]
exercises = ["chain_rule"]
deadline = 2000-01-01T00:00:00+02:00
late = "refuse"
max_submissions = 2

[assignments.lenient]
exercises = ["chain_rule"]
deadline = "2000-01-01T00:00:00Z"
late = "accept"
max_submissions = 2
"""


def write_course(directory: Path, text: str = COURSE, roster: str | None = ROSTER) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    if roster is not None:
        (directory / "roster.csv").write_text(roster, encoding="utf-8")
    path = directory / "course.toml"
    path.write_text(text, encoding="utf-8")
    return path


def make_course(directory: Path) -> Course:
    return load_course(write_course(directory))
