"""Grade one submission: load it, run it in the sandbox, check it, build the report.

This is the library entry point the command line, batch grading and notebooks call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import exercises as catalogue
from exercises import Exercise, Instance, derive_seed
from exercises.spec import exercise_seed_sequence
from grader import __version__
from grader.checks import FunctionContext, check_function
from grader.loading import LoadedSource, load_submission
from grader.report import CheckResult, ExerciseResult, Report
from grader.sandbox import Limits, LoadResult, Sandbox

MAX_OUTPUT_SHOWN = 2000


@dataclass(frozen=True)
class GradeOptions:
    """What to grade and how. Without `exercises`, every exercise the submission attempts."""

    exercises: Sequence[str] = ()
    student_id: str | None = None
    seed: int | None = None
    course_salt: str = ""
    limits: Limits = field(default_factory=Limits)
    published: dict[str, list[Instance]] | None = None
    """Public instances with expected outputs (a student kit): used instead of the answer key."""

    def run_seed(self) -> int:
        if self.seed is not None:
            return self.seed
        return derive_seed(self.student_id or "", self.course_salt)


def grade(path: Path | str, options: GradeOptions | None = None) -> Report:
    """Grade the submission at `path` (.py, .ipynb or a folder)."""
    started = time.perf_counter()
    return grade_source(load_submission(Path(path)), options, str(path), started)


def grade_source(
    source: LoadedSource,
    options: GradeOptions | None = None,
    submission: str = "<source>",
    started: float | None = None,
) -> Report:
    """Grade code already loaded (a notebook's live functions, a file on disk)."""
    started = time.perf_counter() if started is None else started
    options = options or GradeOptions()
    seed = options.run_seed()
    with Sandbox(source, options.limits) as box:
        load = box.start()
        chosen, selection = choose_exercises(
            options.exercises, load, source.problems, options.published
        )
        results = [
            grade_exercise(box, load, exercise, instances_for(exercise, seed, options), seed)
            for exercise in chosen
        ]
        isolation = box.mode
    report = Report(
        grader_version=__version__,
        submission=submission,
        student_id=options.student_id,
        seed=seed,
        score=round(sum(r.score for r in results), 4),
        max_score=round(sum(r.max_score for r in results), 4),
        isolation=isolation,
        selection=selection,
        errors=load_errors(source, load),
        notes=list(source.notes),
        output=(load.stdout + load.stderr)[:MAX_OUTPUT_SHOWN],
        exercises=results,
    )
    report.duration_seconds = round(time.perf_counter() - started, 3)
    return report


def choose_exercises(
    requested: Sequence[str],
    load: LoadResult,
    problems: Sequence[str] = (),
    published: dict[str, list[Instance]] | None = None,
) -> tuple[list[Exercise], str]:
    """The requested exercises, else those attempted; all of them when some code could not run.

    With a public instance file, only the exercises it publishes.
    """
    everything = [e for e in catalogue.EXERCISES if published is None or e.name in published]
    if requested:
        chosen = [e for e in map(catalogue.get, requested) if e in everything]
        reason = "exercises requested"
    elif load.chunk_errors or load.error or problems:
        chosen = everything
        reason = "graded every exercise, since errors stopped part of the submission from running"
    else:
        chosen = [e for e in everything if own_functions(e) & load.names.keys()] or everything
        reason = "graded the exercises whose functions the submission defines"
        if chosen is everything:
            reason = "no exercise function found: graded every exercise"
    selection = f"{reason}: {', '.join(e.name for e in chosen)}"
    if published is not None:
        selection += "; instances and expected outputs from a public instance file"
    return chosen, selection


def own_functions(exercise: Exercise) -> set[str]:
    """Functions no other exercise declares: defining a shared one (mse_loss) attempts neither."""
    shared = {
        name
        for other in catalogue.EXERCISES
        if other is not exercise
        for name in other.function_names
    }
    return set(exercise.function_names) - shared


def instances_for(exercise: Exercise, seed: int, options: GradeOptions) -> list[Instance]:
    if options.published is not None:
        return options.published[exercise.name]
    return exercise.instances(seed)


def grade_exercise(
    box: Sandbox, load: LoadResult, exercise: Exercise, instances: list[Instance], seed: int
) -> ExerciseResult:
    checks: list[CheckResult] = []
    for index, spec in enumerate(exercise.functions):
        entropy = exercise_seed_sequence(seed, exercise.name).spawn(len(exercise.functions))[index]
        context = FunctionContext(exercise, spec, instances, np.random.default_rng(entropy))
        checks.append(check_function(box, load, context))
    return ExerciseResult(
        name=exercise.name,
        title=exercise.title,
        score=round(sum(c.score for c in checks), 4),
        max_score=exercise.max_score,
        checks=checks,
    )


def load_errors(source: LoadedSource, load: LoadResult) -> list[str]:
    errors = list(source.problems)
    for error in load.chunk_errors:
        line = f", line {error.line}" if error.line else ""
        errors.append(f"{error.label}{line}: {error.message}")
    if load.error:
        errors.append(load.error.message)
    return errors
