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
3. **gradient steps** -- for every gradient-checked instance, the central difference of the
   declared loss along a random direction (entries uniform on [-1, 1], scaled so the
   largest is 1) at the grader's step h = 1e-5 agrees with the one at 10h within 10 times
   the gradient check's own band, 1e-6 (sum |g_i u_i| + |d|) + 1e-10 with g the reference
   gradient. On a smooth instance the truncation error grows 100x from h to 10h, so
   d_h - d_10h is about 99 times the truncation error at h: within 10 bands means the
   check at h keeps a 10x margin. A kink within 10h of the instance (ReLU at a
   pre-activation near 0) or saturation (tanh or the sigmoid at large |z|, where the loss
   changes by a few ulps) makes the estimate depend on the step by far more, and the
   grader's verdict on a correct or a wrong gradient would be luck.
   The loss must also change measurably along the direction: |f(x + hu) - f(x - hu)| must
   exceed 1e6 ulps of the loss (1e6 * eps * |f|), or the difference keeps fewer than the
   six digits the 1e-6 tolerance needs (fully saturated, both estimates are exactly 0 and
   "agree"). A loss exactly 0 at every point (every ReLU off) is exact, not rounded:
   allowed.
4. **outputs** -- every reference output array (each item of a tuple, each entry of a
   dict) is finite and not all ~0: half its largest entry must exceed 1000 times the
   function's tolerance (atol + rtol * max|a|), so that a wrong factor of 2 or 1/2, a wrong
   sign or a dropped term moves the answer far outside the tolerance instead of hiding in
   it (about max|a| > 2e-6 at the default tolerance). An array of exact zeros is allowed:
   it is a deliberate value probe (ReLU of negative z), where any answer that is not ~0
   fails, and only a wrong factor of zero could hide.
5. **conditioning** -- the reference output is stable under a 1e-9 relative perturbation of
   every float input (each entry times 1 + 1e-9 r, r uniform on [-1, 1]): each output array
   moves by less than 1e-4 relative to its largest entry. A larger change means the
   problem amplifies input errors by more than 1e5 (a near-singular normal equation), so
   that two correct formulations (solve, inv, lstsq) differ by about 1e5 * eps = 1e-11 or
   more, no longer orders of magnitude inside the 1e-6 tolerance: a correct student answer
   could fail.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader import catalogue, gradcheck
from grader.catalogue import Pack, PackError
from grader.checks import expected_output, identical, to_wire
from grader.compare import compare
from grader.engine import grade_exercise
from grader.sandbox import CallError, CallOutcome, LoadResult
from grader.sandbox import RngSeed as WireRngSeed
from grader.sandbox.wire import roundtrip
from grader.spec import Exercise, FunctionSpec, Instance, Mistake

DEFAULT_SEEDS = 20
WIDE_STEP_FACTOR = 10.0
#: The loss difference along the direction must exceed this many ulps of the loss.
RESOLUTION_ULPS = 1e6
#: d_h and d_10h must agree within this many gradient-check bands.
STEP_AGREEMENT = 10.0
#: Half the largest entry of an output must exceed this many tolerances.
FACTOR_MARGIN = 1000.0
PERTURBATION = 1e-9
MAX_RELATIVE_CHANGE = 1e-4
BUILT_IN_NAMES = ("exercises", "built-in")

OK, FAIL, SKIP = "ok", "FAIL", "skip"


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
    rows.append(gradient_steps_row(exercise, runs()))
    rows.append(outputs_row(exercise, runs()))
    rows.append(conditioning_row(exercise, runs()))
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


def summary(problems: list[str]) -> str:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more


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


def gradient_steps_row(exercise: Exercise, runs: list[tuple[int, list[Instance]]]) -> Row:
    check = "gradient steps"
    specs = [spec for spec in exercise.functions if spec.gradient is not None]
    if not specs:
        return Row(exercise.name, check, SKIP, "no gradient is checked")
    problems, count = [], 0
    for seed, instances in runs:
        rng = np.random.default_rng(seed)
        for spec in specs:
            for instance in instances:
                if not (instance.gradient_check and instance.grades(spec.name)):
                    continue
                count += 1
                problem = step_problem(spec, instance, rng)
                if problem:
                    problems.append(
                        f"{spec.name}: {problem} (seed {seed}, instance {instance.label})"
                    )
    if problems:
        return Row(exercise.name, check, FAIL, summary(problems))
    message = f"finite differences agree at h and {WIDE_STEP_FACTOR:g}h on {count} instances"
    return Row(exercise.name, check, OK, message)


