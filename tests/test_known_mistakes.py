"""Every catalogued mistake, made by a student, gets a diagnosis that names it."""

from __future__ import annotations

import numpy as np
import pytest

from exercises import EXERCISES
from grader.checks import (
    FunctionContext,
    InstanceVerdict,
    check_minibatches,
    check_values,
    expected_output,
)
from grader.sandbox import CallOutcome

UNIQUE = {id(m): (e, m) for e in EXERCISES for m in e.mistakes}.values()
VARIANTS = [(e, m) for e, m in UNIQUE if m.variant is not None]


def outcome(value) -> CallOutcome:
    return CallOutcome(value=value, args_after=None, error=None, seconds=0.0)


@pytest.mark.parametrize(("exercise", "mistake"), VARIANTS, ids=[m.code for _, m in VARIANTS])
def test_each_variant_is_named_wherever_it_is_wrong(exercise, mistake):
    spec = exercise.function(mistake.function)
    context = FunctionContext(exercise, spec, [], np.random.default_rng(0))
    named = 0
    for seed in range(3):
        for instance in exercise.instances(seed):
            finding = check_values(context, instance, outcome(mistake.variant(instance.args)))
            if finding is None:
                continue
            if finding.diagnosis.code == "known_mistake":
                named += finding.diagnosis.mistake == mistake.code
            else:
                assert finding.diagnosis.code == "not_finite", (instance.label, finding)
    assert named > 0


def shuffled_batches(args, mistake_code):
    X, Y, size = args["X"], args["Y"], args["batch_size"]
    m = X.shape[1]
    order = args["rng"].make().permutation(m)
    other = np.roll(order, 1)
    if mistake_code == "unpaired_shuffle":
        Xs, Ys = X[:, order], Y[:, other]
    elif mistake_code == "no_shuffle":
        Xs, Ys = X, Y
    else:
        Xs, Ys = X[:, order], Y[:, order]
    batches = [(Xs[:, i : i + size], Ys[:, i : i + size]) for i in range(0, m, size)]
    if mistake_code == "dropped_last_batch":
        batches = [b for b in batches if b[0].shape[1] == size]
    if mistake_code == "extra_empty_batch":
        batches.append((Xs[:, :0], Ys[:, :0]))
    return batches


@pytest.mark.parametrize(
    "code", ["dropped_last_batch", "unpaired_shuffle", "no_shuffle", "extra_empty_batch"]
)
def test_minibatch_mistakes_are_named(code):
    assert code in {m.code for _, m in UNIQUE if m.matches is not None}
    exercise = next(e for e in EXERCISES if e.name == "optimizers")
    spec = exercise.function("minibatches")
    context = FunctionContext(exercise, spec, [], np.random.default_rng(0))
    named = 0
    for instance in exercise.instances(0):
        finding = check_minibatches(
            context, instance, outcome(shuffled_batches(instance.args, code))
        )
        if finding is not None:
            assert finding.diagnosis.code == "known_mistake", (instance.label, finding)
            named += finding.diagnosis.mistake == code
    assert named > 0


def test_a_correct_answer_gets_no_diagnosis():
    for exercise in EXERCISES:
        for spec in exercise.functions:
            context = FunctionContext(exercise, spec, [], np.random.default_rng(0))
            for instance in exercise.instances(0):
                if spec.check == "minibatches":
                    got = shuffled_batches(instance.args, "correct")
                    assert check_minibatches(context, instance, outcome(got)) is None
                    continue
                got = expected_output(spec, instance)
                assert check_values(context, instance, outcome(got)) is None, (
                    spec.name,
                    instance.label,
                )
                assert InstanceVerdict(instance).passed
