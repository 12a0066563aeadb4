"""Check an exercise pack before any student sees it (`grader validate-pack`).

Every check below runs the pack's own code in this process: the reference solutions, the
losses, the instance generators and the known mistakes are the instructor's, trusted like
the built-in answer key. Each gives one row per exercise (per mistake for the second),
"ok", "FAIL" or "skip", with a message; any FAIL makes the pack invalid.

1. **reference** -- the reference solution passes its own exercise on every instance of
   many seeds (default 20). The real checking code grades it
   (`grader.engine.grade_exercise`), through a `ReferenceBox` that stands in for the
   sandbox and calls the pack's solutions on a deep copy of the arguments and sends the
   value and the arguments after the call through the wire format, as a student's reply
   would be (a type the wire cannot carry fails). Each solution is also called on a deep
   copy of each instance's arguments, which must be unchanged afterwards: the grader hands
   the answer key the instance's own arrays, so a solution that modifies them would corrupt
   the grading silently. As the checks run gradcheck on every passing gradient, this also
   checks each declared gradient against finite differences of the declared loss: a wrong
   reference gradient, or a loss that is not the one the gradient differentiates, fails here.
2. **mistake CODE** -- every known mistake declared with a `variant` is caught and named:
   the variant's output, graded on each instance where it differs from the reference beyond
   the function's tolerance, must fail the function with diagnosis `known_mistake` naming
   that very mistake. On an instance where an earlier-declared mistake gives the same output
   within tolerance, the two cannot be told apart and the earlier one is named: that is
   said, not failed. A variant that equals the reference on every instance of some seed
   fails (a student making that mistake would get full marks), as does a variant that
   raises (the grader would silently never name it). Where the variant's output is nan or
   inf (Adam's bias correction with t - 1 at t = 1), the grader says `not_finite`, which is
   what the student sees: there it only has to fail. Mistakes declared with `matches` only
   recognise a student's output and have no output to grade: "skip", not checkable offline.
3.-5. **gradient steps**, **outputs**, **conditioning** -- the instances avoid the traps a
   correct answer could fall into: see `grader.validate_instances`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader import catalogue
from grader.catalogue import Pack, PackError
from grader.checks import expected_output, identical, to_wire
from grader.compare import compare
from grader.engine import grade_exercise
from grader.sandbox import CallError, CallOutcome, LoadResult
from grader.sandbox import RngSeed as WireRngSeed
from grader.sandbox.wire import roundtrip
from grader.spec import Exercise, FunctionSpec, Instance, Mistake
from grader.validate_instances import (
    FAIL,
    OK,
    SKIP,
    conditioning,
    gradient_steps,
    numeric_leaves,
    outputs,
    summary,
)

DEFAULT_SEEDS = 20
BUILT_IN_NAMES = ("exercises", "built-in")


@dataclass(frozen=True)
class Row:
    exercise: str
    check: str
    status: str
    message: str

    @property
    def failed(self) -> bool:
        return self.status == FAIL


@dataclass(frozen=True)
class Validation:
    pack: Pack
    seeds: tuple[int, ...]
    rows: tuple[Row, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not any(row.failed for row in self.rows)

    @property
    def failures(self) -> list[Row]:
        return [row for row in self.rows if row.failed]


# ------------------------------------------------------------------ loading


def load(source: str) -> Pack:
    """The pack named by a directory or a module name ("exercises" is the built-in pack).
    PackError when it cannot be loaded."""
    built_in = catalogue.built_in_pack()
    if source in BUILT_IN_NAMES:
        return built_in
    pack = catalogue.load_pack(source)
    if pack.directory is not None and pack.directory == built_in.directory:
        return built_in
    return pack


def validate_pack(source: str, seeds: int = DEFAULT_SEEDS) -> Validation:
    """Load the pack named by `source` and run every check on each of its exercises."""
    if seeds < 1:
        raise ValueError("seeds must be at least 1")
    pack = load(source)
    chosen = tuple(range(seeds))
    rows = name_rows(pack)
    for exercise in pack.exercises:
        rows += validate_exercise(exercise, chosen)
    return Validation(pack, chosen, tuple(rows))


def name_rows(pack: Pack) -> list[Row]:
    """Names must not clash with the built-in exercises (the grader loads both)."""
    if pack.source == "built-in":
        return []
    taken = {e.name for e in catalogue.built_in_pack().exercises}
    return [
        Row(
            e.name,
            "name",
            FAIL if e.name in taken else OK,
            "clashes with a built-in exercise: rename it" if e.name in taken else "unique",
        )
        for e in pack.exercises
    ]


def validate_exercise(exercise: Exercise, seeds: Sequence[int]) -> list[Row]:
    """Every check of one exercise; each gets instances of its own, so that a solution that
    modifies its inputs (a failure of the reference check) cannot skew the others."""

    def runs() -> list[tuple[int, list[Instance]]]:
        return [(seed, exercise.instances(seed)) for seed in seeds]

    rows = [reference_row(exercise, runs())]
    rows += [mistake_row(exercise, mistake, runs()) for mistake in exercise.mistakes]
    rows.append(Row(exercise.name, "gradient steps", *gradient_steps(exercise, runs())))
    rows.append(Row(exercise.name, "outputs", *outputs(exercise, runs())))
    rows.append(Row(exercise.name, "conditioning", *conditioning(exercise, runs())))
    return rows


# ------------------------------------------------------------------ the in-process box


Substitute = Callable[[tuple], Any]
"""Returns the value a call should give instead of the solution's, or NOT_SUBSTITUTED."""
NOT_SUBSTITUTED = object()


