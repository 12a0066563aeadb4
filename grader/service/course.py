"""The course file, `course.toml`: what the service serves, for whom, and until when.

    [course]
    name = "Deep Learning 101"
    salt = "a secret string"       # seeds every student's instances (GradeOptions.course_salt)
    roster = "roster.csv"          # a CSV with a `student_id` column, relative to this file

    [limits]                       # optional
    upload_bytes = 2097152         # the largest submission accepted (default 2 MB)
    requests_per_minute = 30       # per student token, and per address for failed logins
    ta_requests_per_minute = 600   # per TA token (a dashboard asks for more)

    [assignments.hw1]
    exercises = ["chain_rule", "activations"]   # or: file = "hw1.toml" (an assignment file)
    packs = []                     # optional exercise packs: directories (relative to this
                                   # file) or module names
    deadline = 2027-01-15T23:59:00+01:00        # timezone-aware (ISO 8601 string or TOML)
    late = "refuse"                # or "accept": late submissions are graded and flagged
    max_submissions = 10           # graded submissions per student

`load_course` reads it into pydantic models; every problem is a `CourseError` naming the
file and the field. The packs of every assignment are added to this process's catalogue
(`grader.catalogue.use`, which also passes them to the processes it starts), since an
assignment's exercises are checked against it.
"""

from __future__ import annotations

import csv
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
)

from grader import catalogue
from grader.assignment import Assignment, AssignmentError, load_assignment, read_toml

DEFAULT_UPLOAD_BYTES = 2 * 1024 * 1024
DEFAULT_REQUESTS_PER_MINUTE = 30
DEFAULT_TA_REQUESTS_PER_MINUTE = 600
STUDENT_ID_COLUMN = "student_id"

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class CourseError(ValueError):
    """A course file that cannot be used: the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CourseInfo(_Strict):
    name: Name
    salt: Name
    roster: Path


class Limits(_Strict):
    upload_bytes: int = Field(DEFAULT_UPLOAD_BYTES, gt=0)
    requests_per_minute: int = Field(DEFAULT_REQUESTS_PER_MINUTE, gt=0)
    ta_requests_per_minute: int = Field(DEFAULT_TA_REQUESTS_PER_MINUTE, gt=0)


class CourseAssignment(_Strict):
    """One assignment of the course: what is graded, and the rules of handing in."""

    exercises: list[Name] | None = None
    file: Path | None = None
    packs: list[Name] = Field(default_factory=list)
    deadline: datetime
    late: Literal["refuse", "accept"] = "refuse"
    max_submissions: int = Field(gt=0)
    _graded: Assignment | None = PrivateAttr(default=None)

    @field_validator("deadline")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                "the deadline needs a timezone (e.g. 2027-01-15T23:59:00+01:00 or ...Z)"
            )
        return value

    @property
    def graded(self) -> Assignment:
        """The fixed exercises and points every submission is graded on."""
        if self._graded is None:  # only a model built without load_course
            raise CourseError("the assignment was not loaded by load_course")
        return self._graded

    def is_late(self, when: datetime) -> bool:
        return when > self.deadline


class Course(_Strict):
    course: CourseInfo
    limits: Limits = Field(default_factory=Limits)
    assignments: dict[Name, CourseAssignment] = Field(min_length=1)
    _students: tuple[str, ...] = PrivateAttr(default=())
    _path: Path | None = PrivateAttr(default=None)
    _roster_path: Path | None = PrivateAttr(default=None)

    @property
    def name(self) -> str:
        return self.course.name

    @property
    def salt(self) -> str:
        return self.course.salt

    @property
    def students(self) -> tuple[str, ...]:
        """The roster's student ids, in the order of the file."""
        return self._students

    @property
    def path(self) -> Path | None:
        return self._path

    def roster_columns(self) -> dict[str, dict[str, str]]:
        """Every column of the roster (name, email, ...), by student id."""
        if self._roster_path is None:
            return {}
        text = self._roster_path.read_text(encoding="utf-8-sig")
        return {
            row[STUDENT_ID_COLUMN]: {key: value or "" for key, value in row.items() if key}
            for row in csv.DictReader(text.splitlines())
            if row.get(STUDENT_ID_COLUMN)
        }

    def assignment(self, name: str) -> CourseAssignment:
        """The assignment; KeyError (with the known names) for an unknown one."""
        try:
            return self.assignments[name]
        except KeyError:
            known = ", ".join(sorted(self.assignments))
            raise KeyError(f"unknown assignment {name!r}; the course has: {known}") from None


