"""The data of a feedback page's figures, for the functions that failed.

Computed in the trusted parent after the checks, only when a page is asked for. What needs
the student's code again (an activation over a range of z, a few optimizer steps) goes
through diagnostic sandbox calls: they cost no points, no strikes and none of the
submission's time budget. Nothing here changes a verdict; a figure that cannot be made is
left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from exercises.batches import BatchProblem, column_sources, read_batches
from grader import gradcheck
from grader.checks import (
    FunctionContext,
    InstanceVerdict,
    expected_output,
    output_namer,
    to_reference,
    to_wire,
)
from grader.compare import compare, is_number
from grader.feedback import parts
from grader.figures import (
    MAX_PANEL_SIDE,
    NOT_FINITE,
    ActivationCurve,
    BatchMembership,
    DirectionCheck,
    ErrorMap,
    ErrorPanel,
    Figure,
    LossHistory,
    OptimizerSteps,
)
from grader.report import CheckResult
from grader.sandbox import Sandbox

#: Where an activation is drawn.
Z_RANGE = (-6.0, 6.0, 121)
#: The 2-D quadratic the optimizers step on, where they start, and their hyperparameters.
QUADRATIC_A = np.array([[3.0, 0.8], [0.8, 1.0]])
QUADRATIC_CENTER = np.array([[1.0], [-0.5]])
START = np.array([[-1.5], [1.5]])
STEPS = 8
HYPERPARAMETERS = {"lr": 0.1, "beta": 0.9, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def figures_for(box: Sandbox, context: FunctionContext, result: CheckResult) -> list[Figure]:
    """Every figure that can be drawn for a failed function, each on the first failing
    instance where it can be drawn (an error map needs an answer of the right shape)."""
    if result.passed:
        return []
    failed = [v for v in context.verdicts if not v.passed and v.answered]
    first = failed[0] if failed else None
    makers: list[Callable[[], Figure | None]] = [
        lambda: first_drawn(error_map, context, failed),
        lambda: first_drawn(direction_check, context, failed),
    ]
    kind = context.spec.figure
    if kind == "activation":
        makers.append(lambda: activation_curve(box, context))
    elif kind == "optimizer_steps":
        makers.append(lambda: optimizer_steps(box, context))
    elif kind == "loss_history":
        makers.append(lambda: loss_history(context, first))
    elif kind == "batch_membership":
        makers.append(lambda: batch_membership(first))
    figures = []
    for make in makers:
        try:
            figure = make()
        except Exception:  # a figure is a bonus: never let one stop the report
            figure = None
        if figure is not None:
            figures.append(figure)
    return figures


def first_drawn(
    draw: Callable[[FunctionContext, InstanceVerdict], Figure | None],
    context: FunctionContext,
    failed: list[InstanceVerdict],
) -> Figure | None:
    for verdict in failed:
        figure = draw(context, verdict)
        if figure is not None:
            return figure
    return None


# ------------------------------------------------------------------ error map


def error_map(context: FunctionContext, verdict: InstanceVerdict) -> ErrorMap | None:
    """|answer - expected| / scale per entry of each wrong array output, where the answer has
    the expected shape (a wrong shape is said in words; there is nothing to map)."""
    spec = context.spec
    if spec.check != "values":
        return None
    expected = expected_output(spec, verdict.instance)
    name = output_namer(spec)
    panels = []
    for path, e, g in leaf_pairs(expected, verdict.value):
        if compare(e, g, spec.rtol, spec.atol) is None:
            continue
        panel = error_panel(name(path), e, g, spec.rtol, spec.atol)
        if panel is not None:
            panels.append(panel)
    return ErrorMap(instance=verdict.instance.label, panels=panels) if panels else None


def leaf_pairs(expected: Any, got: Any, path: tuple = ()) -> list[tuple[tuple, Any, Any]]:
    """The arrays of an answer, pairwise with the expected ones; a list of numbers (losses)
    is one array, not a panel per number."""
    if isinstance(expected, list) and all(is_number(e) for e in expected):
        return [(path, expected, got)]
    pairs = parts(expected, got, path)
    if not pairs:
        return [(path, expected, got)]
    return [leaf for where, e, g in pairs for leaf in leaf_pairs(e, g, where)]


def error_panel(
    output: str, expected: Any, got: Any, rtol: float, atol: float
) -> ErrorPanel | None:
    e = np.asarray(expected, dtype=np.float64)
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    if g.shape != e.shape and g.size == e.size == 1:
        g = g.reshape(e.shape)
    if g.shape != e.shape or e.size == 0:
        return None
    scale = float(np.abs(e).max()) or 1.0
    with np.errstate(all="ignore"):
        errors = np.abs(g - e) / scale
    errors = np.nan_to_num(errors, nan=NOT_FINITE, posinf=NOT_FINITE)
    rows = errors.reshape(1, -1) if e.ndim < 2 else errors.reshape(e.shape[0], -1)
    pooled = max_pooled(rows)
    return ErrorPanel(
        output=output,
        shape=list(e.shape),
        errors=pooled.tolist(),
        pooled=pooled.shape != rows.shape,
        tolerance=(atol + rtol * scale) / scale,
    )


def max_pooled(rows: np.ndarray, side: int = MAX_PANEL_SIDE) -> np.ndarray:
    """The largest error of each block, so that a map of any size keeps its worst entries."""
    r, c = rows.shape
    fr, fc = -(-r // side), -(-c // side)
    if fr == fc == 1:
        return rows
    padded = np.zeros((fr * -(-r // fr), fc * -(-c // fc)))
    padded[:r, :c] = rows
    return padded.reshape(padded.shape[0] // fr, fr, padded.shape[1] // fc, fc).max(axis=(1, 3))


# ------------------------------------------------------------------ gradient directions


def direction_check(context: FunctionContext, verdict: InstanceVerdict) -> DirectionCheck | None:
    """<g, u> of the student's gradient against the central difference of the loss, along
    the same kind of random directions the check uses."""
    gradient = context.spec.gradient
    if gradient is None or not verdict.instance.gradient_check:
        return None
    if verdict.instance.expected is not None:
        return None  # a student kit has no loss to differentiate
    args = verdict.instance.args
    pairs = gradient.pairs(args)
    analytic, numeric = [], []
    for direction in gradcheck.directions_for(args, pairs, np.random.default_rng(0)):
        projection = direction.project(verdict.value, pairs)
        if projection is None:
            return None
        losses = [gradient.loss(point) for point in gradcheck.stencil_points(args, direction)]
        analytic.append(projection[0])
        numeric.append(gradcheck.stencil_derivative(losses))
    return DirectionCheck(instance=verdict.instance.label, analytic=analytic, numeric=numeric)


# ------------------------------------------------------------------ per kind of function


def activation_curve(box: Sandbox, context: FunctionContext) -> ActivationCurve | None:
    spec = context.spec
    z = np.linspace(*Z_RANGE).reshape(1, -1)
    (outcome,) = box.call_many(spec.name, [(z,)], return_args=False, diagnostic=True)
    reference = np.asarray(spec.solution(z), dtype=np.float64).ravel()
    student: list[float | None] = [None] * reference.size
    if outcome.ok:
        try:
            values = np.asarray(outcome.value, dtype=np.float64).ravel()
        except (TypeError, ValueError, OverflowError):
            values = np.zeros(0)
        if values.size == reference.size:
            student = [float(v) if np.isfinite(v) else None for v in values]
    return ActivationCurve(z=z.ravel().tolist(), student=student, reference=reference.tolist())


def optimizer_steps(box: Sandbox, context: FunctionContext) -> OptimizerSteps:
    """STEPS updates of the student's function and of the answer key, each from its own
    previous point, on the quadratic; the student's path stops where its answer does."""
    spec = context.spec
    reference, _ = optimizer_path(spec, lambda args: spec.solution(*args))

    def student(args: tuple) -> Any:
        wire_args = tuple(to_wire(a) for a in args)
        (outcome,) = box.call_many(spec.name, [wire_args], return_args=False, diagnostic=True)
        if not outcome.ok:
            raise StepFailed(outcome.error.message if outcome.error else "no answer")
        return outcome.value

    path, stopped = optimizer_path(spec, student)
    return OptimizerSteps(
        A=QUADRATIC_A.tolist(),
        center=QUADRATIC_CENTER.ravel().tolist(),
        student=path,
        reference=reference,
        stopped=stopped,
    )


