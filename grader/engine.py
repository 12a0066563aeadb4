"""Grade one submission: load it, run it in the sandbox, check it, build the report.

This is the library entry point the command line, batch grading and notebooks call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader import __version__, catalogue
from grader.assignment import Assignment
from grader.checks import FunctionContext, check_function
from grader.loading import LoadedSource, load_submission
from grader.report import CheckResult, ExerciseResult, Isolation, Report
from grader.sandbox import Limits, LoadResult, Sandbox
from grader.spec import Exercise, Instance, derive_seed, exercise_seed_sequence

MAX_OUTPUT_SHOWN = 2000


@dataclass(frozen=True)
class GradeOptions:
    """What to grade and how.

    With an `assignment`, its exercises at its points, whatever the submission attempts:
    every student's total is out of the same maximum (`grade`, `batch`, Gradescope).
    Without one, the exercises named in `exercises`, else only those the submission
    attempts (what `check` does for a student checking their work; the report says so).
    """

    exercises: Sequence[str] = ()
    assignment: Assignment | None = None
    student_id: str | None = None
    seed: int | None = None
    course_salt: str = ""
    limits: Limits = field(default_factory=Limits)
    published: dict[str, list[Instance]] | None = None
    """Public instances with expected outputs (a student kit): used instead of the answer key."""
    isolation: str = "auto"
    """The sandbox asked for: "auto", "strong" (IsolationUnavailable if this machine cannot
    give it) or "fallback"; an explicit mode takes precedence over GRADER_SANDBOX."""
    figures: bool = False
    """Also compute the data of a feedback page's figures for failing functions
    (`CheckResult.figures`): a few diagnostic calls more, only when a page is wanted."""

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
    with Sandbox(source, options.limits, isolation=options.isolation) as box:
        load = box.start()
        if options.assignment is not None:
            chosen, selection = assigned_exercises(options.assignment, options.published)
        else:
            chosen, selection = choose_exercises(
                options.exercises, load, source.problems, options.published
            )
        results = [
            at_points(
                grade_exercise(
                    box,
                    load,
                    exercise,
                    instances_for(exercise, seed, options),
                    seed,
                    figures=options.figures,
                ),
                options.assignment,
            )
            for exercise in chosen
        ]
        isolation = Isolation(
            mode=box.mode, requested=box.requested_isolation, reason=box.mode_reason
        )
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
    everything = [
        e for e in catalogue.current().exercises if published is None or e.name in published
    ]
    if requested:
        chosen = [e for e in map(catalogue.current().get, requested) if e in everything]
        reason = "exercises requested"
    elif load.chunk_errors or load.error or problems:
        chosen = everything
        reason = "graded every exercise, since errors stopped part of the submission from running"
    else:
        chosen = [e for e in everything if own_functions(e) & load.names.keys()] or everything
        reason = (
            "graded only what you attempted, the exercises whose functions the submission "
            "defines (`grader grade` grades every exercise of the assignment)"
        )
        if chosen is everything:
            reason = "no exercise function found: graded every exercise"
    selection = f"{reason}: {', '.join(e.name for e in chosen)}"
    if published is not None:
        selection += "; instances and expected outputs from a public instance file"
    return chosen, selection


def assigned_exercises(
    assignment: Assignment, published: dict[str, list[Instance]] | None = None
) -> tuple[list[Exercise], str]:
    """Every exercise of the assignment, attempted or not (with a public instance file, those
    of them it publishes)."""
    chosen = [catalogue.current().get(name) for name in assignment.exercises]
    selection = assignment.describe()
    if published is not None:
        chosen = [e for e in chosen if e.name in published]
        selection += "; instances and expected outputs from a public instance file"
    return chosen, selection


def at_points(result: ExerciseResult, assignment: Assignment | None) -> ExerciseResult:
    """The result scaled to the points the assignment gives the exercise (if it differs)."""
    if assignment is None or result.name not in assignment.points or not result.max_score:
        return result
    factor = assignment.points_of(result.name) / result.max_score
    checks = [
        check.model_copy(
            update={
                "score": round(check.score * factor, 4),
                "max_score": round(check.max_score * factor, 4),
            }
        )
        for check in result.checks
    ]
    return result.model_copy(
        update={
            "score": round(sum(c.score for c in checks), 4),
            "max_score": assignment.points_of(result.name),
            "checks": checks,
        }
    )


def own_functions(exercise: Exercise) -> set[str]:
    """Functions no other exercise declares: defining a shared one (mse_loss) attempts neither."""
    shared = {
        name
        for other in catalogue.current().exercises
        if other is not exercise
        for name in other.function_names
    }
    return set(exercise.function_names) - shared


def instances_for(exercise: Exercise, seed: int, options: GradeOptions) -> list[Instance]:
    if options.published is not None:
        return options.published[exercise.name]
    return exercise.instances(seed)


def grade_exercise(
    box: Sandbox,
    load: LoadResult,
    exercise: Exercise,
    instances: list[Instance],
    seed: int,
    figures: bool = False,
) -> ExerciseResult:
    """Check every function of the exercise; with `figures`, also compute the data of a
    feedback page's figures for those that failed."""
    checks: list[CheckResult] = []
    checked: dict[str, FunctionContext] = {}
    for index, spec in enumerate(exercise.functions):
        entropy = exercise_seed_sequence(seed, exercise.name).spawn(len(exercise.functions))[index]
        context = FunctionContext(
            exercise,
            spec,
            [instance for instance in instances if instance.grades(spec.name)],
            np.random.default_rng(entropy),
            checked=dict(checked),
        )
        result = check_function(box, load, context)
        if figures and not result.passed:
            from grader.figures import as_data
            from grader.illustrate import figures_for

            result.figures = as_data(figures_for(box, context, result))
        checks.append(result)
        checked[spec.name] = context
    return ExerciseResult(
        name=exercise.name,
        title=exercise.title,
        score=round(sum(c.score for c in checks), 4),
        max_score=exercise.max_score,
        checks=checks,
    )


#: What became of the code around a top-level error: the policy, said where it applies.
SKIPPED = {
    "exception": "this statement was skipped; the statements after it still ran",
    "syntax": "none of this code could run; the rest of the submission still ran",
}


def load_errors(source: LoadedSource, load: LoadResult) -> list[str]:
    """The problems of running the top-level code, one line each.

    Top-level code runs statement by statement: a statement that raises, exits, hangs or
    floods the output is skipped and the rest still runs (a block that does not compile is
    skipped whole), so each line says what was skipped."""
    errors = list(source.problems)
    for error in load.chunk_errors:
        line = f", line {error.line}" if error.line else ""
        policy = SKIPPED.get(error.kind)
        suffix = f" ({policy})" if policy else ""
        errors.append(f"{error.label}{line}: {error.message}{suffix}")
    if load.error:
        errors.append(load.error.message)
    return errors
