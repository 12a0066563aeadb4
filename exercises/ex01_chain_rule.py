from __future__ import annotations

import numpy as np

import reference as ref
from exercises.sampling import positional_pairs, scalar
from exercises.spec import Exercise, FunctionSpec, GradientSpec, Instance


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = [Instance("the lecture's a=1, b=2, c=3", {"a": 1.0, "b": 2.0, "c": 3.0})]
    for scale in (1.0, 1.0, 10.0, 0.1):
        a, b, c = (scalar(rng, scale) for _ in range(3))
        instances.append(Instance(f"random a, b, c (scale {scale:g})", {"a": a, "b": b, "c": c}))
    return instances


EXERCISE = Exercise(
    number=1,
    name="chain_rule",
    title="The chain rule on scalars",
    source="seed 002, toy example (L7 notes)",
    statement=(
        "`j = 3 * (a + b * c)` computed as `u = b*c`, `v = a + u`, `j = 3*v`. "
        "Write the forward pass and the derivatives of `j` with respect to `a`, `b`, `c`."
    ),
    functions=(
        FunctionSpec("chain_forward", ("a", "b", "c"), "j (float)", points=1),
        FunctionSpec(
            "chain_backward",
            ("a", "b", "c"),
            "(dj_da, dj_db, dj_dc) (tuple of floats)",
            points=2,
            gradient=GradientSpec(
                loss=lambda a: ref.chain_forward(a["a"], a["b"], a["c"]),
                pairs=positional_pairs("a", "b", "c"),
                forward="chain_forward",
                loss_of_forward=lambda j, a: j,
            ),
        ),
    ),
    generate=generate,
)
