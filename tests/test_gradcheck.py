"""Directional finite differences: correct gradients pass, wrong ones are caught."""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref
from exercises import EXERCISES
from grader import gradcheck

GRADIENT_FUNCTIONS = [
    (exercise, spec) for exercise in EXERCISES for spec in exercise.functions if spec.gradient
]
IDS = [spec.name for _, spec in GRADIENT_FUNCTIONS]


def reference_gradient(spec, args):
    return getattr(ref, spec.name)(*(args[p] for p in spec.params))


def perturbed(gradient, path, relative):
    """The gradient with one entry at `path` moved by `relative` of that output's scale."""
    if not path:
        g = np.array(gradient, dtype=float)
        g.flat[0] += relative * np.max(np.abs(g))
        return g
    copy = list(gradient) if isinstance(gradient, tuple) else dict(gradient)
    value = np.array(copy[path[0]], dtype=float)
    value.flat[0] += relative * max(np.max(np.abs(value)), 1e-3)
    copy[path[0]] = value if np.ndim(copy[path[0]]) else float(value)
    return tuple(copy) if isinstance(gradient, tuple) else copy


@pytest.mark.parametrize(("exercise", "spec"), GRADIENT_FUNCTIONS, ids=IDS)
def test_reference_gradients_pass_on_every_instance(exercise, spec):
    rng = np.random.default_rng(0)
    for seed in range(4):
        for instance in exercise.instances(seed):
            if not instance.gradient_check:
                continue
            pairs = spec.gradient.pairs(instance.args)
            gradient = reference_gradient(spec, instance.args)
            assert gradcheck.matches_loss(
                gradient, spec.gradient.loss, instance.args, pairs, rng
            ), instance.label


@pytest.mark.parametrize(("exercise", "spec"), GRADIENT_FUNCTIONS, ids=IDS)
def test_a_one_entry_error_of_one_percent_is_caught(exercise, spec):
    """Random directions catch even a single wrong entry, in every output, every time."""
    rng = np.random.default_rng(1)
    for instance in exercise.instances(0):
        if not instance.gradient_check:
            continue
        pairs = spec.gradient.pairs(instance.args)
        gradient = reference_gradient(spec, instance.args)
        for output_path, _ in pairs:
            wrong = perturbed(gradient, output_path, 0.01)
            assert not gradcheck.matches_loss(
                wrong, spec.gradient.loss, instance.args, pairs, rng
            ), (instance.label, output_path)


def test_directions_stay_within_unit_box_and_cover_scalars():
    args = {"w": 0.3, "params": {"W": np.ones((3, 2))}}
    direction = next(
        gradcheck.directions_for(
            args, [((0,), ("w",)), ((1,), ("params", "W"))], np.random.default_rng(0)
        )
    )
    largest = max(abs(direction.parts[("w",)]), np.max(np.abs(direction.parts[("params", "W")])))
    assert 0.0 < largest <= 1.0
    assert isinstance(direction.parts[("w",)], float)
    moved = direction.moved(args, 0.5)
    assert args["params"]["W"][0, 0] == 1.0 and moved["params"]["W"][0, 0] != 1.0


def test_unevaluable_losses_are_inconclusive():
    args = {"w": 1.0}
    pairs = [((), ("w",))]
    directions = list(gradcheck.directions_for(args, pairs, np.random.default_rng(0)))
    losses = [1.0, None, 1.0, 1.0] * len(directions)
    assert gradcheck.matches_losses(2.0, losses, pairs, directions) is None
