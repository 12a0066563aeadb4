"""The catalogue of known mistakes: well-formed, distinguishable, and faithful to real bugs.

Every catalogued mistake must be told apart from the right answer and from the other
mistakes of its function on the instances a student is graded on, must never modify its
inputs, and its hint must point at a step of the derivation without giving numbers away.
The hand-written buggy samples in `submissions/` that expect `known_mistake` must be
recognised by the catalogue.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import reference as ref
from exercises import EXERCISES, Exercise, FunctionSpec, Instance, Mistake, RngSeed

SEEDS = range(4)
SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"

CATALOGUE: list[tuple[Exercise, Mistake]] = [(e, k) for e in EXERCISES for k in e.mistakes]
# A Mistake object may be listed by several exercises when they share the function spec
# (mse_loss): it is one mistake, counted once.
UNIQUE: dict[int, tuple[Exercise, Mistake]] = {}
for _exercise, _mistake in CATALOGUE:
    UNIQUE.setdefault(id(_mistake), (_exercise, _mistake))
VARIANTS = [(e, k) for e, k in UNIQUE.values() if k.variant is not None]
MATCHERS = [(e, k) for e, k in UNIQUE.values() if k.matches is not None]


VARIANT_IDS = [k.code for _, k in VARIANTS]
MATCHER_IDS = [k.code for _, k in MATCHERS]


def instances(exercise: Exercise) -> Iterator[Instance]:
    for seed in SEEDS:
        yield from exercise.instances(seed)


def call_reference(spec: FunctionSpec, args: dict) -> Any:
    values = [args[p].make() if isinstance(args[p], RngSeed) else args[p] for p in spec.params]
    return getattr(ref, spec.name)(*values)


# ------------------------------------------------------------------ comparing outputs


def differs(output: Any, expected: Any, rtol: float, atol: float) -> bool:
    """True when output is not expected within rtol * max|value| + atol, or not shaped alike.

    Containers must agree in keys or length; size-1 values compare as scalars (the contract
    accepts a float, a numpy scalar or a size-1 array for a scalar); non-finite entries must
    sit in the same places.
    """
    if isinstance(expected, dict):
        if not isinstance(output, dict) or set(output) != set(expected):
            return True
        return any(differs(output[k], expected[k], rtol, atol) for k in expected)
    if isinstance(expected, list | tuple):
        if not isinstance(output, list | tuple) or len(output) != len(expected):
            return True
        return any(differs(o, e, rtol, atol) for o, e in zip(output, expected, strict=True))
    try:
        a, b = np.asarray(output, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return True
    if a.size == 1 and b.size == 1:
        a, b = a.reshape(()), b.reshape(())
    if a.shape != b.shape:
        return True
    finite_a, finite_b = np.isfinite(a), np.isfinite(b)
    if np.any(finite_a != finite_b) or np.any(a[~finite_a] != b[~finite_b]):
        return True
    if not np.any(finite_b):
        return False
    scale = max(np.max(np.abs(a[finite_a])), np.max(np.abs(b[finite_b])))
    return bool(np.any(np.abs(a[finite_a] - b[finite_b]) > rtol * scale + atol))


def unchanged(value: Any, before: Any) -> bool:
    """Exactly equal, recursively: same containers, same arrays (dtype and shape), same rest."""
    if isinstance(before, dict):
        return (
            isinstance(value, dict)
            and value.keys() == before.keys()
            and all(unchanged(value[k], before[k]) for k in before)
        )
    if isinstance(before, list | tuple):
        return (
            type(value) is type(before)
            and len(value) == len(before)
            and all(unchanged(v, b) for v, b in zip(value, before, strict=True))
        )
    if isinstance(before, np.ndarray):
        return (
            isinstance(value, np.ndarray)
            and value.dtype == before.dtype
            and np.array_equal(value, before, equal_nan=True)
        )
    return type(value) is type(before) and value == before


def skeleton(value: Any) -> Any:
    """The container structure of an output: dict keys and tuple lengths, leaves elided."""
    if isinstance(value, dict):
        return {key: skeleton(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(skeleton(item) for item in value)
    return "leaf"


def run_variant(mistake: Mistake, args: dict) -> Any:
    """The variant's output; numpy warnings would be noise in a grader's log, so they fail."""
    assert mistake.variant is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return mistake.variant(args)


# ------------------------------------------------------------------ the catalogue's form


def test_catalogue_is_large_and_covers_every_exercise():
    assert len(UNIQUE) >= 40
    for exercise in EXERCISES:
        assert len(exercise.mistakes) >= 3, exercise.name


def test_codes_are_unique_snake_case_identifiers():
    codes = [k.code for _, k in UNIQUE.values()]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", code), code
        assert len(code) <= 40, code


def test_a_mistake_shared_by_exercises_belongs_to_a_shared_function():
    for exercise, mistake in CATALOGUE:
        first_exercise, first = UNIQUE[id(mistake)]
        assert first.code == mistake.code
        assert exercise.function(mistake.function) is first_exercise.function(mistake.function)


def test_every_mistake_names_a_declared_function_and_one_way_to_recognise_it():
    for exercise, mistake in CATALOGUE:
        assert mistake.function in exercise.function_names, mistake.code
        assert (mistake.variant is None) != (mistake.matches is None), mistake.code
        spec = exercise.function(mistake.function)
        # matches is for functions without a unique right answer, variant for the others
        assert (mistake.matches is not None) == (spec.check != "values"), mistake.code


def test_titles_and_hints_are_short_words_without_numbers():
    for _, mistake in UNIQUE.values():
        assert mistake.title.strip() and mistake.hint.strip(), mistake.code
        assert len(mistake.title) <= 100, mistake.code
        for text in (mistake.title, mistake.hint):
            assert not re.search(r"\d{3,}", text), (mistake.code, text)
            assert not re.search(r"\d\s*\.\s*\d|\.\d", text), (mistake.code, text)
            assert not re.search(r"\d[eE][-+]?\d", text), (mistake.code, text)
        sentences = [s for s in re.split(r"[.!?](?:\s|$)", mistake.hint.strip()) if s.strip()]
        assert 1 <= len(sentences) <= 2, (mistake.code, mistake.hint)
        assert len(mistake.hint) <= 260, mistake.code


# ------------------------------------------------------------------ variants


@pytest.mark.parametrize(("exercise", "mistake"), VARIANTS, ids=VARIANT_IDS)
def test_variant_keeps_the_output_structure_and_leaves_inputs_alone(exercise, mistake):
    spec = exercise.function(mistake.function)
    for instance in instances(exercise):
        before = copy.deepcopy(instance.args)
        output = run_variant(mistake, instance.args)
        assert unchanged(instance.args, before), (mistake.code, instance.label)
        expected = call_reference(spec, instance.args)
        assert skeleton(output) == skeleton(expected), (mistake.code, instance.label)


@pytest.mark.parametrize(("exercise", "mistake"), VARIANTS, ids=VARIANT_IDS)
def test_variant_differs_from_the_reference_somewhere(exercise, mistake):
    spec = exercise.function(mistake.function)
    assert any(
        differs(run_variant(mistake, i.args), call_reference(spec, i.args), spec.rtol, spec.atol)
        for i in instances(exercise)
    ), mistake.code


def same_function_pairs(
    pool: list[tuple[Exercise, Mistake]],
) -> list[tuple[Exercise, Mistake, Mistake]]:
    return [
        (e, a, b)
        for i, (e, a) in enumerate(pool)
        for _, b in pool[i + 1 :]
        if a.function == b.function
    ]


VARIANT_PAIRS = same_function_pairs(VARIANTS)


@pytest.mark.parametrize(
    ("exercise", "first", "second"),
    VARIANT_PAIRS,
    ids=[f"{a.code}-vs-{b.code}" for _, a, b in VARIANT_PAIRS],
)
def test_two_variants_of_a_function_differ_somewhere(exercise, first, second):
    spec = exercise.function(first.function)
    assert any(
        differs(run_variant(first, i.args), run_variant(second, i.args), spec.rtol, spec.atol)
        for i in instances(exercise)
    )


def test_differs_sees_factors_shapes_structure_and_nan():
    assert not differs(1.0, np.array([[1.0]]), 1e-6, 1e-9)
    assert differs(np.ones((2, 1)), np.ones((1, 2)), 1e-6, 1e-9)
    assert differs({"a": 1.0}, {"b": 1.0}, 1e-6, 1e-9)
    assert differs((1.0, 2.0), (1.0, 2.0, 3.0), 1e-6, 1e-9)
    assert differs(np.array([1.0, np.nan]), np.array([1.0, 2.0]), 1e-6, 1e-9)
    assert differs(np.array([1.0, 2.0]), np.array([1.0, 2.1]), 1e-6, 1e-9)
    assert not differs(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]), 1e-6, 1e-9)


# ------------------------------------------------------------------ minibatch matchers

Batcher = Callable[[np.ndarray, np.ndarray, int, np.random.Generator], list]


def cut(X: np.ndarray, Y: np.ndarray, order_x, order_y, bounds: list[int]) -> list:
    return [
        (X[:, order_x[start:stop]], Y[:, order_y[start:stop]])
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def even_bounds(m: int, batch_size: int, count: int) -> list[int]:
    return [min(i * batch_size, m) for i in range(count)] + [min(count * batch_size, m)]


def by_permutation(X, Y, batch_size, rng):
    order = rng.permutation(X.shape[1])
    m = X.shape[1]
    return cut(X, Y, order, order, even_bounds(m, batch_size, -(-m // batch_size)))


def by_shuffled_indices(X, Y, batch_size, rng):
    order = np.arange(X.shape[1])
    rng.shuffle(order)
    return [
        (X[:, order[s : s + batch_size]], Y[:, order[s : s + batch_size]])
        for s in range(0, X.shape[1], batch_size)
    ]


def by_choice(X, Y, batch_size, rng):
    order = rng.choice(X.shape[1], size=X.shape[1], replace=False)
    batches = []
    for s in range(0, X.shape[1], batch_size):
        batches.append([X[:, order[s : s + batch_size]], Y[:, order[s : s + batch_size]]])
    return batches


CORRECT_BATCHERS: list[Batcher] = [by_permutation, by_shuffled_indices, by_choice]


def drop_last(X, Y, batch_size, rng):
    order, m = rng.permutation(X.shape[1]), X.shape[1]
    return cut(X, Y, order, order, even_bounds(m, batch_size, m // batch_size))


def two_permutations(X, Y, batch_size, rng):
    m = X.shape[1]
    order_x, order_y = rng.permutation(m), rng.permutation(m)
    return cut(X, Y, order_x, order_y, even_bounds(m, batch_size, -(-m // batch_size)))


def in_order(X, Y, batch_size, rng):
    m = X.shape[1]
    order = np.arange(m)
    return cut(X, Y, order, order, even_bounds(m, batch_size, -(-m // batch_size)))


def one_batch_too_many(X, Y, batch_size, rng):
    order, m = rng.permutation(X.shape[1]), X.shape[1]
    return cut(X, Y, order, order, even_bounds(m, batch_size, m // batch_size + 1))


def split_into_m_over_batch_size(X, Y, batch_size, rng):
    order = rng.permutation(X.shape[1])
    parts = np.array_split(order, max(X.shape[1] // batch_size, 1))
    return [(X[:, part], Y[:, part]) for part in parts]


def split_into_batch_size_parts(X, Y, batch_size, rng):
    order = rng.permutation(X.shape[1])
    return [(X[:, part], Y[:, part]) for part in np.array_split(order, batch_size)]


# How a student making each minibatch mistake writes it (one or more ways).
BUGGY_BATCHERS: dict[str, list[Batcher]] = {
    "dropped_last_batch": [drop_last],
    "unpaired_shuffle": [two_permutations],
    "no_shuffle": [in_order],
    "extra_empty_batch": [one_batch_too_many],
    "uneven_batches": [split_into_m_over_batch_size, split_into_batch_size_parts],
}


def source_columns(block: np.ndarray, source: np.ndarray) -> list[int]:
    return [int(np.flatnonzero(np.all(source == col[:, None], axis=0))[0]) for col in block.T]


def is_a_correct_answer(args: dict, output: list) -> bool:
    """Consecutive batches of batch_size (the last may be shorter) of one shuffle of X, Y."""
    X, Y, batch_size = args["X"], args["Y"], args["batch_size"]
    m = X.shape[1]
    sizes = [x.shape[1] for x, _ in output]
    if sizes != [min(batch_size, m - s) for s in range(0, m, batch_size)]:
        return False
    order_x = [i for x, _ in output for i in source_columns(x, X)]
    order_y = [i for _, y in output for i in source_columns(y, Y)]
    if order_x != order_y or sorted(order_x) != list(range(m)):
        return False
    unshuffled = order_x == list(range(m))
    reference_unshuffled = list(args["rng"].make().permutation(m)) == list(range(m))
    return not unshuffled or reference_unshuffled or m < 3


def batched(exercise: Exercise, batcher: Batcher) -> Iterator[tuple[dict, list]]:
    for instance in instances(exercise):
        args = instance.args
        yield args, batcher(args["X"], args["Y"], args["batch_size"], args["rng"].make())


def test_every_matcher_has_a_buggy_batcher():
    assert {k.code for _, k in MATCHERS} == set(BUGGY_BATCHERS)


@pytest.mark.parametrize(("exercise", "mistake"), MATCHERS, ids=MATCHER_IDS)
def test_matcher_recognises_the_mistake_wherever_it_shows(exercise, mistake):
    for batcher in BUGGY_BATCHERS[mistake.code]:
        shown = 0
        for args, output in batched(exercise, batcher):
            if not is_a_correct_answer(args, output):
                assert mistake.matches(args, output), (mistake.code, batcher.__name__)
                shown += 1
        assert shown >= 1, (mistake.code, batcher.__name__)


@pytest.mark.parametrize(("exercise", "mistake"), MATCHERS, ids=MATCHER_IDS)
def test_matcher_rejects_correct_batches(exercise, mistake):
    for batcher in CORRECT_BATCHERS:
        for args, output in batched(exercise, batcher):
            assert is_a_correct_answer(args, output), batcher.__name__
            assert not mistake.matches(args, output), (mistake.code, batcher.__name__)
    for instance in instances(exercise):
        output = call_reference(exercise.function("minibatches"), instance.args)
        assert not mistake.matches(instance.args, output), (mistake.code, instance.label)


def garbage(args: dict) -> list:
    X, Y = args["X"], args["Y"]
    return [
        None,
        "batches",
        42,
        {"X": X, "Y": Y},
        X,
        [None],
        [(1, 2)],
        [("x", "y")],
        [(X,)],
        [(X, Y, X)],
        [(X.ravel(), Y.ravel())],
        [(X[None], Y[None])],
        [(X, Y[:, :0])],
        [(np.array([None, 1], dtype=object), Y)],
        [[[1.0, 2.0], [3.0]]],
        [([[1.0, 2.0], [3.0]], Y)],
        [(X, [[1.0], [2.0, 3.0]])],
        [(X.T, Y.T)],
        [(X + 1.0, Y)],
        [(X.astype(str), Y)],
        (X, Y),
    ]


@pytest.mark.parametrize(("exercise", "mistake"), MATCHERS, ids=MATCHER_IDS)
def test_matcher_says_false_on_garbage_without_raising(exercise, mistake):
    for instance in instances(exercise):
        for output in garbage(instance.args):
            assert mistake.matches(instance.args, output) is False, (mistake.code, output)


MATCHER_PAIRS = [(e, a, b) for e, a in MATCHERS for _, b in MATCHERS if a is not b]


@pytest.mark.parametrize(
    ("exercise", "first", "second"),
    MATCHER_PAIRS,
    ids=[f"{a.code}-not-{b.code}" for _, a, b in MATCHER_PAIRS],
)
def test_two_matchers_tell_their_mistakes_apart(exercise, first, second):
    """Somewhere, the first mistake's batches are recognised as it and not as the second."""
    assert any(
        first.matches(args, output) and not second.matches(args, output)
        for batcher in BUGGY_BATCHERS[first.code]
        for args, output in batched(exercise, batcher)
    )


