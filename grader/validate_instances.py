"""The instances of an exercise avoid the traps a correct answer could fall into (part of
`grader validate-pack`, see `grader.validate`). Each check gives a status and a message.

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

from collections.abc import Iterable
from typing import Any

import numpy as np

from grader import gradcheck
from grader.checks import expected_output
from grader.spec import Exercise, FunctionSpec, Instance

WIDE_STEP_FACTOR = 10.0
#: The loss difference along the direction must exceed this many ulps of the loss.
RESOLUTION_ULPS = 1e6
#: d_h and d_10h must agree within this many gradient-check bands.
STEP_AGREEMENT = 10.0
#: Half the largest entry of an output must exceed this many tolerances.
FACTOR_MARGIN = 1000.0
PERTURBATION = 1e-9
MAX_RELATIVE_CHANGE = 1e-4

OK, FAIL, SKIP = "ok", "FAIL", "skip"
#: The instances of each seed an exercise is validated on.
Runs = list[tuple[int, list[Instance]]]
#: A check's status (OK, FAIL or SKIP) and its message.
Verdict = tuple[str, str]


def summary(problems: list[str]) -> str:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more


def gradient_steps(exercise: Exercise, runs: Runs) -> Verdict:
    specs = [spec for spec in exercise.functions if spec.gradient is not None]
    if not specs:
        return (SKIP, "no gradient is checked")
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
        return (FAIL, summary(problems))
    message = f"finite differences agree at h and {WIDE_STEP_FACTOR:g}h on {count} instances"
    return (OK, message)


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


def outputs(exercise: Exercise, runs: Runs) -> Verdict:
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
        return (FAIL, summary(problems))
    message = f"finite and clearly non-zero on {count} calls"
    if exact_zeros:
        message += f" (bar {exact_zeros} arrays of exact zeros: a value probe, not a near-zero)"
    return (OK, message)


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


def conditioning(exercise: Exercise, runs: Runs) -> Verdict:
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
        return (FAIL, summary(problems))
    message = (
        f"outputs move by at most {worst:.2g} relative under a {PERTURBATION:g} relative "
        "perturbation of the inputs"
    )
    return (OK, message)


def relative_change(before: np.ndarray, after: np.ndarray | None) -> float:
    if after is None or after.shape != before.shape:
        return float("inf")
    largest = float(np.max(np.abs(before))) if before.size else 0.0
    if largest == 0.0:
        return 0.0 if np.array_equal(before, after) else float("inf")
    with np.errstate(all="ignore"):
        change = float(np.max(np.abs(after - before))) / largest
    return change if np.isfinite(change) else float("inf")
