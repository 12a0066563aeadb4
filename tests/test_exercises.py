"""Exercise declarations: complete, consistent with the answer key, reproducible, trap-free."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import reference as ref
from exercises import EXERCISES, RngSeed, derive_seed, get

# The upstream statement of the exercises, kept outside the repository (beside the checkout
# in CI). docs/exercises.md, generated from the declarations, is what students read; this
# file is only compared with the declarations where it is present.
CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "EXERCISES.md"
UPSTREAM_ABSENT = (
    f"upstream comparison skipped: the upstream statement {CONTRACT} (../shared/EXERCISES.md "
    "beside the checkout) is not present"
)
SEEDS = range(6)


def contract_signatures() -> dict[str, tuple[str, ...]]:
    """Every `name(params)` opening a bullet of the numbered sections (conventions excluded)."""
    sections = CONTRACT.read_text().split("\n## 1.", 1)[1]
    bullets = [line for line in sections.splitlines() if line.startswith("- `")]
    return {
        name: tuple(p.strip() for p in params.split(",") if p.strip())
        for line in bullets
        for name, params in re.findall(r"`(\w+)\(([^)]*)\)", line.split(" —")[0])
    }


def contract_function_names() -> set[str]:
    return set(contract_signatures())


def declared() -> dict[str, tuple[str, ...]]:
    return {spec.name: spec.params for e in EXERCISES for spec in e.functions}


@pytest.mark.skipif(not CONTRACT.exists(), reason=UPSTREAM_ABSENT)
def test_declarations_match_the_upstream_statement():
    """The upstream comparison: every function of ../shared/EXERCISES.md is declared."""
    names = contract_function_names()
    assert len(names) >= 30, f"the upstream statement {CONTRACT} lists only {len(names)} functions"
    missing = sorted(names - set(declared()))
    assert not missing, f"functions of the upstream statement {CONTRACT} not declared: {missing}"
    extra = sorted(set(declared()) - names)
    assert not extra, f"declared functions absent from the upstream statement {CONTRACT}: {extra}"
    for name, params in contract_signatures().items():
        assert declared()[name] == params, (
            f"{name}: declared with parameters {declared()[name]}, the upstream statement "
            f"{CONTRACT} says {params}"
        )


def test_every_declared_function_exists_in_reference_with_its_signature():
    for name, params in declared().items():
        function = getattr(ref, name)
        assert tuple(inspect.signature(function).parameters) == params, name
        assert name in ref.__all__


def test_exercises_are_numbered_and_named_uniquely():
    numbers = [e.number for e in EXERCISES]
    assert numbers == sorted(set(numbers))
    assert len({e.name for e in EXERCISES}) == len(EXERCISES)
    assert get("deep_network").number == 9
    with pytest.raises(KeyError, match="known exercises"):
        get("no_such_exercise")


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_instances_cover_every_function_argument(exercise):
    instances = exercise.instances(0)
    assert len(instances) >= 5
    for instance in instances:
        for spec in exercise.functions:
            assert set(spec.params) <= set(instance.args), (spec.name, instance.label)


def flatten(value):
    if isinstance(value, dict):
        return [x for key in sorted(value) for x in [key, *flatten(value[key])]]
    if isinstance(value, list | tuple):
        return [x for item in value for x in flatten(item)]
    if isinstance(value, RngSeed):
        return [value.seed]
    return [np.asarray(value).tolist()]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_same_seed_same_instances_other_seed_other_instances(exercise):
    first = [flatten(i.args) for i in exercise.instances(derive_seed("alice", "fall26"))]
    again = [flatten(i.args) for i in exercise.instances(derive_seed("alice", "fall26"))]
    other = [flatten(i.args) for i in exercise.instances(derive_seed("bob", "fall26"))]
    assert first == again
    assert first != other


def test_seeds_depend_on_student_and_salt():
    assert derive_seed("alice", "s") == derive_seed("alice", "s")
    assert len({derive_seed(s, "s") for s in ["alice", "bob", "carol", "dave"]}) == 4
    assert derive_seed("alice", "s") != derive_seed("alice", "t")


def all_instances(name):
    return [i for seed in SEEDS for i in get(name).instances(seed)]


def test_edge_sizes_are_covered():
    regression = [i.args["X"].shape for i in all_instances("multivariate_regression")]
    assert any(n == 1 for n, _ in regression) and any(m == 1 for _, m in regression)
    for name in ("two_layer_linear", "two_layer_sigmoid", "two_layer_mlp"):
        shapes = [i.args["params"]["W1"].shape for i in all_instances(name)]
        assert any(k == 1 for k, _ in shapes), name
        assert any(k == n and k > 1 for k, n in shapes), f"{name}: no square W1"
        assert any(k != n for k, n in shapes), f"{name}: no non-square W1"
        assert any(i.args["X"].shape[1] == 1 for i in all_instances(name)), name
    depths = {len(i.args["params"]) // 2 for i in all_instances("deep_network")}
    assert 2 in depths and max(depths) >= 3
    assert any(i.args["x"].shape == (1,) for i in all_instances("closed_form"))


def test_no_relu_pre_activation_near_the_kink():
    for instance in all_instances("two_layer_mlp"):
        params, X = instance.args["params"], instance.args["X"]
        assert np.min(np.abs(params["W1"] @ X + params["b1"])) >= 1e-3
    for instance in all_instances("activations"):
        if instance.gradient_check:
            assert np.min(np.abs(instance.args["z"])) >= 1e-3


def pre_activations(name, instance):
    X, p = instance.args["X"], instance.args.get("params")
    if name == "logistic_regression":
        return [instance.args["w"] @ X + instance.args["b"]]
    if name == "two_layer_mlp":
        return [p["W2"] @ ref.relu(p["W1"] @ X + p["b1"]) + p["b2"]]
    if name == "two_layer_sigmoid":
        return [p["W1"] @ X + p["b1"]]
    layers, A, out = len(p) // 2, X, []
    for layer in range(1, layers + 1):
        out.append(p[f"W{layer}"] @ A + p[f"b{layer}"])
        A = ref.sigmoid(out[-1])
    return out


@pytest.mark.parametrize(
    "name", ["logistic_regression", "two_layer_mlp", "two_layer_sigmoid", "deep_network"]
)
def test_no_saturated_sigmoid_in_gradient_checks(name):
    for instance in all_instances(name):
        assert max(np.max(np.abs(z)) for z in pre_activations(name, instance)) < 15


def test_normal_equations_are_well_conditioned():
    for instance in all_instances("closed_form"):
        X_D = instance.args["X_D"]
        assert X_D.shape[0] >= X_D.shape[1]
        assert np.linalg.cond(X_D.T @ X_D) < 1e8


def test_bce_targets_are_binary_and_adam_steps_start_at_one():
    for name in ("logistic_regression", "two_layer_mlp"):
        for instance in all_instances(name):
            assert set(np.unique(instance.args["y"])) <= {0.0, 1.0}
    assert all(i.args["t"] >= 1 for i in all_instances("optimizers"))


def test_values_are_distinct_enough_to_expose_a_wrong_factor():
    """A gradient times 2, m, 1/m or -1 must land far outside the value tolerance."""
    for exercise in EXERCISES:
        for instance in exercise.instances(0):
            for spec in exercise.functions:
                if spec.gradient is None:
                    continue
                result = getattr(ref, spec.name)(*(instance.args[p] for p in spec.params))
                for output_path, _ in spec.gradient.pairs(instance.args):
                    value = result
                    for key in output_path:
                        value = value[key]
                    assert np.max(np.abs(value)) > 1e-6, (spec.name, instance.label)