# ------------------------------------------------------------------ the buggy samples


def load_sample(path: Path) -> dict[str, Any]:
    """Run a sample submission (ours, trusted) and return its namespace.

    Notebook cells run in order with IPython magics and shell escapes dropped and display()
    stubbed; a cell that does not compile is skipped, as a kernel would report and go on.
    """
    namespace: dict[str, Any] = {"__name__": "sample", "display": lambda *a, **k: None}
    if path.suffix == ".py":
        sources = [path.read_text()]
    else:
        cells = json.loads(path.read_text())["cells"]
        sources = [
            "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells
            if c["cell_type"] == "code"
        ]
    for source in sources:
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        try:
            code = compile("\n".join(lines), str(path), "exec")
        except SyntaxError:
            continue
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(code, namespace)
    return namespace


def samples_expecting(code: str) -> list[tuple[str, str]]:
    found = []
    for sidecar in sorted(SUBMISSIONS.glob("*.expected.json")):
        name = sidecar.name.removesuffix(".expected.json")
        for function, expected in json.loads(sidecar.read_text())["fail"].items():
            if expected == code:
                found.append((name, function))
    return found


def sample_path(name: str) -> Path:
    return next(
        p for p in (SUBMISSIONS / f"{name}.py", SUBMISSIONS / f"{name}.ipynb") if p.exists()
    )


