"""Fuzzing the grader with whatever a student's function can hand back.

Whatever a function returns (wrong shapes and dtypes, ragged lists, nested containers,
dicts with the wrong keys, huge, tiny and non-finite numbers, strings, objects that only
cross the sandbox boundary as `Opaque`, and answers that are almost right), the grader must
produce a valid report: all-or-nothing points, a diagnosis code for every failure, a
message, and never an exception.

Two layers:

* fast, many examples: the parent-side checking (`grade_exercise`) driven by a stand-in
  sandbox whose values are round-tripped through the real wire encoder and decoder, so
  only values that can really cross the boundary reach the checks;
* real, few examples: generated submission files graded end to end in the real sandbox,
  and once through the command line.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import exercises
from exercises import EXERCISES, Exercise, FunctionSpec
from exercises import RngSeed as InstanceRng
from exercises.answer_key import ref
from grader.engine import GradeOptions, grade, grade_exercise
from grader.report import CheckResult, ExerciseResult, Report
from grader.sandbox import ERROR_KINDS, CallError, CallOutcome, LoadResult, Opaque, RngSeed, wire

ROOT = Path(__file__).resolve().parents[1]

settings.register_profile(
    "grader-fuzz",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    # No shrinking: a failing example of a whole exercise takes minutes to shrink. Every
    # draw is labelled, so the unshrunk example still says which function got what.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
FUZZ = settings.get_profile("grader-fuzz")
# Per exercise: 12 exercises x 30 examples, each grading every function of the exercise.
FAST_EXAMPLES = 30
# Real sandbox: a whole submission (every exercise) per example.
SANDBOX_EXAMPLES = 12


def documented_codes() -> set[str]:
    """The diagnosis codes of the table in docs/grading.md, section Diagnoses."""
    text = (ROOT / "docs" / "grading.md").read_text()
    section = text.split("## Diagnoses", 1)[1].split("\n## ", 1)[0]
    codes = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            codes.update(re.findall(r"`([a-z_]+)`", first_cell))
    return codes


DOCUMENTED_CODES = documented_codes()
ALL_FUNCTIONS = {spec.name: spec for exercise in EXERCISES for spec in exercise.functions}
MISTAKE_CODES = {
    name: {k.code for e in EXERCISES for k in e.mistakes if k.function == name}
    for name in ALL_FUNCTIONS
}


# ------------------------------------------------------------------ checking a result


def assert_valid_check(check: CheckResult, spec: FunctionSpec, instances_total: int) -> None:
    assert isinstance(check, CheckResult)
    assert check.function == spec.name
    assert check.max_score == spec.points
    assert check.score in (0.0, float(spec.points)), check
    assert check.passed == (check.score == spec.points), check
    assert isinstance(check.message, str) and check.message.strip(), check
    assert 0 <= check.instances_passed <= check.instances_total <= instances_total, check
    if check.passed:
        assert check.diagnosis is None, check
        assert check.instances_passed == check.instances_total == instances_total, check
        assert not check.failures, check
        return
    assert check.diagnosis is not None, check
    for diagnosis in [check.diagnosis, *(f.diagnosis for f in check.failures)]:
        assert isinstance(diagnosis.code, str) and diagnosis.code, check
        assert diagnosis.code in DOCUMENTED_CODES, check
        if diagnosis.code == "known_mistake":
            assert diagnosis.mistake in MISTAKE_CODES[spec.name], check
        if diagnosis.factor is not None:
            assert math.isfinite(diagnosis.factor), ("a non-finite factor", diagnosis, check)
    for failure in check.failures:
        assert failure.message.strip() and failure.instance, check
    if check.instances_total:
        assert check.failures, check
        assert check.instances_passed < check.instances_total, check


def assert_valid_exercise(result: ExerciseResult, exercise: Exercise, totals: dict) -> None:
    assert isinstance(result, ExerciseResult)
    again = ExerciseResult.model_validate_json(result.model_dump_json())
    assert again.name == exercise.name
    json.loads(result.model_dump_json())
    assert result.max_score == exercise.max_score
    assert [c.function for c in result.checks] == list(exercise.function_names)
    for check, spec in zip(result.checks, exercise.functions, strict=True):
        assert_valid_check(check, spec, totals.get(spec.name, 0))
    assert result.score == round(sum(c.score for c in result.checks), 4)


# ------------------------------------------------------------------ values that are wrong

FLOAT_EDGES = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    1e308,
    -1e308,
    1.7976931348623157e308,
    1e-308,
    -1e-308,
    5e-324,
    2.2250738585072014e-308,
    math.inf,
    -math.inf,
    math.nan,
    1e-9,
    1e6,
]
INT_EDGES = [0, 1, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**400, -(10**400)]
SIMPLE_DTYPES = [
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    ">f8",
    ">i4",
    "complex64",
    "complex128",
    "<U3",
    "S2",
]


class Custom:
    """A student's own object."""

    def __repr__(self) -> str:
        return "Custom()"