def to_call(value: Any) -> Any:
    return np.random.default_rng(value.seed) if isinstance(value, WireRngSeed) else value


class ReferenceBox:
    """Stands in for `grader.sandbox.Sandbox` when the "student" is the pack's own solutions
    (trusted instructor code): `call_many` calls them in this process on a deep copy of the
    arguments, and returns the value and the arguments after the call as the sandbox would
    decode them. `substitutes` replaces what some function returns (a known mistake)."""

    def __init__(self, exercise: Exercise, substitutes: dict[str, Substitute] | None = None):
        self.exercise = exercise
        self.substitutes = substitutes or {}

    def call_many(
        self, name: str, arg_sets: Sequence[tuple], *, return_args: bool = True, **_: Any
    ) -> list[CallOutcome]:
        spec = self.exercise.function(name)
        return [self.call(spec, tuple(sent), return_args) for sent in arg_sets]

    def call(self, spec: FunctionSpec, sent: tuple, return_args: bool) -> CallOutcome:
        args = copy.deepcopy(sent)
        try:
            value = NOT_SUBSTITUTED
            substitute = self.substitutes.get(spec.name)
            if substitute is not None:
                value = substitute(sent)
            if value is NOT_SUBSTITUTED:
                value = spec.solution(*(to_call(a) for a in args))
            value = roundtrip(value)
            after = (
                tuple(a if isinstance(a, WireRngSeed) else roundtrip(a) for a in args)
                if return_args
                else None
            )
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
            return CallOutcome(None, None, CallError("exception", message), 0.0)
        return CallOutcome(value, after, None, 0.0)


def loaded(exercise: Exercise) -> LoadResult:
    return LoadResult(names={name: "function" for name in exercise.function_names})


# ------------------------------------------------------------------ 1. reference


def reference_row(exercise: Exercise, runs: list[tuple[int, list[Instance]]]) -> Row:
    box, load_result = ReferenceBox(exercise), loaded(exercise)
    problems, total = [], 0
    for seed, instances in runs:
        total += len(instances)
        problems += [f"seed {seed}: {problem}" for problem in mutations(exercise, instances)]
        try:
            result = grade_exercise(box, load_result, exercise, instances, seed)
        except Exception as error:
            problems.append(f"seed {seed}: grading raised {type(error).__name__}: {error}")
            continue
        problems += [
            f"seed {seed}: {check.function} fails: {check.message}"
            for check in result.checks
            if not check.passed
        ]
    if problems:
        return Row(exercise.name, "reference", FAIL, summary(problems))
    message = f"passes on all {total} instances of {len(runs)} seeds"
    return Row(exercise.name, "reference", OK, message)


def mutations(exercise: Exercise, instances: list[Instance]) -> list[str]:
    """The solutions that modify their arguments. The grader itself cannot see it: it hands
    the answer key the instance's own arrays, the very ones it compares a reply with."""
    found = []
    for spec in exercise.functions:
        for instance in instances:
            if not instance.grades(spec.name):
                continue
            sent = tuple(to_wire(instance.args[p]) for p in spec.params)
            args = copy.deepcopy(sent)
            try:
                spec.solution(*(to_call(a) for a in args))
            except Exception:
                continue  # graded below: the reference fails its own check
            changed = [
                p for p, a, b in zip(spec.params, sent, args, strict=True) if not identical(a, b)
            ]
            if changed:
                found.append(
                    f"{spec.name} modified its input {', '.join(changed)} in place "
                    f"(instance {instance.label})"
                )
                break
    return found


# ------------------------------------------------------------------ 2. known mistakes


