"""The mutation check, made in the parent: an argument counts as unchanged only when it comes
back from the child with the same dtype, shape and bytes."""

from __future__ import annotations

import numpy as np

from grader.checks import mutated_arguments
from grader.sandbox import Limits, Sandbox
from tests.sources import python_file


def test_an_equal_copy_and_nan_copies_are_unchanged():
    W = np.arange(6.0).reshape(2, 3)
    nan = np.array([np.nan, 1.0])
    sent = ({"W": W}, W, nan, 0.5)
    after = ({"W": W.copy()}, W.copy(), nan.copy(), 0.5)
    assert mutated_arguments(sent, after, ("params", "X", "z", "lr")) == []


def test_another_dtype_or_a_signed_zero_is_a_mutation():
    z = np.array([0.0, 1.0])
    sent = (z, z)
    after = (z.astype(np.float32), np.array([-0.0, 1.0]))
    assert mutated_arguments(sent, after, ("a", "b")) == ["a", "b"]


def test_changed_values_and_other_layouts_of_the_same_memory_are_mutations():
    W = np.arange(6.0).reshape(2, 3)
    changed = W.copy()
    changed[0, 0] = -1.0
    sent = (W, W, {"W": W})
    after = (changed, W.T, {"W": W[:, :2]})
    assert mutated_arguments(sent, after, ("a", "b", "params")) == ["a", "b", "params"]


def test_big_arguments_are_checked_through_the_sandbox():
    code = (
        "def keep(params):\n"
        "    return float(params['W'].sum())\n"
        "def step(params):\n"
        "    params['W'] -= 0.5\n"
        "    return params\n"
    )
    params = {"W": np.ones((100, 100)), "b": np.zeros((100, 1))}
    with Sandbox(python_file(code), Limits(call_seconds=5)) as box:
        kept, stepped = (box.call(name, (params,)) for name in ("keep", "step"))
    assert mutated_arguments((params,), kept.args_after, ("params",)) == []
    assert mutated_arguments((params,), stepped.args_after, ("params",)) == ["params"]
    assert np.all(params["W"] == 1.0)