def odd_objects() -> st.SearchStrategy:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # np.matrix
        matrix = np.matrix([[1.0, 2.0]])
    return st.sampled_from(
        [
            1 + 2j,
            np.complex128(1 - 1j),
            Custom(),
            object(),
            b"bytes",
            {1, 2},
            frozenset(),
            Ellipsis,
            range(3),
            slice(1, 2),
            np.datetime64("2020-01-01"),
            np.longdouble(1.5),
            np.float16(2.5),
            np.float32(-0.0),
            np.int8(-3),
            np.uint64(2**64 - 1),
            np.bool_(True),
            np.array([1, "a", None], dtype=object),
            np.array([[1.0, 2.0], [3.0]], dtype=object),
            np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]),
            np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1),  # not contiguous
            np.arange(10.0)[::3],
            np.zeros((0, 3)),
            np.zeros((3, 0, 2), dtype=np.int64),
            np.ones((1,) * 12),
            np.array(np.longdouble(3.25)),
            np.ma.masked_array([1.0, 2.0], mask=[0, 1]),
            matrix,
            {1: 2.0},
            {"a": {2: 3.0}},
            [[1.0, 2.0], [3.0]],
            [[[]]],
            (),
            [],
            {},
        ]
    )


@st.composite
def simple_array(draw) -> np.ndarray:
    dtype = np.dtype(draw(st.sampled_from(SIMPLE_DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    if dtype.kind == "f" and draw(st.booleans()):
        fill = draw(st.sampled_from(FLOAT_EDGES))
        with np.errstate(all="ignore"):
            return np.full(shape, fill).astype(dtype)
    return draw(hnp.arrays(dtype, shape))


def leaves() -> st.SearchStrategy:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.sampled_from(INT_EDGES),
        st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
        st.sampled_from(FLOAT_EDGES),
        st.text(max_size=6),
        simple_array(),
        odd_objects(),
    )


KEYS = ["W1", "b1", "W2", "b2", "w", "b", "W", "x", "", "é", "W1 "]


def weird_values() -> st.SearchStrategy:
    return st.recursive(
        leaves(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.lists(inner, max_size=4).map(tuple),
            st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), inner, max_size=4),
            st.dictionaries(st.integers(0, 3), inner, max_size=2),
        ),
        max_leaves=8,
    )


# ------------------------------------------------------------------ almost right answers