def load_course(path: Path | str) -> Course:
    """Read and check a course file; CourseError says where and what is wrong."""
    path = Path(path)
    data = read_toml(path, CourseError)
    try:
        course = Course.model_validate(data)
    except ValidationError as exc:
        raise CourseError(f"{path}: {_first_error(exc)}") from None
    base = path.parent
    roster = (
        course.course.roster if course.course.roster.is_absolute() else base / course.course.roster
    )
    course._students = read_roster(roster, field="course.roster", course_file=path)
    course._roster_path = roster
    course._path = path
    _load_packs(course, base, path)
    for name, assignment in course.assignments.items():
        assignment._graded = _graded(name, assignment, base, path)
    return course


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] == "missing":
        message = "required field missing"
    return f"{where}: {message}"


def _load_packs(course: Course, base: Path, path: Path) -> None:
    sources: list[str] = []
    for name, assignment in course.assignments.items():
        for pack in assignment.packs:
            candidate = base / pack
            sources.append(str(candidate.resolve()) if candidate.is_dir() else pack)
            if not candidate.is_dir() and ("/" in pack or pack.startswith(".")):
                raise CourseError(f"{path}: assignments.{name}.packs: {pack!r} is not a directory")
    if not sources:
        return
    try:
        catalogue.use(sources)
    except (catalogue.PackError, ImportError) as exc:
        raise CourseError(f"{path}: assignments packs: {exc}") from None


def _graded(name: str, assignment: CourseAssignment, base: Path, path: Path) -> Assignment:
    where = f"{path}: assignments.{name}"
    if (assignment.exercises is None) == (assignment.file is None):
        raise CourseError(f"{where}: give either `exercises` (a list of names) or `file`")
    try:
        if assignment.file is not None:
            file = assignment.file if assignment.file.is_absolute() else base / assignment.file
            loaded = load_assignment(file)
            return Assignment(exercises=loaded.exercises, points=loaded.points, name=name)
        return Assignment(exercises=tuple(assignment.exercises or ()), name=name)
    except AssignmentError as exc:
        field = "file" if assignment.file is not None else "exercises"
        raise CourseError(f"{where}.{field}: {exc}") from None


# ------------------------------------------------------------------ the roster


def check_student_id(value: str) -> str | None:
    """Why `value` cannot be a student id (None: it can)."""
    if not value:
        return "a student id is empty"
    if value in {".", ".."} or "/" in value or "\\" in value:
        return f"student id {value!r} contains a path separator or is . or .."
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in value):
        return f"student id {value!r} contains a control character"
    if value != value.strip():
        return f"student id {value!r} has surrounding spaces"
    return None


def read_roster(
    roster: Path, *, field: str = "roster", course_file: Path | None = None
) -> tuple[str, ...]:
    """The student ids of a roster CSV (a `student_id` column; other columns are ignored)."""
    prefix = f"{course_file}: {field}: " if course_file else ""
    try:
        text = roster.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CourseError(f"{prefix}the roster {roster} does not exist") from None
    except OSError as exc:
        raise CourseError(f"{prefix}the roster {roster} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CourseError(f"{prefix}the roster {roster} is not a text file (UTF-8)") from None
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or STUDENT_ID_COLUMN not in reader.fieldnames:
        raise CourseError(f"{prefix}{roster}: no `{STUDENT_ID_COLUMN}` column in the header")
    ids: list[str] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        value = row.get(STUDENT_ID_COLUMN) or ""
        problem = check_student_id(value)
        if problem is None and value in seen:
            problem = f"student id {value!r} appears twice"
        if problem:
            raise CourseError(f"{prefix}{roster}: line {line}: {problem}")
        seen.add(value)
        ids.append(value)
    if not ids:
        raise CourseError(f"{prefix}{roster}: no students")
    return tuple(ids)