def exercise_of(function: str) -> Exercise:
    return next(e for e in EXERCISES if function in e.function_names)


def student_output(namespace: dict, spec: FunctionSpec, args: dict) -> Any:
    values = [args[p].make() if isinstance(args[p], RngSeed) else args[p] for p in spec.params]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return namespace[spec.name](*copy.deepcopy(values))


def recognised(mistake: Mistake, spec: FunctionSpec, args: dict, output: Any) -> bool:
    if mistake.matches is not None:
        return mistake.matches(args, output)
    return not differs(output, run_variant(mistake, args), spec.rtol, spec.atol)


def is_wrong(spec: FunctionSpec, args: dict, output: Any) -> bool:
    if spec.check == "minibatches":
        return not is_a_correct_answer(args, output)
    return differs(output, call_reference(spec, args), spec.rtol, spec.atol)


KNOWN_MISTAKE_SAMPLES = samples_expecting("known_mistake") if SUBMISSIONS.exists() else []


@pytest.mark.skipif(not SUBMISSIONS.exists(), reason="no submissions/ beside the tests")
def test_there_are_samples_with_known_mistakes():
    assert len(KNOWN_MISTAKE_SAMPLES) >= 5


@pytest.mark.parametrize(
    ("sample", "function"), KNOWN_MISTAKE_SAMPLES, ids=[s for s, _ in KNOWN_MISTAKE_SAMPLES]
)
def test_each_known_mistake_sample_is_recognised_by_its_catalogued_mistake(sample, function):
    """Wherever the sample is wrong, a catalogued mistake of the function matches it, and the
    first one in catalogue order (the one the grader names) is the same on every instance.
    Two mistakes may coincide on an edge instance (m/n and m when n = 1)."""
    namespace = load_sample(sample_path(sample))
    exercise = exercise_of(function)
    spec = exercise.function(function)
    candidates = [k for k in exercise.mistakes if k.function == function]
    named: set[str] = set()
    for instance in instances(exercise):
        output = student_output(namespace, spec, instance.args)
        if not is_wrong(spec, instance.args, output):
            continue
        hits = [k.code for k in candidates if recognised(k, spec, instance.args, output)]
        assert hits, (sample, instance.label)
        named.add(hits[0])
    assert len(named) == 1, (sample, named)


CORRECT_SAMPLES = (
    [p.stem for p in sorted(SUBMISSIONS.glob("correct*")) if p.suffix in (".py", ".ipynb")]
    if SUBMISSIONS.exists()
    else []
)


@pytest.mark.parametrize("sample", CORRECT_SAMPLES)
def test_correct_samples_shuffle_into_no_known_mistake(sample):
    """A minibatches matcher sees a student's own batches, so it must not flag right ones."""
    namespace = load_sample(sample_path(sample))
    exercise = exercise_of("minibatches")
    spec = exercise.function("minibatches")
    for instance in instances(exercise):
        output = student_output(namespace, spec, instance.args)
        for _, mistake in MATCHERS:
            assert not mistake.matches(instance.args, output), (mistake.code, instance.label)