def leaf_paths(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [p for k in value for p in leaf_paths(value[k], path + (k,))]
    if isinstance(value, tuple | list):
        return [p for i, v in enumerate(value) for p in leaf_paths(v, path + (i,))]
    return [path]


def node_paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a container or leaf, the value itself included."""
    paths = [path]
    if isinstance(value, dict):
        paths += [p for k in value for p in node_paths(value[k], path + (k,))]
    elif isinstance(value, tuple | list):
        paths += [p for i, v in enumerate(value) for p in node_paths(v, path + (i,))]
    return paths


def get_at(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


def replace_at(value: Any, path: tuple, new: Any) -> Any:
    """A copy of `value` (containers rebuilt along the path) with `new` at `path`."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        out = dict(value)
        out[head] = replace_at(value[head], rest, new)
        return out
    items = list(value)
    items[head] = replace_at(value[head], rest, new)
    return type(value)(items) if isinstance(value, tuple) else items


def map_leaves(value: Any, fn: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: map_leaves(v, fn) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(map_leaves(v, fn) for v in value)
    return fn(value)


def scale_leaf(leaf: Any, factor: float) -> Any:
    if isinstance(leaf, np.ndarray | float | int) and not isinstance(leaf, bool):
        with np.errstate(all="ignore"):
            return leaf * factor
    return leaf


def perturbed_entry(draw, leaf: Any) -> Any:
    delta = draw(st.sampled_from([1e-12, 1e-7, 1e-5, 1e-3, 0.1, 1.0, -2.0, 1e300, math.nan]))
    relative = draw(st.booleans())
    with np.errstate(all="ignore"):
        if isinstance(leaf, np.ndarray) and leaf.size:
            out = np.array(leaf, dtype=np.float64)
            index = draw(st.integers(0, leaf.size - 1))
            flat = out.reshape(-1)
            flat[index] = flat[index] * (1 + delta) if relative else flat[index] + delta
            return out
        if isinstance(leaf, float | int) and not isinstance(leaf, bool):
            return leaf * (1 + delta) if relative else leaf + delta
    return leaf


def reshaped(draw, leaf: Any, m: int) -> Any:
    """The leaf with a wrong shape (or a scalar where an array is due, and back)."""
    if isinstance(leaf, np.ndarray):
        options = [
            lambda a: a.T,
            lambda a: a[None],
            lambda a: a[..., None],
            lambda a: a.ravel(),
            lambda a: a.reshape(1, -1),
            lambda a: np.squeeze(a),
            lambda a: a.reshape(-1)[:0],
            lambda a: np.zeros((0,) + a.shape),
            lambda a: (
                np.repeat(a.reshape(a.shape[:1] + (-1,)) if a.ndim else a, m, axis=-1)
                if a.ndim
                else np.full((1, m), a)
            ),
            lambda a: np.concatenate([a.ravel(), a.ravel()]),
            lambda a: a.reshape(-1)[:1].reshape(()) if a.size else a,
            lambda a: float(a.reshape(-1)[0]) if a.size else 0.0,
            lambda a: a.tolist(),
            lambda a: np.ascontiguousarray(a.T).T,
        ]
        return draw(st.sampled_from(options))(leaf)
    if isinstance(leaf, float | int) and not isinstance(leaf, bool):
        options = [
            lambda x: np.array(x),
            lambda x: np.array([x]),
            lambda x: np.array([[x]]),
            lambda x: np.array([[[x]]]),
            lambda x: np.full((1, m), x),
            lambda x: np.array([x, x]),
            lambda x: [x],
            lambda x: (x,),
            lambda x: np.float32(x),
            lambda x: np.float16(x),
            lambda x: np.int64(x) if math.isfinite(x) else x,
            lambda x: int(x) if math.isfinite(x) else x,
            lambda x: str(x),
            lambda x: complex(x),
        ]
        return draw(st.sampled_from(options))(leaf)
    return leaf


def retyped(draw, leaf: Any) -> Any:
    dtype = draw(st.sampled_from([*SIMPLE_DTYPES, "object", "longdouble"]))
    with np.errstate(all="ignore"):
        try:
            return np.asarray(leaf).astype(dtype)
        except (TypeError, ValueError, OverflowError):
            return np.asarray(leaf, dtype=object)


def restructured(draw, value: Any, path: tuple) -> Any:
    node = get_at(value, path)
    if isinstance(node, dict):
        keys = list(node)
        choice = draw(st.integers(0, 5))
        if choice == 0 and keys:
            new = {k: v for k, v in node.items() if k != draw(st.sampled_from(keys))}
        elif choice == 1:
            new = {**node, draw(st.sampled_from(KEYS + ["extra"])): draw(leaves())}
        elif choice == 2:
            new = {k.lower() + "_": v for k, v in node.items()}
        elif choice == 3:
            new = tuple(node.values())
        elif choice == 4:
            new = {i: v for i, v in enumerate(node.values())}
        else:
            new = dict(reversed(list(node.items())))
    elif isinstance(node, tuple | list):
        choice = draw(st.integers(0, 5))
        if choice == 0:
            new = type(node)(list(node)[:-1])
        elif choice == 1:
            new = type(node)([*node, draw(leaves())])
        elif choice == 2:
            new = list(node) if isinstance(node, tuple) else tuple(node)
        elif choice == 3:
            new = type(node)(reversed(node))
        elif choice == 4:
            new = [node]
        else:
            new = {str(i): v for i, v in enumerate(node)}
    else:
        new = draw(st.sampled_from([[node], (node,), {"value": node}, (node, node)]))
    return replace_at(value, path, new)


ALMOST = [
    "exact",
    "within_tolerance",
    "perturb_one",
    "scale_all",
    "scale_one",
    "replace_part",
    "restructure",
    "reshape",
    "retype",
    "to_lists",
    "mistake",
]
KINDS = [*ALMOST, "weird", "error"]


def examples_count(args: tuple) -> int:
    for a in args:
        if isinstance(a, np.ndarray) and a.ndim == 2:
            return int(a.shape[1])
    return 3


def answer(draw, kind: str, expected: Any, mistakes: list[Any], m: int) -> Any:
    """An answer of the given kind, built from the reference output `expected`."""
    if kind == "exact":
        return expected
    if kind == "mistake":
        return draw(st.sampled_from(mistakes)) if mistakes else expected
    if kind == "weird":
        return draw(weird_values())
    if kind == "within_tolerance":
        return map_leaves(expected, lambda leaf: scale_leaf(leaf, 1 + 1e-9))
    if kind == "scale_all":
        factor = draw(st.sampled_from([2.0, 0.5, -1.0, m, 1 / m, 2 * m, -0.5, 0.0, 1e300, 1e-300]))
        return map_leaves(expected, lambda leaf: scale_leaf(leaf, factor))
    if kind == "to_lists":
        return map_leaves(expected, lambda a: a.tolist() if isinstance(a, np.ndarray) else a)
    paths = leaf_paths(expected)
    path = draw(st.sampled_from(paths))
    leaf = get_at(expected, path)
    if kind == "perturb_one":
        return replace_at(expected, path, perturbed_entry(draw, leaf))
    if kind == "scale_one":
        factor = draw(st.sampled_from([2.0, 0.5, -1.0, m, 1 / m, 1e308, math.inf, 5e-324]))
        return replace_at(expected, path, scale_leaf(leaf, factor))
    if kind == "replace_part":
        where = draw(st.sampled_from(node_paths(expected)))
        return replace_at(expected, where, draw(leaves()))
    if kind == "restructure":
        return restructured(draw, expected, draw(st.sampled_from(node_paths(expected))))
    if kind == "reshape":
        return replace_at(expected, path, reshaped(draw, leaf, m))
    if kind == "retype":
        return replace_at(expected, path, retyped(draw, leaf))
    raise AssertionError(kind)


# ------------------------------------------------------------------ the stand-in sandbox


def reference_args(args: tuple) -> tuple:
    return tuple(np.random.default_rng(a.seed) if isinstance(a, RngSeed) else a for a in args)


def as_child_sees(value: Any) -> Any:
    """An argument as it is in the child: a seed has become a Generator."""
    if isinstance(value, RngSeed):
        return np.random.default_rng(value.seed)
    if isinstance(value, dict):
        return {k: as_child_sees(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(as_child_sees(v) for v in value)
    return value


def cross(value: Any) -> Any:
    """`value` as the parent decodes it from a reply (WireError if it cannot cross)."""
    return wire.roundtrip(value)


class StandInBox:
    """Answers like the sandbox would, with values drawn by hypothesis.

    Each value and each argument tuple after the call goes through the real encoder and
    decoder. Every call of a function is logged, so the test can tell what must pass.
    """

    mode = "stand-in"

    def __init__(self, exercise: Exercise, data: Any) -> None:
        self.exercise = exercise
        self.data = data
        self.clean: dict[str, list[bool]] = {}
        self.errors: dict[str, int] = {}

    def call(self, name: str, args: tuple, *, return_args: bool = True, **_ignored) -> CallOutcome:
        return self.call_many(name, [args], return_args=return_args)[0]

    def call_many(
        self, name: str, arg_sets: list, return_args: bool = True, **_ignored
    ) -> list[CallOutcome]:
        draw = self.data.draw
        spec = self.exercise.function(name)
        consistent = draw(st.booleans(), label=f"{name}: one kind for every call")
        shared = draw(st.sampled_from(KINDS), label=f"{name}: kind")
        outcomes = []
        for args in arg_sets:
            kind = shared if consistent else draw(st.sampled_from(KINDS), label="kind")
            outcome, clean = self.outcome(spec, tuple(args), kind, return_args)
            outcomes.append(outcome)
            self.clean.setdefault(name, []).append(clean)
            if return_args:
                self.errors[name] = self.errors.get(name, 0) + (not outcome.ok)
        return outcomes

    def outcome(
        self, spec: FunctionSpec, args: tuple, kind: str, return_args: bool
    ) -> tuple[CallOutcome, bool]:
        draw = self.data.draw
        stdout = draw(st.sampled_from(["", "hello\n", "é\x00\u202e" * 3, "x" * 300]))
        if kind == "error":
            error = CallError(
                draw(st.sampled_from(sorted(ERROR_KINDS))),
                draw(st.sampled_from(["f raised ValueError", "f ran out of memory\x00é" * 20])),
                draw(st.sampled_from([None, "", "cell 3, line 2, in f\nValueError: x"])),
            )
            return CallOutcome(None, None, error, 0.01, stdout=stdout), False
        expected = getattr(ref, spec.name)(*reference_args(args))
        if spec.check == "values":
            mistakes = [
                m.variant(self.args_dict(spec, args))
                for m in self.exercise.mistakes
                if m.function == spec.name and m.variant is not None
            ]
        else:
            mistakes = []
        value = answer(draw, kind, expected, mistakes, examples_count(args))
        try:
            crossed = cross(value)
        except wire.WireError as exc:
            error = CallError("bad_reply", f"returned something the grader cannot read ({exc})")
            return CallOutcome(None, None, error, 0.01, stdout=stdout), False
        after, unchanged = self.args_after(args) if return_args else (None, True)
        warned = draw(st.sampled_from([(), (), ("RuntimeWarning: overflow encountered in exp",)]))
        clean = kind == "exact" and unchanged and not (warned and spec.must_not_warn)
        outcome = CallOutcome(crossed, after, None, 0.01, stdout=stdout, warnings=warned)
        return outcome, clean

    def args_dict(self, spec: FunctionSpec, args: tuple) -> dict:
        return {
            p: InstanceRng(a.seed) if isinstance(a, RngSeed) else a
            for p, a in zip(spec.params, args, strict=True)
        }

    def args_after(self, args: tuple) -> tuple[tuple | None, bool]:
        """The arguments after the call, and whether they are unchanged."""
        draw = self.data.draw
        how = draw(st.sampled_from(["copy"] * 6 + ["mutated", "different", "shorter"]))
        if how == "shorter":  # never sent by the real child: no claim on the verdict
            return cross(as_child_sees(args[:-1])), False
        seen = as_child_sees(args)
        if how == "copy":
            return cross(seen), True
        index = draw(st.integers(0, len(args) - 1))
        if how == "different":
            replaced = replace_at(seen, (index,), draw(weird_values()))
            try:
                return cross(replaced), False
            except wire.WireError:
                return None, True
        path = draw(st.sampled_from(leaf_paths(seen[index])))
        leaf = get_at(seen[index], path)
        if isinstance(leaf, np.ndarray) and leaf.size:
            changed = np.array(leaf, dtype=np.float64)
            changed.reshape(-1)[0] += 1.0
        elif isinstance(leaf, float | int) and not isinstance(leaf, bool):
            changed = leaf + 1
        else:
            return cross(seen), True
        return cross(replace_at(seen, (index, *path), changed)), False


# ------------------------------------------------------------------ layer a: parent side


def graded_counts(exercise: Exercise, instances: list) -> dict[str, int]:
    """How many of the instances grade each function (all of them, unless an instance
    says otherwise)."""
    return {
        name: sum(1 for i in instances if getattr(i, "grades", lambda _: True)(name))
        for name in exercise.function_names
    }


def function_names(exercise: Exercise) -> dict[str, str]:
    return {name: "function" for name in exercise.function_names}


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.name for e in EXERCISES])
@settings(FUZZ, max_examples=FAST_EXAMPLES)
@given(data=st.data())
def test_every_answer_gets_a_valid_check(exercise, data):
    seed = data.draw(st.integers(0, 3), label="seed")
    instances = exercise.instances(seed)
    box = StandInBox(exercise, data)
    load = LoadResult(names=function_names(exercise))
    result = grade_exercise(box, load, exercise, instances, seed)
    assert_valid_exercise(result, exercise, graded_counts(exercise, instances))
    for check in result.checks:
        clean = box.clean.get(check.function, [])
        if clean and all(clean):
            assert check.passed, check
        if box.errors.get(check.function):
            assert not check.passed, check


def leafwise(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def transform(value: Any) -> Any:
        with np.errstate(all="ignore"):
            return map_leaves(value, fn)

    return transform


def first_leaf(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def transform(value: Any) -> Any:
        path = leaf_paths(value)[0]
        with np.errstate(all="ignore"):
            return replace_at(value, path, fn(get_at(value, path)))

    return transform


def numeric(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """fn on numbers and numeric arrays; anything else left as it is."""

    def apply(leaf: Any) -> Any:
        if isinstance(leaf, bool) or not isinstance(leaf, int | float | np.ndarray):
            return leaf
        return fn(np.asarray(leaf, dtype=np.float64)) if isinstance(leaf, np.ndarray) else fn(leaf)

    return apply


def one_entry(fn: Callable[[float], float]) -> Callable[[Any], Any]:
    def apply(leaf: Any) -> Any:
        if isinstance(leaf, np.ndarray) and leaf.size:
            out = np.array(leaf, dtype=np.float64)
            out.reshape(-1)[-1] = fn(out.reshape(-1)[-1])
            return out
        return fn(leaf)

    return numeric(apply)


def restructure_top(value: Any) -> Any:
    if isinstance(value, dict):
        return {**value, "extra": 1.0}
    if isinstance(value, tuple):
        return list(value)[:-1]
    if isinstance(value, list):
        return [*value, value[-1]] if value else [0.0]
    return (value,)


# Answers every function gets on every instance, built from the answer key's output: the
# fuzz above draws such answers at random; these are always run.
FIXED_ANSWERS: dict[str, Callable[[Any], Any]] = {
    "times 1e308": leafwise(numeric(lambda x: x * 1e308)),
    "times 1e-308": leafwise(numeric(lambda x: x * 1e-308)),
    "times -1": leafwise(numeric(lambda x: -x)),
    "times 0": leafwise(numeric(lambda x: x * 0.0)),
    "1e308 and -1e308 alternating": leafwise(
        numeric(lambda x: np.where(np.arange(np.size(x)).reshape(np.shape(x)) % 2, 1e308, -1e308))
    ),
    "subnormal": leafwise(numeric(lambda x: x * 0.0 + 5e-324)),
    "one entry off by 1e-3": leafwise(one_entry(lambda x: x * (1 + 1e-3) + 1e-3)),
    "one entry inf": first_leaf(one_entry(lambda x: math.inf)),
    "one entry nan": first_leaf(one_entry(lambda x: math.nan)),
    "first output 10**400": first_leaf(lambda x: 10**400),
    "first output None": first_leaf(lambda x: None),
    "first output a string": first_leaf(lambda x: "0.5"),
    "first output complex": first_leaf(lambda x: np.asarray(x) * (1 + 1j)),
    "first output float16": first_leaf(lambda x: np.asarray(x, dtype=np.float16)),
    "bool arrays": leafwise(lambda x: np.asarray(x).astype(bool) if np.ndim(x) else x),
    "uint64 arrays": leafwise(lambda x: np.asarray(x).astype(np.uint64) if np.ndim(x) else x),
    "transposed arrays": leafwise(lambda x: x.T if isinstance(x, np.ndarray) else x),
    "extra axis": leafwise(lambda x: np.asarray(x)[None]),
    "nested lists": leafwise(lambda x: x.tolist() if isinstance(x, np.ndarray) else x),
    "restructured": restructure_top,
    "None": lambda value: None,
    "object array": lambda value: np.array([value, None], dtype=object),
}


class FixedBox:
    """Every function answers `transform(answer key's output)`, arguments left unchanged."""

    mode = "stand-in"

    def __init__(self, exercise: Exercise, transform: Callable[[Any], Any]) -> None:
        self.exercise = exercise
        self.transform = transform

    def call_many(
        self, name: str, arg_sets: list, return_args: bool = True, **_ignored
    ) -> list[CallOutcome]:
        outcomes = []
        for args in arg_sets:
            expected = getattr(ref, name)(*reference_args(tuple(args)))
            after = cross(as_child_sees(tuple(args))) if return_args else None
            try:
                value = cross(self.transform(expected))
            except wire.WireError as exc:
                error = CallError("bad_reply", f"{name} returned something unreadable ({exc})")
                outcomes.append(CallOutcome(None, None, error, 0.0))
                continue
            outcomes.append(CallOutcome(value, after, None, 0.0))
        return outcomes


@pytest.mark.parametrize("answer_name", FIXED_ANSWERS)
@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.name for e in EXERCISES])
def test_fixed_nasty_answers_get_valid_checks(exercise, answer_name):
    instances = exercise.instances(0)
    box = FixedBox(exercise, FIXED_ANSWERS[answer_name])
    load = LoadResult(names=function_names(exercise))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = grade_exercise(box, load, exercise, instances, 0)
    assert_valid_exercise(result, exercise, graded_counts(exercise, instances))


def test_values_cross_the_boundary_like_a_reply():
    """The stand-in's values are what a reply really decodes to."""
    assert cross(np.array([1 + 2j])) == Opaque("ndarray[complex128]")
    assert cross({1: 2.0}) == Opaque("dict with non-string keys")
    assert isinstance(cross(Custom()), Opaque)
    crossed = cross(np.arange(6.0).reshape(2, 3).T)
    assert crossed.flags.c_contiguous and crossed.shape == (3, 2)
    assert cross(np.float32(1.5)) == 1.5 and type(cross(np.float32(1.5))) is float
    with pytest.raises(wire.WireError):  # a seed is an argument, never a result
        cross(RngSeed(3))


def test_undefined_and_not_callable_functions_get_valid_checks():
    for exercise in EXERCISES:
        instances = exercise.instances(0)
        names = {n: ("int" if i % 2 else "function") for i, n in enumerate(exercise.function_names)}
        load = LoadResult(names={k: v for k, v in names.items() if v == "int"})
        box = StandInBox(exercise, None)
        result = grade_exercise(box, load, exercise, instances, 0)
        assert_valid_exercise(result, exercise, {})
        assert result.score == 0


# ------------------------------------------------------------------ layer b: real sandbox

PREAMBLE = """\
import numpy as np


class Weird:
    def __repr__(self):
        return "Weird()"

    def __len__(self):
        return 3

    def __array__(self, dtype=None, copy=None):
        return np.ones(3)


class FakeArray(np.ndarray):
    pass


def objects(*items):
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


"""

LEAF_SOURCES = [
    "None",
    "True",
    "0",
    "-7",
    "10**400",
    "2**64",
    "-(2**63) - 1",
    "float('nan')",
    "float('inf')",
    "-float('inf')",
    "1e308",
    "-1e308",
    "1e-308",
    "5e-324",
    "0.5",
    "''",
    "'nan'",
    "'1.0'",
    "'é\\x00'",
    "1+2j",
    "Weird()",
    "Weird",
    "object()",
    "b'xy'",
    "{1, 2}",
    "len",
    "lambda: 0",
    "np.float32(1.5)",
    "np.float16(-2.0)",
    "np.int64(-3)",
    "np.uint64(2**64 - 1)",
    "np.bool_(False)",
    "np.longdouble(2.5)",
    "np.complex128(1j)",
    "np.datetime64('2020-01-01')",
    "np.array(np.longdouble(3.25))",
    "np.arange(6.0).reshape(2, 3).T",
    "np.arange(10.0)[::3]",
    "np.zeros((0, 3))",
    "np.ones((1,) * 10)",
    "np.array([[1.0, 2.0], [3.0]], dtype=object)",
    "objects(1.0, 'a', None)",
    "objects(np.ones(2), np.ones(3))",
    "np.zeros(2, dtype=[('a', 'f8'), ('b', 'i4')])",
    "np.ma.masked_array([1.0, 2.0], mask=[0, 1])",
    "np.matrix([[1.0, 2.0]])",
    "np.ones((2, 2)).view(FakeArray)",
    "np.array(['a', 'bc'])",
    "np.random.default_rng(0)",
    "iter([1.0])",
]


def array_source(dtype: str, shape: tuple[int, ...], fill: str) -> str:
    return f"np.full({shape!r}, {fill}, dtype={dtype!r})"


@st.composite
def array_sources(draw) -> str:
    dtype = draw(st.sampled_from([*SIMPLE_DTYPES, "longdouble", "object"]))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    if dtype in ("<U3", "S2"):
        fill = "'ab'"
    elif dtype.startswith("complex"):
        fill = "1 - 2j"
    elif dtype == "bool":
        fill = "True"
    elif "int" in dtype or dtype.startswith(">i"):
        fill = draw(st.sampled_from(["0", "1", "-1", "100"])) if dtype[0] != "u" else "7"
    else:
        fill = draw(st.sampled_from(["0.5", "float('nan')", "float('inf')", "1e-308", "1e30"]))
    return array_source(dtype, shape, fill)


def expression_sources() -> st.SearchStrategy:
    leaf = st.one_of(st.sampled_from(LEAF_SOURCES), array_sources())
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.lists(inner, max_size=4).map(lambda xs: "(" + "".join(x + ", " for x in xs) + ")"),
            st.lists(st.tuples(st.sampled_from(KEYS), inner), max_size=4).map(
                lambda kv: "{" + ", ".join(f"{k!r}: {v}" for k, v in kv) + "}"
            ),
            inner.map(lambda x: "{0: " + x + "}"),
        ),
        max_leaves=6,
    )


BEHAVIOURS = {
    "return": "    return {expr}\n",
    "first_argument": "    return args[0]\n",
    "mutate_then_return": (
        "    for a in args:\n"
        "        if isinstance(a, np.ndarray) and a.size and a.flags.writeable:\n"
        "            a.flat[0] = 1e300\n"
        "        elif isinstance(a, dict):\n"
        "            a.pop(next(iter(a)), None)\n"
        "    return {expr}\n"
    ),
    "raise": "    raise ValueError({expr!r})\n",
    "yield": "    yield {expr}\n    yield {expr}\n",
    "print": "    print({expr!r} * 10)\n    return {expr}\n",
}


def submission_source(choices: dict[str, tuple[str, str]]) -> str:
    """A submission defining every function: each behaves as `choices[name]` says."""
    parts = [PREAMBLE]
    for name, (behaviour, expr) in choices.items():
        body = BEHAVIOURS[behaviour].replace("{expr!r}", repr(expr)).replace("{expr}", expr)
        parts.append(f"def {name}(*args, **kwargs):\n{body}\n\n")
    return "".join(parts)


@st.composite
def submissions(draw) -> str:
    choices = {}
    for name in ALL_FUNCTIONS:
        behaviour = draw(st.sampled_from([*["return"] * 6, *BEHAVIOURS]), label=name)
        choices[name] = (behaviour, draw(expression_sources(), label=f"{name} returns"))
    return submission_source(choices)


def assert_valid_report(report: Report) -> None:
    assert isinstance(report, Report)
    Report.model_validate_json(report.to_json())
    assert not report.errors, report.errors
    assert [e.name for e in report.exercises] == [e.name for e in EXERCISES]
    for result in report.exercises:
        exercise = exercises.get(result.name)
        counts = graded_counts(exercise, exercise.instances(report.seed))
        assert_valid_exercise(result, exercise, counts)
    assert report.score == round(sum(e.score for e in report.exercises), 4)
    assert report.max_score == round(sum(e.max_score for e in report.exercises), 4)


@settings(FUZZ, max_examples=SANDBOX_EXAMPLES)
@given(source=submissions(), seed=st.integers(0, 2**32 - 1))
def test_generated_submissions_grade_end_to_end(tmp_path_factory, source, seed):
    path = tmp_path_factory.mktemp("fuzz") / "submission.py"
    path.write_text(source)
    assert_valid_report(grade(path, GradeOptions(seed=seed)))


NASTY = [
    ("return", "np.array([1 + 2j, 3j])"),
    ("return", "objects(1.0, 'a', None)"),
    ("return", "Weird()"),
    ("return", "[[1.0, 2.0], [3.0]]"),
    ("return", "10**400"),
    ("return", "(float('nan'), 1e308, 5e-324)"),
    ("return", "{'W1': np.zeros((0, 3)), 'extra': 'x'}"),
    ("return", "np.full((2, 3), 1e-308, dtype='float16')"),
    ("first_argument", ""),
    ("mutate_then_return", "np.ones((3, 1), dtype='>f8')"),
    ("yield", "np.arange(6.0).reshape(2, 3).T"),
    ("raise", "boom"),
]


def test_command_line_grades_a_nasty_submission(tmp_path):
    choices = {name: NASTY[i % len(NASTY)] for i, name in enumerate(ALL_FUNCTIONS)}
    path = tmp_path / "nasty.py"
    path.write_text(submission_source(choices))
    env = {**os.environ, "NO_COLOR": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(path), "--json", "-", "--seed", "7"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 0, (run.returncode, run.stderr[-3000:])
    report = Report.model_validate(json.loads(run.stdout))
    assert_valid_report(report)
    assert report.score < report.max_score
