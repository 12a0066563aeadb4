"""The data model of an exercise declaration.

An exercise is declared once, as data plus small functions; the grader, the catalogue
listing, the docs and the starter notebooks are all derived from these declarations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Args = dict[str, Any]
# A path into a nested value: () is the value itself, (0,) the first item of a tuple,
# ("params", "W1") the "W1" entry of the "params" argument.
Path = tuple[str | int, ...]

DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-9


@dataclass(frozen=True)
class RngSeed:
    """An argument that stands for `numpy.random.default_rng(seed)`.

    A Generator cannot cross the process boundary as plain data; its seed can.
    """

    seed: int

    def make(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)


@dataclass(frozen=True)
class Instance:
    """One problem instance: named inputs shared by every function of the exercise.

    `gradient_check` is False for instances chosen to probe values only (exact zeros of
    ReLU, |z| = 1000), where finite differences would raise false alarms. `expected` holds
    published outputs per function (a student kit's public instances); otherwise the
    answer key computes them.
    """

    label: str
    args: Args
    gradient_check: bool = True
    expected: dict[str, Any] | None = None
    functions: tuple[str, ...] | None = None
    """The functions this instance grades, when not all of the exercise's: a requirement the
    contract states for one function only (|z| = 1000 for `sigmoid`) is graded on it alone."""

    def grades(self, function: str) -> bool:
        return self.functions is None or function in self.functions


@dataclass(frozen=True)
class GradientSpec:
    """Which outputs of a backward function are gradients of which loss, wrt which inputs.

    `pairs(args)` lists (output path, input path): the output at the first path must equal
    d loss / d (input at the second path). `loss(args)` is the reference loss; `forward`
    names the student's own forward function and `loss_of_forward(y_hat, args)` turns its
    output into a loss, so a backward can be checked against the student's own forward.
    """

    loss: Callable[[Args], float]
    pairs: Callable[[Args], Sequence[tuple[Path, Path]]]
    forward: str | None = None
    loss_of_forward: Callable[[Any, Args], float] | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """A required function: its contract, its points, its reference solution and how its
    outputs are compared.

    `solution` is the answer key: a plain-numpy function with the same parameters, which
    must never modify its arguments (the grader passes it the instance's own arrays).

    `check` is "values" (compared with the reference on every instance) or the name of a
    property checker ("minibatches") for functions whose correct output is not unique.
    `must_not_warn`: the contract forbids warnings (an overflow in a naive sigmoid returns
    the right 0.0 at z = -1000, with a RuntimeWarning), so a warning fails the call.
    `outputs` names the items of a tuple the function returns ("dw", "db"), so that feedback
    says "db is m times too large" rather than "[1]"; a gradient returned as a dict keyed like
    the parameters names its entries after them ("dW1").
    """

    name: str
    params: tuple[str, ...]
    returns: str
    points: float
    solution: Callable[..., Any]
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    gradient: GradientSpec | None = None
    check: str = "values"
    must_not_warn: bool = False
    outputs: tuple[str, ...] = ()
    figure: str | None = None
    """The figure a feedback page draws when the function fails, besides the error map of a
    wrong array output and the gradient directions of a wrong gradient: "activation" (an
    elementwise function of z, drawn over a range of z), "optimizer_steps" (an update of
    `params` from `grads`, its state being the outputs after `params`, stepped on a 2-D
    quadratic), "loss_history" (an output named "losses") or "batch_membership"."""

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)}) -> {self.returns}"


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer a student makes, declared next to its exercise.

    Most mistakes are a small variant of the reference: `variant(args)` returns what a
    student making the mistake would return, compared with the student's output at the
    function's tolerance. Where the right answer is not unique (a shuffle), `matches(args,
    output)` recognises the mistake from the student's output instead. When a submission
    matches, the report names the mistake (`title`) and gives `hint`, which points at the
    step of the derivation and never at the expected numbers.
    """

    code: str
    function: str
    title: str
    hint: str
    variant: Callable[[Args], Any] | None = None
    matches: Callable[[Args, Any], bool] | None = None


@dataclass(frozen=True)
class Exercise:
    number: int
    name: str
    title: str
    source: str
    statement: str
    functions: tuple[FunctionSpec, ...]
    generate: Callable[[np.random.Generator], list[Instance]]
    mistakes: tuple[Mistake, ...] = field(default=())

    @property
    def max_score(self) -> float:
        return sum(f.points for f in self.functions)

    @property
    def function_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.functions)

    def function(self, name: str) -> FunctionSpec:
        for spec in self.functions:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def instances(self, seed: int) -> list[Instance]:
        """The instances of this exercise for a run seed, reproducibly."""
        return self.generate(np.random.default_rng(exercise_seed_sequence(seed, self.name)))


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def exercise_seed_sequence(seed: int, exercise_name: str) -> np.random.SeedSequence:
    return np.random.SeedSequence(entropy=seed, spawn_key=(_stable_int(exercise_name),))


def derive_seed(student_id: str, course_salt: str = "") -> int:
    """The run seed of a student: stable across runs and machines, distinct per student."""
    entropy = _stable_int(f"{course_salt}\x00{student_id}")
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint32)[0])