class StepFailed(Exception):
    pass


def optimizer_path(spec: Any, step: Callable[[tuple], Any]) -> tuple[list[list[float]], str | None]:
    state_names = spec.outputs[1:]
    params = {"p": START.copy()}
    state = {name: {"p": np.zeros_like(START)} for name in state_names}
    path = [params["p"].ravel().tolist()]
    for t in range(1, STEPS + 1):
        grads = {"p": QUADRATIC_A @ (params["p"] - QUADRATIC_CENTER)}
        values = {"params": params, "grads": grads, "t": t, **HYPERPARAMETERS, **state}
        try:
            answer = step(tuple(values[name] for name in spec.params))
        except StepFailed as error:
            return path, f"step {t}: {error}"
        new_params, new_state = split_answer(answer, state_names)
        point = np.asarray(new_params.get("p") if isinstance(new_params, dict) else None, float)
        if point.shape != START.shape or not np.all(np.isfinite(point)):
            return path, f"step {t}: the answer is not new params of the same shape"
        params, state = {"p": point}, new_state
        path.append(point.ravel().tolist())
    return path, None


def split_answer(answer: Any, state_names: tuple[str, ...]) -> tuple[Any, dict]:
    if not state_names:
        return answer, {}
    if not isinstance(answer, tuple | list) or len(answer) != 1 + len(state_names):
        return None, {}
    return answer[0], dict(zip(state_names, answer[1:], strict=True))


def loss_history(context: FunctionContext, verdict: InstanceVerdict | None) -> LossHistory | None:
    spec = context.spec
    if verdict is None or "losses" not in spec.outputs:
        return None
    index = spec.outputs.index("losses")
    expected = expected_output(spec, verdict.instance)
    got = verdict.value
    if not isinstance(got, tuple | list) or len(got) <= index:
        return None
    student = [finite_or_none(v) for v in np.asarray(got[index], dtype=object).ravel()]
    reference = [float(v) for v in np.asarray(expected[index], dtype=np.float64).ravel()]
    finite = [v for v in student if v is not None]
    diverges = len(finite) < len(student) or (len(finite) > 1 and finite[-1] > finite[0])
    return LossHistory(
        instance=verdict.instance.label, student=student, reference=reference, diverges=diverges
    )


def finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if np.isfinite(number) else None


def batch_membership(verdict: InstanceVerdict | None) -> BatchMembership | None:
    if verdict is None:
        return None
    args = verdict.instance.args
    X, Y = to_reference(args["X"]), to_reference(args["Y"])
    pairs = read_batches(X, Y, verdict.value)
    if isinstance(pairs, BatchProblem):
        return None
    batches = [[-1 if i is None else i for i in column_sources(xb, X)] for xb, _ in pairs]
    return BatchMembership(
        instance=verdict.instance.label,
        m=int(X.shape[1]),
        batch_size=int(args["batch_size"]),
        batches=batches,
    )