def step_problem(spec: FunctionSpec, instance: Instance, rng: np.random.Generator) -> str | None:
    gradient = spec.gradient
    args = instance.args
    pairs = gradient.pairs(args)
    try:
        reference_gradient = expected_output(spec, instance)
    except Exception as error:
        return f"the solution raised {type(error).__name__}: {error}"
    direction = gradcheck.Direction.random(args, [inputs for _, inputs in pairs], rng)
    largest = max((float(np.max(np.abs(u))) for u in direction.parts.values()), default=0.0)
    if largest == 0.0:
        return "no input to differentiate with respect to"
    direction = gradcheck.Direction({p: u / largest for p, u in direction.parts.items()})
    h = gradcheck.STEP
    try:
        with np.errstate(all="ignore"):
            center = float(gradient.loss(args))
            near = [float(gradient.loss(direction.moved(args, t * h))) for t in (1.0, -1.0)]
            wide = [
                float(gradient.loss(direction.moved(args, t * WIDE_STEP_FACTOR * h)))
                for t in (1.0, -1.0)
            ]
    except Exception as error:
        return f"the loss raised {type(error).__name__}: {error}"
    values = [center, *near, *wide]
    if not all(np.isfinite(values)):
        return "the loss is not finite near the instance"
    if not any(values):
        return None  # exactly 0 all along (every ReLU off): exact, nothing is rounded
    change = abs(near[0] - near[1])
    scale = max(abs(v) for v in values)
    if change <= RESOLUTION_ULPS * np.finfo(np.float64).eps * scale:
        return (
            f"the loss barely changes along a random direction ({change:.2g} at step {h:g}, "
            f"for a loss of {center:.6g}): saturated or flat, finite differences carry no digits"
        )
    d_near = (near[0] - near[1]) / (2.0 * h)
    d_wide = (wide[0] - wide[1]) / (2.0 * WIDE_STEP_FACTOR * h)
    # Judged on the gradient check's own scale, sum |g_i u_i| of the reference gradient.
    projection = direction.project(reference_gradient, pairs)
    magnitude = projection[1] if projection is not None else abs(d_near)
    band = gradcheck.RTOL * (magnitude + abs(d_wide)) + gradcheck.ATOL
    if abs(d_near - d_wide) > STEP_AGREEMENT * band:
        return (
            f"the central difference depends on the step ({d_near:.10g} at h, {d_wide:.10g} "
            f"at {WIDE_STEP_FACTOR:g}h): a kink or saturation near the instance"
        )
    return None


# ------------------------------------------------------------------ 4. outputs


def numeric_leaves(value: Any, path: str = "") -> Iterable[tuple[str, np.ndarray]]:
    """(where, float array) for every numeric part of an output."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from numeric_leaves(item, f"{path}[{key!r}]")
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            yield from numeric_leaves(item, f"{path}[{i}]")
    elif isinstance(value, bool | int | float | np.number | np.ndarray):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            yield path, array.astype(np.float64)


def outputs_row(exercise: Exercise, runs: list[tuple[int, list[Instance]]]) -> Row:
    problems, count, exact_zeros = [], 0, 0
    for seed, instances in runs:
        for spec in exercise.functions:
            for instance in instances:
                if not instance.grades(spec.name):
                    continue
                count += 1
                try:
                    output = expected_output(spec, instance)
                except Exception as error:
                    problems.append(
                        f"{spec.name} raised {type(error).__name__}: {error} (seed {seed}, "
                        f"instance {instance.label})"
                    )
                    continue
                for where, array in numeric_leaves(output):
                    if array.size and not np.any(array):
                        exact_zeros += 1  # a deliberate probe: relu of negative z
                        continue
                    problem = output_problem(spec, array)
                    if problem:
                        problems.append(
                            f"{spec.name}{where} {problem} (seed {seed}, instance {instance.label})"
                        )
    if problems:
        return Row(exercise.name, "outputs", FAIL, summary(problems))
    message = f"finite and clearly non-zero on {count} calls"
    if exact_zeros:
        message += f" (bar {exact_zeros} arrays of exact zeros: a value probe, not a near-zero)"
    return Row(exercise.name, "outputs", OK, message)


def output_problem(spec: FunctionSpec, array: np.ndarray) -> str | None:
    if not np.all(np.isfinite(array)):
        return "is not finite"
    largest = float(np.max(np.abs(array))) if array.size else 0.0
    if 0.5 * largest <= FACTOR_MARGIN * (spec.atol + spec.rtol * largest):
        return (
            f"is ~0 (largest entry {largest:.2g}): a wrong factor or sign would hide inside "
            "the tolerance"
        )
    return None


# ------------------------------------------------------------------ 5. conditioning


def perturbed(value: Any, rng: np.random.Generator) -> Any:
    """Every float input times 1 + PERTURBATION * r, r uniform on [-1, 1] per entry."""
    if isinstance(value, dict):
        return {key: perturbed(item, rng) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(perturbed(item, rng) for item in value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value * (1.0 + PERTURBATION * rng.uniform(-1.0, 1.0, value.shape))
    if isinstance(value, float):
        return value * (1.0 + PERTURBATION * rng.uniform(-1.0, 1.0))
    return value


def conditioning_row(exercise: Exercise, runs: list[tuple[int, list[Instance]]]) -> Row:
    problems, worst = [], 0.0
    for seed, instances in runs:
        rng = np.random.default_rng(seed)
        for spec in exercise.functions:
            for instance in instances:
                if not instance.grades(spec.name) or instance.expected is not None:
                    continue
                moved = Instance(instance.label, perturbed(instance.args, rng))
                try:
                    before = dict(numeric_leaves(expected_output(spec, instance)))
                    after = dict(numeric_leaves(expected_output(spec, moved)))
                except Exception:
                    continue  # the outputs check reports a solution that raises
                for where, array in before.items():
                    change = relative_change(array, after.get(where))
                    worst = max(worst, change)
                    if change >= MAX_RELATIVE_CHANGE:
                        problems.append(
                            f"{spec.name}{where} moves by {change:.2g} relative under a "
                            f"{PERTURBATION:g} relative perturbation of the inputs "
                            f"(ill-conditioned; seed {seed}, instance {instance.label})"
                        )
    if problems:
        return Row(exercise.name, "conditioning", FAIL, summary(problems))
    message = (
        f"outputs move by at most {worst:.2g} relative under a {PERTURBATION:g} relative "
        "perturbation of the inputs"
    )
    return Row(exercise.name, "conditioning", OK, message)


def relative_change(before: np.ndarray, after: np.ndarray | None) -> float:
    if after is None or after.shape != before.shape:
        return float("inf")
    largest = float(np.max(np.abs(before))) if before.size else 0.0
    if largest == 0.0:
        return 0.0 if np.array_equal(before, after) else float("inf")
    with np.errstate(all="ignore"):
        change = float(np.max(np.abs(after - before))) / largest
    return change if np.isfinite(change) else float("inf")


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