def mistake_row(
    exercise: Exercise, mistake: Mistake, runs: list[tuple[int, list[Instance]]]
) -> Row:
    check = f"mistake {mistake.code}"
    if mistake.function not in exercise.function_names:
        return Row(exercise.name, check, FAIL, f"no function {mistake.function!r} to belong to")
    if mistake.variant is None:
        return Row(exercise.name, check, SKIP, "not checkable offline (declared with `matches`)")
    spec = exercise.function(mistake.function)
    earlier = list(exercise.mistakes[: exercise.mistakes.index(mistake)])
    problems, named, caught_not_finite, shadowed = [], 0, 0, set()
    for seed, instances in runs:
        differing = 0
        for instance in instances:
            if not instance.grades(spec.name):
                continue
            try:
                wrong = mistake.variant(copy.deepcopy(instance.args))
            except Exception as error:
                problems.append(
                    f"the variant raised {type(error).__name__}: {error} "
                    f"(seed {seed}, instance {instance.label})"
                )
                continue
            expected = expected_output(spec, instance)
            if compare(expected, wrong, spec.rtol, spec.atol) is None:
                continue
            differing += 1
            verdict = mistake_verdict(exercise, spec, mistake, instance, seed, wrong)
            if verdict is None:
                named += 1
                continue
            if not finite(wrong) and verdict != "the variant's output passes":
                caught_not_finite += 1  # the report says nan/inf, which is what it is
                continue
            twin = same_output(earlier, spec, instance, wrong, verdict)
            if twin is not None:
                shadowed.add(twin)
                continue
            problems.append(f"{verdict} (seed {seed}, instance {instance.label})")
        if differing == 0:
            problems.append(
                f"the variant equals the reference on every instance of seed {seed}: a "
                "student making this mistake gets full marks"
            )
    if problems:
        return Row(exercise.name, check, FAIL, summary(problems))
    message = f"caught and named on {named} instances"
    if caught_not_finite:
        message += f"; caught as not_finite on {caught_not_finite} (its output is nan or inf)"
    if shadowed:
        message += (
            f"; on others its output equals that of {', '.join(sorted(shadowed))}, declared "
            "earlier, which is named there"
        )
    return Row(exercise.name, check, OK, message)


def finite(value: Any) -> bool:
    return all(np.all(np.isfinite(array)) for _, array in numeric_leaves(value))


def mistake_verdict(
    exercise: Exercise,
    spec: FunctionSpec,
    mistake: Mistake,
    instance: Instance,
    seed: int,
    wrong: Any,
) -> str | None:
    """Grade the variant's output on one instance; None when the function fails with this
    mistake named, else what happened instead."""
    sent = tuple(to_wire(instance.args[p]) for p in spec.params)

    def substitute(arguments: tuple) -> Any:
        return copy.deepcopy(wrong) if identical(sent, arguments) else NOT_SUBSTITUTED

    box = ReferenceBox(exercise, {spec.name: substitute})
    result = grade_exercise(box, loaded(exercise), exercise, [instance], seed)
    check = next(c for c in result.checks if c.function == spec.name)
    if check.passed:
        return "the variant's output passes"
    diagnosis = check.diagnosis
    if diagnosis is not None and diagnosis.code == "known_mistake":
        if diagnosis.mistake == mistake.code:
            return None
        return f"named as {diagnosis.mistake}"
    code = diagnosis.code if diagnosis is not None else "?"
    return f"not named: diagnosed {code} ({check.message})"


def same_output(
    earlier: list[Mistake], spec: FunctionSpec, instance: Instance, wrong: Any, verdict: str
) -> str | None:
    """The code of the earlier-declared mistake that was named instead, if its variant
    gives the same output on this instance (the two cannot be told apart there)."""
    for other in earlier:
        if other.function != spec.name or other.variant is None:
            continue
        if verdict != f"named as {other.code}":
            continue
        try:
            theirs = other.variant(copy.deepcopy(instance.args))
        except Exception:
            return None
        if compare(theirs, wrong, spec.rtol, spec.atol) is None:
            return other.code
    return None


# ------------------------------------------------------------------ 3. gradient steps


# ------------------------------------------------------------------ rendering


def table(validation: Validation):
    """A rich Table: one row per check per exercise."""
    from rich.table import Table

    pack = validation.pack
    title = f"pack {pack.name} ({pack.source}): {len(pack.exercises)} exercise(s), "
    title += f"{len(validation.seeds)} seed(s)"
    grid = Table(title=title, show_lines=False)
    grid.add_column("exercise")
    grid.add_column("check")
    grid.add_column("result")
    grid.add_column("message", overflow="fold")
    styles = {OK: "green", FAIL: "bold red", SKIP: "yellow"}
    for row in validation.rows:
        status = f"[{styles[row.status]}]{row.status}[/]"
        grid.add_row(row.exercise, row.check, status, row.message)
    return grid


def verdict(validation: Validation) -> str:
    failures = validation.failures
    if not failures:
        return f"pack {validation.pack.name}: every check passed"
    return f"pack {validation.pack.name}: {len(failures)} check(s) failed"


__all__ = [
    "DEFAULT_SEEDS",
    "PackError",
    "ReferenceBox",
    "Row",
    "Validation",
    "load",
    "table",
    "validate_exercise",
    "validate_pack",
    "verdict",
]
