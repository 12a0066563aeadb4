"""An assignment: the fixed set of exercises (and their points) every student is graded on.

`grader grade`, `grader batch` and the Gradescope autograder grade every exercise of the
assignment whatever a submission attempts, so every student's total is out of the same
maximum. By default the assignment is the whole catalogue; `-e NAME` names the exercises;
an assignment file names them and may give an exercise other points than it declares:

    name = "hw2"

    [[exercises]]
    name = "two_layer_linear"
    points = 10            # optional: the exercise's declared total otherwise

    [[exercises]]
    name = "deep_network"

`exercises = ["two_layer_linear", "deep_network"]` is the short form without points. When
an exercise gets other points than it declares, each of its functions keeps its share:
scores are scaled by points / declared total. The format is documented in
docs/assignments.md.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader import catalogue

_TOP_KEYS = {"name", "exercises"}
_EXERCISE_KEYS = {"name", "points"}


class AssignmentError(ValueError):
    """An assignment file that cannot be used, with a message that says where and why."""


@dataclass(frozen=True)
class Assignment:
    """What is graded: `exercises` in order, and `points` for those given other points.

    `name` is the gradebook's name for the assignment (None: the caller decides, e.g. the
    name of the batch folder).
    """

    exercises: tuple[str, ...]
    points: Mapping[str, float] = field(default_factory=dict)
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.exercises:
            raise AssignmentError("an assignment needs at least one exercise")
        for exercise in (*self.exercises, *self.points):
            if exercise not in catalogue.current().names():
                raise AssignmentError(unknown_exercise(exercise))
        if len(set(self.exercises)) != len(self.exercises):
            raise AssignmentError("an exercise is listed twice")
        for exercise, value in self.points.items():
            check_points(value, exercise)
        object.__setattr__(self, "exercises", tuple(self.exercises))
        object.__setattr__(self, "points", dict(self.points))

    @classmethod
    def of(cls, exercises: Sequence[str] = (), name: str | None = None) -> Assignment:
        """The named exercises at their declared points; every exercise when none is named."""
        return cls(exercises=tuple(exercises) or catalogue.current().names(), name=name)

    def points_of(self, exercise: str) -> float:
        return self.points.get(exercise, catalogue.current().get(exercise).max_score)

    @property
    def max_score(self) -> float:
        return round(sum(self.points_of(name) for name in self.exercises), 4)

    @property
    def is_whole_catalogue(self) -> bool:
        return set(self.exercises) == set(catalogue.current().names()) and not self.points

    def key(self) -> str:
        """What the gradebook records as the run's selection: `exercise=points,...`."""
        return ",".join(f"{name}={self.points_of(name):g}" for name in self.exercises)

    def describe(self) -> str:
        """The report's selection text."""
        label = f"assignment {self.name}" if self.name else "assignment"
        which = "every exercise" if self.is_whole_catalogue else "the exercises of the assignment"
        return (
            f"{label}: {which}, whatever the submission attempts, out of {self.max_score:g} "
            f"points: {', '.join(self.exercises)}"
        )

    def to_toml(self) -> str:
        """The assignment as a file `load_assignment` reads back."""
        lines = [f"name = {_quoted(self.name or 'assignment')}"]
        for exercise in self.exercises:
            lines += ["", "[[exercises]]", f"name = {_quoted(exercise)}"]
            lines.append(f"points = {self.points_of(exercise):g}")
        return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def unknown_exercise(name: object) -> str:
    return f"unknown exercise {name!r}; choose from: {', '.join(catalogue.current().names())}"


def check_points(value: object, exercise: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise AssignmentError(f"points of {exercise} must be a positive number, not {value!r}")
    return float(value)


def read_toml(path: Path, error: type[Exception]) -> dict:
    """A TOML file's table; `error` (with the path and what is wrong) when it cannot be read."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not a text file (UTF-8)") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def fixed_set(exercises: Sequence[str], assignment: Assignment | None) -> Assignment:
    """What `grade`, `batch` and Gradescope grade: the assignment file's exercises, those
    named, or every exercise (AssignmentError when given both)."""
    if assignment is not None and exercises:
        raise AssignmentError("give either an assignment or exercises, not both")
    return assignment or Assignment.of(exercises)


def load_assignment(path: Path | str) -> Assignment:
    """Read an assignment file (TOML); AssignmentError says what is wrong with it."""
    path = Path(path)
    data = read_toml(path, AssignmentError)
    try:
        return parse_assignment(data)
    except AssignmentError as exc:
        raise AssignmentError(f"{path}: {exc}") from None


def parse_assignment(data: Mapping[str, object]) -> Assignment:
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise AssignmentError(
            f"unknown key {', '.join(unknown)}; an assignment has `name` and `exercises`"
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise AssignmentError('`name` is required, a non-empty string (name = "hw2")')
    items = data.get("exercises")
    if not isinstance(items, list) or not items:
        raise AssignmentError(
            "`exercises` is required: a list of exercise names, or [[exercises]] tables "
            "with `name` and optional `points`"
        )
    names: list[str] = []
    points: dict[str, float] = {}
    for index, item in enumerate(items, start=1):
        if isinstance(item, dict):
            extra = sorted(set(item) - _EXERCISE_KEYS)
            if extra:
                raise AssignmentError(
                    f"exercise {index}: unknown key {', '.join(extra)} (use `name`, `points`)"
                )
            exercise = item.get("name")
        else:
            exercise = item
        if not isinstance(exercise, str):
            raise AssignmentError(f"exercise {index}: `name` must be an exercise name")
        if exercise not in catalogue.current().names():
            raise AssignmentError(f"exercise {index}: {unknown_exercise(exercise)}")
        if exercise in names:
            raise AssignmentError(f"exercise {index}: {exercise} is listed twice")
        names.append(exercise)
        if isinstance(item, dict) and "points" in item:
            value = check_points(item["points"], exercise)
            if value != catalogue.current().get(exercise).max_score:
                points[exercise] = value
    return Assignment(exercises=tuple(names), points=points, name=name.strip())
