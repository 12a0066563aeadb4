"""The grader, on its real check path, names every catalogued mistake wherever it shows.

`tests/test_mistakes_catalogue.py` checks the catalogue itself (each variant differs from
the answer key and from its siblings somewhere, matchers recognise buggy batches, samples
are recognised). This file checks the grader: a submission whose function returns the
answer key's output passes on every instance, and one whose function makes a catalogued
mistake is failed with that mistake's own code on every instance where its output differs
from the answer key beyond the tolerance, and passes where it does not. Everything goes
through `grade_exercise` (comparison, diagnosis, gradient and mutation checks, follow-up
calls) with a stand-in sandbox whose values cross the real wire encoding.

Where a mistake cannot be told apart on an instance (another catalogued mistake gives the
very same output there), the exception is listed in `COINCIDENCES` with its reason, and the
test checks both that it happens and that it is a true coincidence. Where the mistake's own
output is nan or inf, the grader says `not_finite`: listed in `NON_FINITE`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from exercises import EXERCISES, Exercise, Instance, Mistake
from exercises import RngSeed as InstanceRng
from exercises.answer_key import ref
from grader import engine
from grader.checks import FunctionContext, expected_output, to_reference
from grader.compare import compare
from grader.sandbox import CallOutcome, LoadResult, RngSeed, wire

SEEDS = range(4)
UNIQUE = list({id(m): (e, m) for e in EXERCISES for m in e.mistakes}.values())
VARIANTS = [(e, m) for e, m in UNIQUE if m.variant is not None]
MATCHERS = [(e, m) for e, m in UNIQUE if m.matches is not None]

Student = Callable[[dict[str, Any]], Any]


# ------------------------------------------------------------------ a stand-in sandbox


def read_only_view(value: Any) -> Any:
    """What the sandbox hands back for an argument the call left unchanged."""
    if isinstance(value, np.ndarray):
        view = value.view()
        view.flags.writeable = False
        return view
    if isinstance(value, dict):
        return {k: read_only_view(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(read_only_view(v) for v in value)
    return value


class StudentBox:
    """Runs a "submission" made of Python callables: `student[name](args)` where given, the
    answer key elsewhere. Results cross the real wire encoding, as a reply would."""

    mode = "stand-in"

    def __init__(self, exercise: Exercise, student: dict[str, Student]) -> None:
        self.exercise = exercise
        self.student = student

    def call(self, name: str, args: tuple, *, return_args: bool = True, **_ignored) -> CallOutcome:
        return self.call_many(name, [args], return_args=return_args)[0]

    def call_many(
        self, name: str, arg_sets: list, return_args: bool = True, **_ignored
    ) -> list[CallOutcome]:
        spec = self.exercise.function(name)
        outcomes = []
        for args in arg_sets:
            args = tuple(args)
            named = {
                p: InstanceRng(a.seed) if isinstance(a, RngSeed) else a
                for p, a in zip(spec.params, args, strict=True)
            }
            own = self.student.get(name)
            if own is not None:
                value = own(named)
            else:
                value = getattr(ref, name)(*(to_reference(named[p]) for p in spec.params))
            after = read_only_view(args) if return_args else None
            outcomes.append(CallOutcome(wire.roundtrip(value), after, None, 0.0))
        return outcomes


def grade(
    monkeypatch, exercise: Exercise, student: dict[str, Student], seed: int
) -> tuple[dict[str, Any], dict[str, FunctionContext]]:
    """Grade the exercise through the engine; return its checks and each function's context
    (the per-instance verdicts)."""
    contexts: dict[str, FunctionContext] = {}
    real = engine.check_function

    def spy(box, load, context):
        contexts[context.spec.name] = context
        return real(box, load, context)

    monkeypatch.setattr(engine, "check_function", spy)
    load = LoadResult(names={name: "function" for name in exercise.function_names})
    box = StudentBox(exercise, student)
    result = engine.grade_exercise(box, load, exercise, exercise.instances(seed), seed)
    return {c.function: c for c in result.checks}, contexts


# ------------------------------------------------------------------ the correct answer


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.name for e in EXERCISES])
def test_the_answer_key_passes_every_function_on_every_instance(monkeypatch, exercise):
    for seed in SEEDS:
        checks, contexts = grade(monkeypatch, exercise, {}, seed)
        for spec in exercise.functions:
            check = checks[spec.name]
            graded = contexts[spec.name].instances
            assert graded, (spec.name, seed)
            assert check.passed, (seed, check)
            assert check.score == spec.points and check.diagnosis is None, (seed, check)
            assert check.instances_passed == check.instances_total == len(graded), (seed, check)
            for verdict in contexts[spec.name].verdicts:
                assert verdict.finding is None, (spec.name, seed, verdict.instance.label)


# ------------------------------------------------------------------ variants


@dataclass(frozen=True)
class Coincidence:
    """Instances where a mistake gives exactly the output of an earlier catalogued one."""

    when: Callable[[dict[str, Any]], bool]
    named: str
    why: str


COINCIDENCES: dict[str, Coincidence] = {
    "multivariate_m_from_wrong_axis": Coincidence(
        lambda args: args["X"].shape[0] == 1,
        "multivariate_missing_one_over_m",
        "with n = 1 feature, dividing by n instead of m is not dividing at all",
    ),
    "linear2_b1_wrong_axis": Coincidence(
        lambda args: args["params"]["W1"].shape[0] == 1,
        "linear2_b1_not_summed",
        "with k = 1 hidden unit, summing dZ over its hidden units leaves the (1, m) dZ itself",
    ),
    "constant_first_features_in_order": Coincidence(
        lambda args: np.shape(args["X"])[1] == 1,
        "constant_column_first",
        "with d = 1 feature, the features in order and in reverse order are the same column",
    ),
}


@dataclass(frozen=True)
class NonFinite:
    """Instances where the mistake's output holds nan or inf: the grader says `not_finite`
    (a comparison never accepts non-finite values, so no variant can match there)."""

    when: Callable[[dict[str, Any]], bool]
    why: str


NON_FINITE: dict[str, NonFinite] = {
    "adam_t_minus_one": NonFinite(
        lambda args: args["t"] == 1,
        "at t = 1 the bias correction 1 - beta**(t - 1) is 0: the update divides by zero",
    ),
}


def all_finite(value: Any) -> bool:
    if isinstance(value, dict):
        return all(all_finite(v) for v in value.values())
    if isinstance(value, tuple | list):
        return all(all_finite(v) for v in value)
    return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))


def differs(spec, instance: Instance, output: Any) -> bool:
    return compare(expected_output(spec, instance), output, spec.rtol, spec.atol) is not None


@pytest.mark.parametrize(("exercise", "mistake"), VARIANTS, ids=[m.code for _, m in VARIANTS])
def test_each_variant_is_named_wherever_it_is_wrong(monkeypatch, exercise, mistake: Mistake):
    spec = exercise.function(mistake.function)
    coincidence = COINCIDENCES.get(mistake.code)
    non_finite = NON_FINITE.get(mistake.code)
    named = coincided = overflowed = 0
    for seed in SEEDS:
        student = {spec.name: mistake.variant}
        checks, contexts = grade(monkeypatch, exercise, student, seed)
        verdicts = contexts[spec.name].verdicts
        assert checks[spec.name].passed == all(v.finding is None for v in verdicts)
        for verdict in verdicts:
            instance, finding = verdict.instance, verdict.finding
            where = (mistake.code, seed, instance.label)
            if not differs(spec, instance, mistake.variant(instance.args)):
                assert finding is None, (*where, "right here, yet failed", finding)
                continue
            assert finding is not None, (*where, "wrong here, yet passed")
            diagnosis = finding.diagnosis
            if non_finite is not None and non_finite.when(instance.args):
                assert not all_finite(mistake.variant(instance.args)), (*where, non_finite)
                assert diagnosis.code == "not_finite", (*where, finding)
                overflowed += 1
                continue
            if coincidence is not None and coincidence.when(instance.args):
                other = next(m for m in exercise.mistakes if m.code == coincidence.named)
                assert not differs_from(spec, other, mistake, instance), (*where, coincidence)
                assert (diagnosis.code, diagnosis.mistake) == ("known_mistake", other.code), (
                    *where,
                    finding,
                )
                coincided += 1
                continue
            assert (diagnosis.code, diagnosis.mistake) == ("known_mistake", mistake.code), (
                *where,
                finding.explanation,
                diagnosis,
            )
            named += 1
    assert named > 0, mistake.code
    if coincidence is not None:
        assert coincided > 0, f"{mistake.code}: the documented coincidence no longer happens"
    if non_finite is not None:
        assert overflowed > 0, f"{mistake.code}: the documented nan/inf no longer happens"


def differs_from(spec, other: Mistake, mistake: Mistake, instance: Instance) -> bool:
    a, b = other.variant(instance.args), mistake.variant(instance.args)
    return compare(a, b, spec.rtol, spec.atol) is not None


def test_coincidences_name_mistakes_of_the_same_function_listed_earlier():
    for code, coincidence in COINCIDENCES.items():
        exercise, mistake = next((e, m) for e, m in VARIANTS if m.code == code)
        codes = [m.code for m in exercise.mistakes if m.function == mistake.function]
        assert codes.index(coincidence.named) < codes.index(code), code


# ------------------------------------------------------------------ minibatch matchers


def cut(X, Y, order_x, order_y, bounds: list[int]) -> list:
    return [
        (X[:, order_x[start:stop]], Y[:, order_y[start:stop]])
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def bounds(m: int, size: int, count: int) -> list[int]:
    return [min(i * size, m) for i in range(count)] + [min(count * size, m)]


def dropped_last_batch(X, Y, size, rng):
    m = X.shape[1]
    order = rng.permutation(m)
    return cut(X, Y, order, order, bounds(m, size, m // size))


def unpaired_shuffle(X, Y, size, rng):
    m = X.shape[1]
    return cut(X, Y, rng.permutation(m), rng.permutation(m), bounds(m, size, -(-m // size)))


def no_shuffle(X, Y, size, rng):
    m = X.shape[1]
    order = np.arange(m)
    return cut(X, Y, order, order, bounds(m, size, -(-m // size)))


def extra_empty_batch(X, Y, size, rng):
    m = X.shape[1]
    order = rng.permutation(m)
    return cut(X, Y, order, order, bounds(m, size, m // size + 1))


def uneven_batches(X, Y, size, rng):
    order = rng.permutation(X.shape[1])
    return [(X[:, part], Y[:, part]) for part in np.array_split(order, size)]


BUGGY_BATCHERS = {
    f.__name__: f
    for f in (dropped_last_batch, unpaired_shuffle, no_shuffle, extra_empty_batch, uneven_batches)
}

# The grader accepts the original order when m < 8: a fair shuffle of so few examples keeps
# it too often to call it a mistake (checks.minibatch_problem).
UNSHUFFLED_ACCEPTED_BELOW = 8


def columns(block: np.ndarray, source: np.ndarray) -> list[int]:
    return [int(np.flatnonzero(np.all(source == col[:, None], axis=0))[0]) for col in block.T]


def is_correct(args: dict, batches: list) -> bool:
    """Consecutive batches of batch_size (the last may be shorter) of one shuffle of the
    paired columns of X and Y; the original order only where the grader accepts it."""
    X, Y, size = args["X"], args["Y"], args["batch_size"]
    m = X.shape[1]
    if [x.shape[1] for x, _ in batches] != [min(size, m - s) for s in range(0, m, size)]:
        return False
    order_x = [i for x, _ in batches for i in columns(x, X)]
    order_y = [i for _, y in batches for i in columns(y, Y)]
    if order_x != order_y or sorted(order_x) != list(range(m)):
        return False
    return order_x != list(range(m)) or m < UNSHUFFLED_ACCEPTED_BELOW


def test_every_matcher_has_a_buggy_batcher():
    assert {m.code for _, m in MATCHERS} == set(BUGGY_BATCHERS)


@pytest.mark.parametrize(("exercise", "mistake"), MATCHERS, ids=[m.code for _, m in MATCHERS])
def test_each_minibatch_mistake_is_named_wherever_it_is_wrong(monkeypatch, exercise, mistake):
    batcher = BUGGY_BATCHERS[mistake.code]

    def student(args):
        return batcher(args["X"], args["Y"], args["batch_size"], to_reference(args["rng"]))

    named = 0
    for seed in SEEDS:
        _, contexts = grade(monkeypatch, exercise, {mistake.function: student}, seed)
        for verdict in contexts[mistake.function].verdicts:
            instance, finding = verdict.instance, verdict.finding
            where = (mistake.code, seed, instance.label)
            if is_correct(instance.args, student(instance.args)):
                assert finding is None, (*where, "a right answer here, yet failed", finding)
                continue
            assert finding is not None, (*where, "wrong here, yet passed")
            diagnosis = finding.diagnosis
            assert (diagnosis.code, diagnosis.mistake) == ("known_mistake", mistake.code), (
                *where,
                finding.explanation,
            )
            named += 1
    assert named > 0, mistake.code
