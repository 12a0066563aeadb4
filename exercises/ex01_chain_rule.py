from __future__ import annotations

import numpy as np

from exercises.answer_key import answer, ref
from grader.sampling import positional_pairs, scalar
from grader.spec import Args, Exercise, FunctionSpec, GradientSpec, Instance, Mistake


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = [Instance("the lecture's a=1, b=2, c=3", {"a": 1.0, "b": 2.0, "c": 3.0})]
    for scale in (1.0, 1.0, 10.0, 0.1):
        a, b, c = (scalar(rng, scale) for _ in range(3))
        instances.append(Instance(f"random a, b, c (scale {scale:g})", {"a": a, "b": b, "c": c}))
    return instances


# ------------------------------------------------------------------ known mistakes


def forward_missing_parentheses(args: Args) -> float:
    return float(3.0 * args["a"] + args["b"] * args["c"])


def forward_missing_outer_factor(args: Args) -> float:
    return float(args["a"] + args["b"] * args["c"])


def backward_db_uses_b(args: Args) -> tuple[float, float, float]:
    return 3.0, float(3.0 * args["b"]), float(3.0 * args["b"])


def backward_db_dc_swapped(args: Args) -> tuple[float, float, float]:
    return 3.0, float(3.0 * args["b"]), float(3.0 * args["c"])


def backward_local_derivatives_only(args: Args) -> tuple[float, float, float]:
    return 1.0, float(args["c"]), float(args["b"])


def backward_da_not_chained(args: Args) -> tuple[float, float, float]:
    return 1.0, float(3.0 * args["c"]), float(3.0 * args["b"])


MISTAKES = (
    Mistake(
        "chain_forward_missing_parentheses",
        "chain_forward",
        "the factor 3 applied to a alone instead of to the whole sum",
        "The last step multiplies v = a + u by 3, so the 3 must scale b*c as well as a: "
        "check the parentheses.",
        variant=forward_missing_parentheses,
    ),
    Mistake(
        "chain_forward_missing_outer_factor",
        "chain_forward",
        "the forward pass stops at v and never multiplies by 3",
        "The graph has three nodes, u, v and j; the value to return is j, the last one.",
        variant=forward_missing_outer_factor,
    ),
    Mistake(
        "chain_db_uses_b",
        "chain_backward",
        "dj/db multiplied by b where the local derivative du/db belongs",
        "In u = b*c the local derivative with respect to b is the other factor, not b itself.",
        variant=backward_db_uses_b,
    ),
    Mistake(
        "chain_db_dc_swapped",
        "chain_backward",
        "the local derivatives du/db and du/dc swapped",
        "Differentiating u = b*c with respect to one factor leaves the other factor: "
        "check which one goes with dj/db and which with dj/dc.",
        variant=backward_db_dc_swapped,
    ),
    Mistake(
        "chain_local_derivatives_only",
        "chain_backward",
        "local derivatives returned without the upstream dj/dv",
        "The chain rule multiplies every local derivative by the gradient flowing in from "
        "above: start from dj/dv, the derivative of the last step j = 3*v.",
        variant=backward_local_derivatives_only,
    ),
    Mistake(
        "chain_da_not_chained",
        "chain_backward",
        "dj/da taken as the local derivative dv/da alone",
        "dv/da is only the last link; dj/da also passes through j = 3*v, like the other two "
        "derivatives.",
        variant=backward_da_not_chained,
    ),
)


EXERCISE = Exercise(
    number=1,
    name="chain_rule",
    title="The chain rule on scalars",
    source="seed 002, toy example (L7 notes)",
    statement=(
        "`a`, `b` and `c` are floats. `j = 3 * (a + b * c)`, computed in three steps: `u = b "
        "* c`, `v = a + u`, `j = 3 * v`. `chain_forward` returns `j`; `chain_backward` "
        "returns the partial derivatives `(dj_da, dj_db, dj_dc)` of `j` with respect to `a`, "
        "`b` and `c`, obtained by the chain rule back through `v` and `u`."
    ),
    functions=(
        FunctionSpec(
            "chain_forward",
            ("a", "b", "c"),
            "j (float)",
            points=1,
            solution=answer("chain_forward"),
        ),
        FunctionSpec(
            "chain_backward",
            ("a", "b", "c"),
            "(dj_da, dj_db, dj_dc) (tuple of floats)",
            points=2,
            outputs=("dj_da", "dj_db", "dj_dc"),
            gradient=GradientSpec(
                loss=lambda a: ref.chain_forward(a["a"], a["b"], a["c"]),
                pairs=positional_pairs("a", "b", "c"),
                forward="chain_forward",
                loss_of_forward=lambda j, a: j,
            ),
            solution=answer("chain_backward"),
        ),
    ),
    generate=generate,
    mistakes=MISTAKES,
)
