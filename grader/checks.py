"""Check one required function of a submission on every instance of its exercise.

Everything here runs in the trusted parent: the student's function is only ever called
through the sandbox, and what comes back is plain decoded data.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exercises.batches import BatchProblem, is_permutation, read_batches, read_layout
from grader import gradcheck
from grader.compare import Mismatch, Path, compare, path_text
from grader.feedback import Finding, Namer, diagnose
from grader.report import CheckResult, Diagnosis, InstanceFailure
from grader.sandbox import CallError, CallOutcome, LoadResult, RngSeed, Sandbox
from grader.spec import Exercise, FunctionSpec, Instance
from grader.spec import RngSeed as InstanceRng

MAX_FAILURES_SHOWN = 3

ERROR_CODES = {
    "missing": "missing",
    "not_callable": "not_callable",
    "exception": "exception",
    "timeout": "timeout",
    "budget": "timeout",
    "memory": "memory",
    "crashed": "exception",
    "output": "exception",
    "bad_reply": "wrong_type",
}
# Tie-break between diagnoses that are equally common across a function's failed instances.
PRIORITY = [
    "missing",
    "not_callable",
    "forward_wrong",
    "known_mistake",
    "sign",
    "scaled",
    "transposed",
    "shape_transposed",
    "shape_broadcast",
    "wrong_structure",
    "shape",
    "wrong_type",
    "mutated_input",
    "not_reproducible",
    "not_finite",
    "timeout",
    "memory",
    "exception",
    "wrong_values",
]


def to_wire(value: Any) -> Any:
    """Instance arguments as the sandbox sends them (a seed stands for a Generator)."""
    if isinstance(value, InstanceRng):
        return RngSeed(value.seed)
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(to_wire(item) for item in value)
    return value


def to_reference(value: Any) -> Any:
    """An argument as the answer key takes it: a seed becomes a fresh Generator; the rest is
    passed as it is, since the answer key never modifies its inputs (tests/test_reference.py)."""
    if isinstance(value, InstanceRng):
        return value.make()
    return value


def expected_output(spec: FunctionSpec, instance: Instance) -> Any:
    if instance.expected is not None:
        return copy.deepcopy(instance.expected[spec.name])
    return spec.solution(*(to_reference(instance.args[p]) for p in spec.params))


@dataclass
class InstanceVerdict:
    """How the function did on one instance; `value` is its decoded answer when it gave one
    (`answered`), kept for the figures of a feedback page."""

    instance: Instance
    finding: Finding | None = None
    stdout: str = ""
    value: Any = None
    answered: bool = False

    @property
    def passed(self) -> bool:
        return self.finding is None


@dataclass
class FunctionContext:
    """What checking one function needs besides the student's outputs.

    `checked` holds the functions of the exercise checked before this one, so that a
    diagnosis can rest on their verdicts (a backward is only blamed on its forward when that
    forward failed on the same instance).
    """

    exercise: Exercise
    spec: FunctionSpec
    instances: list[Instance]
    rng: np.random.Generator
    verdicts: list[InstanceVerdict] = field(default_factory=list)
    checked: dict[str, FunctionContext] = field(default_factory=dict)

    @property
    def mistakes(self) -> list:
        return [m for m in self.exercise.mistakes if m.function == self.spec.name]

    def failed_on(self, function: str, instance: Instance) -> bool:
        """Did `function`, checked earlier, fail on this instance?"""
        other = self.checked.get(function)
        return other is not None and any(
            v.instance.label == instance.label and not v.passed for v in other.verdicts
        )


def output_namer(spec: FunctionSpec) -> Namer:
    """How feedback names a part of this function's answer: the contract's name of a tuple
    item ("db"), "d" + the key of a gradient dict ("dW1"), else the indexing path."""

    def name(path: Path) -> str:
        head, rest = (path[0], path[1:]) if path else (None, ())
        if isinstance(head, int) and len(spec.outputs) > 1 and head < len(spec.outputs):
            return spec.outputs[head] + path_text(rest)
        if isinstance(head, str) and spec.gradient is not None:
            return f"d{head}{path_text(rest)}"
        if len(spec.outputs) == 1:
            return spec.outputs[0] + path_text(path)
        return path_text(path)

    return name


def error_finding(error: CallError) -> Finding:
    code = ERROR_CODES.get(error.kind, "exception")
    text = error.message
    if error.traceback:
        text += "\n" + error.traceback.strip()
    hint = "Your function hit a limit or an error; fix it and run the check again."
    return Finding(Diagnosis(code=code, hint=hint), text)


def mismatch_finding(context: FunctionContext, mismatch: Mismatch, expected, got, args) -> Finding:
    spec = context.spec
    return diagnose(
        mismatch, expected, got, args, context.mistakes, spec.rtol, spec.atol, output_namer(spec)
    )


def mutated_arguments(sent: tuple, after: tuple | None, names: tuple[str, ...]) -> list[str]:
    if after is None or len(after) != len(sent):
        return []
    return [name for name, a, b in zip(names, sent, after, strict=True) if not identical(a, b)]


PLAIN_SCALARS = (int, float, bool)


def identical(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return (
            isinstance(b, dict) and a.keys() == b.keys() and all(identical(a[k], b[k]) for k in a)
        )
    if isinstance(a, tuple | list):
        return (
            isinstance(b, tuple | list)
            and len(a) == len(b)
            and all(identical(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, RngSeed):
        return True
    if type(a) in PLAIN_SCALARS and type(b) in PLAIN_SCALARS:
        return a == b or (a != a and b != b)
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    except (TypeError, ValueError):
        return False


def warning_finding(spec: FunctionSpec, outcome: CallOutcome) -> Finding | None:
    if not (spec.must_not_warn and outcome.warnings):
        return None
    hint = (
        "For large |z| only ever take exp of a non-positive number: exp(-|z|) works "
        "for both signs of z."
    )
    return Finding(
        Diagnosis(code="not_finite", hint=hint),
        f"the right values, but numpy warned ({outcome.warnings[0]}): an intermediate "
        "overflowed to inf, and the contract says it must not",
    )


def mutation_finding(names: list[str]) -> Finding:
    hint = (
        "Build new arrays (p - lr * g, not p -= lr * g) and new dicts ({k: ... for k in params}); "
        "a shallow dict.copy() still shares the arrays."
    )
    return Finding(
        Diagnosis(code="mutated_input", hint=hint),
        f"your function modified its input {', '.join(names)} in place",
    )


def gradient_finding(context: FunctionContext, instance: Instance, got: Any) -> Finding | None:
    """Check a passing gradient against finite differences of the reference loss, too."""
    gradient = context.spec.gradient
    if gradient is None or not instance.gradient_check or instance.expected is not None:
        return None
    pairs = gradient.pairs(instance.args)
    if gradcheck.matches_loss(got, gradient.loss, instance.args, pairs, context.rng):
        return None
    return Finding(
        Diagnosis(code="wrong_values", hint="Compare each step of your chain rule with the loss."),
        "the gradient disagrees with finite differences of the loss",
    )


def check_values(
    context: FunctionContext, instance: Instance, outcome: CallOutcome
) -> Finding | None:
    spec = context.spec
    expected = expected_output(spec, instance)
    mismatch = compare(expected, outcome.value, spec.rtol, spec.atol)
    if mismatch:
        return mismatch_finding(context, mismatch, expected, outcome.value, instance.args)
    return gradient_finding(context, instance, outcome.value)


def check_minibatches(
    context: FunctionContext, instance: Instance, outcome: CallOutcome
) -> Finding | None:
    problem = minibatch_problem(instance.args, outcome.value)
    if problem is None:
        return None
    return mismatch_finding(context, problem, None, outcome.value, instance.args)


def minibatch_problem(args: dict, batches: Any) -> Mismatch | None:
    """Batch sizes, every example exactly once, columns still paired, order shuffled."""
    X, Y, size = args["X"], args["Y"], args["batch_size"]
    m = X.shape[1]
    count = math.ceil(m / size)
    pairs = read_batches(X, Y, batches)
    if isinstance(pairs, BatchProblem):
        path = () if pairs.batch is None else (pairs.batch,)
        return Mismatch(pairs.code, path, pairs.message)
    if len(pairs) != count:
        message = f"expected {count} batches for m={m}, batch_size={size}, got {len(pairs)}"
        return Mismatch("wrong_structure", (), message)
    for i, (xb, _) in enumerate(pairs):
        width = size if i < count - 1 else m - size * (count - 1)
        if xb.shape[1] != width:
            message = f"batch {i} should hold {width} examples, got {xb.shape[1]}"
            return Mismatch("shape", (i,), message)
    layout = read_layout(X, Y, pairs)
    if None in layout.from_x:
        return Mismatch("wrong_values", (), "a batch holds a column that is not in X")
    if not layout.all_paired():
        return Mismatch("wrong_values", (), "an X column is paired with the wrong Y column")
    if not is_permutation(layout.from_x, m):
        return Mismatch("wrong_values", (), "the batches do not hold every example exactly once")
    if m >= 8 and layout.from_x == list(range(m)):
        return Mismatch(
            "wrong_values", (), "the examples are in their original order: not shuffled"
        )
    return None


def shuffle_order(args: dict, batches: Any) -> list[int | None] | None:
    """The source column of every example of a passing answer, in batch order."""
    pairs = read_batches(args["X"], args["Y"], batches)
    if isinstance(pairs, BatchProblem):
        return None
    return read_layout(args["X"], args["Y"], pairs).from_x


REPRODUCIBLE_HINT = (
    "Shuffle with the rng you were given (rng.permutation(m)), not with np.random's global "
    "functions or a seed of your own: the same rng must give the same batches, and another "
    "rng another order."
)
#: Other seeds tried: a shuffle that ignores its rng gives the same order for all of them,
#: while rng-driven orders of m >= 8 examples coincide with probability below 1/8! each.
OTHER_SEEDS = (1, 2)
MIN_EXAMPLES_FOR_ORDER = 8


def with_seed(args: dict, offset: int) -> dict:
    return {
        key: InstanceRng(value.seed + offset) if isinstance(value, InstanceRng) else value
        for key, value in args.items()
    }


def check_reproducible(
    box: Sandbox, context: FunctionContext, passed: list[InstanceVerdict]
) -> None:
    """The contract says to shuffle with `rng`: call again with the same rng (the same
    batches are due) and with other seeds (some other order is due, for m >= 8)."""
    spec = context.spec
    plans, arg_sets = [], []
    for verdict in passed:
        args = verdict.instance.args
        offsets = [0]
        if args["X"].shape[1] >= MIN_EXAMPLES_FOR_ORDER:
            offsets += list(OTHER_SEEDS)
        plans.append((verdict, len(offsets)))
        for offset in offsets:
            arg_sets.append(tuple(to_wire(with_seed(args, offset)[p]) for p in spec.params))
    outcomes = iter(box.call_many(spec.name, arg_sets, return_args=False))
    for verdict, n in plans:
        again, *others = [next(outcomes) for _ in range(n)]
        verdict.finding = reproducibility_finding(
            verdict.instance.args, verdict.value, again, others
        )


def reproducibility_finding(
    args: dict, value: Any, again: CallOutcome, others: list[CallOutcome]
) -> Finding | None:
    for outcome in (again, *others):
        if not outcome.ok:
            return error_finding(outcome.error)
    if not identical(value, again.value):
        return Finding(
            Diagnosis(code="not_reproducible", hint=REPRODUCIBLE_HINT),
            "called twice with the same rng, your function gave different batches",
        )
    orders = [shuffle_order(args, o.value) for o in (again, *others)]
    if others and all(order == orders[0] for order in orders):
        return Finding(
            Diagnosis(code="not_reproducible", hint=REPRODUCIBLE_HINT),
            "called with rngs of different seeds, your function gave the same order each time",
        )
    return None


CHECKERS = {"values": check_values, "minibatches": check_minibatches}
#: Checks that need more calls of the function once every instance has been judged.
FOLLOW_UPS = {"minibatches": check_reproducible}


def consistent_with_own_forward(
    box: Sandbox, context: FunctionContext, failed: list[InstanceVerdict]
) -> None:
    """Re-diagnose wrong gradients that follow from the student's own (wrong) forward pass.

    Only where that forward failed on the same instance: a report never says "your forward
    is wrong" next to a forward that passed. One batched diagnostic sandbox call evaluates
    the forward at every finite-difference point of every such instance; diagnostic calls
    have their own small time cap and are skipped when the submission's time runs short.
    """
    gradient = context.spec.gradient
    if gradient is None or gradient.forward is None:
        return
    failed = [v for v in failed if context.failed_on(gradient.forward, v.instance)]
    if not failed:
        return
    forward = context.exercise.function(gradient.forward)
    plans, arg_sets = [], []
    for verdict in failed:
        pairs = gradient.pairs(verdict.instance.args)
        directions = list(gradcheck.directions_for(verdict.instance.args, pairs, context.rng))
        points = [p for d in directions for p in gradcheck.stencil_points(verdict.instance.args, d)]
        plans.append((verdict, pairs, directions, points))
        arg_sets += [tuple(to_wire(point[p]) for p in forward.params) for point in points]
    outcomes = iter(box.call_many(forward.name, arg_sets, return_args=False, diagnostic=True))
    for verdict, pairs, directions, points in plans:
        losses = [own_loss(gradient, next(outcomes), point) for point in points]
        if gradcheck.matches_losses(verdict.value, losses, pairs, directions):
            verdict.finding = Finding(
                Diagnosis(
                    code="forward_wrong",
                    hint=f"Fix {forward.name} first: your backward differentiates it correctly.",
                ),
                f"your gradient matches your own {forward.name}, but {forward.name} is wrong",
            )


def own_loss(gradient, outcome: CallOutcome, point: dict) -> float | None:
    if not outcome.ok:
        return None
    try:  # the answer key's loss applied to whatever the student's forward returned
        with np.errstate(all="ignore"):
            value = float(gradient.loss_of_forward(outcome.value, point))
    except Exception:
        return None
    return value if math.isfinite(value) else None


FORWARD_SUSPECTS = {"wrong_values", "scaled", "sign", "transposed", "known_mistake"}


def check_function(box: Sandbox, load: LoadResult, context: FunctionContext) -> CheckResult:
    spec = context.spec
    status = load.names.get(spec.name)
    if status != "function":
        return undefined_result(spec, status, load)
    arg_sets = [tuple(to_wire(i.args[p]) for p in spec.params) for i in context.instances]
    outcomes = box.call_many(spec.name, arg_sets)
    checker = CHECKERS[spec.check]
    for instance, sent, outcome in zip(context.instances, arg_sets, outcomes, strict=True):
        verdict = InstanceVerdict(instance, stdout=outcome.stdout)
        if not outcome.ok:
            verdict.finding = error_finding(outcome.error)
        else:
            verdict.value, verdict.answered = outcome.value, True
            verdict.finding = checker(context, instance, outcome) or warning_finding(spec, outcome)
            mutated = mutated_arguments(sent, outcome.args_after, spec.params)
            if verdict.finding is None and mutated:
                verdict.finding = mutation_finding(mutated)
        context.verdicts.append(verdict)
    passed = [v for v in context.verdicts if v.passed]
    suspects = [
        v
        for v in context.verdicts
        if v.answered
        and not v.passed
        and v.finding.diagnosis.code in FORWARD_SUSPECTS
        and v.instance.gradient_check
    ]
    follow_up = FOLLOW_UPS.get(spec.check)
    if follow_up is not None and passed:
        follow_up(box, context, passed)
    consistent_with_own_forward(box, context, suspects)
    return summarise(spec, context.verdicts)


def undefined_result(spec: FunctionSpec, status: str | None, load: LoadResult) -> CheckResult:
    if status is None:
        code = "missing"
        message = f"{spec.name} is not defined: check its spelling against the contract"
        if load.chunk_errors:
            where = ", ".join(sorted({e.label for e in load.chunk_errors}))
            message += f" (errors in {where} stopped some code from running)"
        hint = f"Define {spec.signature}."
    else:
        code = "not_callable"
        message = f"{spec.name} is a {status}, not a function: was it overwritten later on?"
        hint = "Do not reuse a function's name for a variable."
    return CheckResult(
        function=spec.name,
        passed=False,
        score=0.0,
        max_score=spec.points,
        message=message,
        diagnosis=Diagnosis(code=code, hint=hint),
    )


def most_telling(failures: list[InstanceVerdict]) -> InstanceVerdict:
    """The failure whose diagnosis is the most common one, the most specific among equals."""
    codes = Counter(v.finding.diagnosis.code for v in failures)
    return min(
        failures,
        key=lambda v: (-codes[v.finding.diagnosis.code], PRIORITY.index(v.finding.diagnosis.code)),
    )


def summarise(spec: FunctionSpec, verdicts: list[InstanceVerdict]) -> CheckResult:
    """All or nothing: a function earns its points only when it passes on every instance.

    A bug that hides on some instances (1/m when m = 1) is still a bug, so partial credit
    per instance would reward luck; the counts are reported all the same.
    """
    failures = [v for v in verdicts if not v.passed]
    total = len(verdicts)
    stdout = "".join(v.stdout for v in verdicts)[:2000]
    if not failures:
        return CheckResult(
            function=spec.name,
            passed=True,
            score=float(spec.points),
            max_score=spec.points,
            message=f"correct on all {total} instances",
            instances_passed=total,
            instances_total=total,
            stdout=stdout,
        )
    main = most_telling(failures)
    message = f"{main.finding.explanation} (on instance {main.instance.label}; "
    message += f"wrong on {len(failures)} of {total} instances)"
    return CheckResult(
        function=spec.name,
        passed=False,
        score=0.0,
        max_score=spec.points,
        message=message,
        diagnosis=main.finding.diagnosis,
        instances_passed=total - len(failures),
        instances_total=total,
        failures=[
            InstanceFailure(
                instance=v.instance.label,
                message=v.finding.explanation,
                diagnosis=v.finding.diagnosis,
            )
            for v in failures[:MAX_FAILURES_SHOWN]
        ],
        stdout=stdout,
    )
