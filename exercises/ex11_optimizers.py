from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from exercises.answer_key import answer, ref
from exercises.batches import (
    BatchProblem,
    Layout,
    correct_sizes,
    is_permutation,
    read_batches,
    read_layout,
)
from grader.sampling import spread
from grader.spec import Args, Exercise, FunctionSpec, Instance, Mistake, RngSeed

LAYOUTS = [
    {"W1": (3, 2), "b1": (3, 1)},
    {"w": (1, 1)},
    {"W1": (4, 3), "b1": (4, 1), "W2": (1, 4), "b2": (1, 1)},
    {"W": (2, 2), "b": (2, 1)},
    {"w": (1, 5)},
]
# (m, batch_size): a partial last batch, exact division, m = 1, one batch larger than m, size 1.
BATCHING = [(10, 3), (8, 4), (1, 1), (5, 10), (7, 1)]


def state(rng: np.random.Generator, layout: dict, positive: bool = False) -> dict:
    values = {key: spread(rng, shape, 0.3) for key, shape in layout.items()}
    return {key: np.abs(v) for key, v in values.items()} if positive else values


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = []
    for t, (layout, (m, batch_size)) in zip(
        [1, 2, 7, 1, 30], zip(LAYOUTS, BATCHING, strict=True), strict=True
    ):
        n, k = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        args = {
            "params": state(rng, layout),
            "grads": state(rng, layout),
            "velocity": state(rng, layout),
            "sq": state(rng, layout, positive=True),
            "m": state(rng, layout),
            "v": state(rng, layout, positive=True),
            "t": t,
            "lr": float(rng.uniform(0.01, 0.3)),
            "beta": float(rng.uniform(0.8, 0.95)),
            "beta1": 0.9,
            "beta2": 0.999,
            "eps": 1e-8,
            "X": spread(rng, (n, m)),
            "Y": spread(rng, (k, m)),
            "batch_size": batch_size,
            "rng": RngSeed(int(rng.integers(2**31))),
        }
        label = f"keys {sorted(layout)}, t={t}, m={m}, batch_size={batch_size}"
        instances.append(Instance(label, args))
    return instances


# ------------------------------------------------------------------ known mistakes

Params = dict[str, np.ndarray]


def sgd_plus_sign(args: Args) -> Params:
    params, grads = args["params"], args["grads"]
    return {key: params[key] + args["lr"] * grads[key] for key in params}


def sgd_missing_lr(args: Args) -> Params:
    params, grads = args["params"], args["grads"]
    return {key: params[key] - grads[key] for key in params}


def momentum_with(args: Args, velocity: Params) -> tuple[Params, Params]:
    """Parameters stepped along `velocity`, returned with that velocity."""
    params = args["params"]
    return {key: params[key] - args["lr"] * velocity[key] for key in params}, velocity


def momentum_no_one_minus_beta(args: Args) -> tuple[Params, Params]:
    beta, velocity, grads = args["beta"], args["velocity"], args["grads"]
    return momentum_with(args, {key: beta * velocity[key] + grads[key] for key in grads})


def momentum_beta_swapped(args: Args) -> tuple[Params, Params]:
    beta, velocity, grads = args["beta"], args["velocity"], args["grads"]
    return momentum_with(
        args, {key: (1 - beta) * velocity[key] + beta * grads[key] for key in grads}
    )


def momentum_step_with_old_velocity(args: Args) -> tuple[Params, Params]:
    _, new_velocity = ref.momentum_step(
        args["params"], args["grads"], args["velocity"], args["lr"], args["beta"]
    )
    stepped, _ = momentum_with(args, args["velocity"])
    return stepped, new_velocity


def rmsprop_with(args: Args, sq: Params, denominator: Params) -> tuple[Params, Params]:
    """Parameters stepped by lr * g / denominator, returned with the state `sq`."""
    params, grads = args["params"], args["grads"]
    return {key: params[key] - args["lr"] * grads[key] / denominator[key] for key in params}, sq


def rmsprop_new_sq(args: Args) -> Params:
    beta, sq, grads = args["beta"], args["sq"], args["grads"]
    return {key: beta * sq[key] + (1 - beta) * grads[key] ** 2 for key in grads}


def rmsprop_no_sqrt(args: Args) -> tuple[Params, Params]:
    sq = rmsprop_new_sq(args)
    return rmsprop_with(args, sq, {key: value + args["eps"] for key, value in sq.items()})


def rmsprop_old_sq(args: Args) -> tuple[Params, Params]:
    old = args["sq"]
    denominator = {key: np.sqrt(value) + args["eps"] for key, value in old.items()}
    return rmsprop_with(args, rmsprop_new_sq(args), denominator)


def rmsprop_no_one_minus_beta(args: Args) -> tuple[Params, Params]:
    beta, grads = args["beta"], args["grads"]
    sq = {key: beta * args["sq"][key] + grads[key] ** 2 for key in grads}
    return rmsprop_with(args, sq, {key: np.sqrt(value) + args["eps"] for key, value in sq.items()})


ADAM_PARAMS = ("params", "grads", "m", "v", "t", "lr", "beta1", "beta2", "eps")


def adam_with(args: Args, m_hat: Params, v_hat: Params) -> Params:
    params, lr, eps = args["params"], args["lr"], args["eps"]
    return {key: params[key] - lr * m_hat[key] / (np.sqrt(v_hat[key]) + eps) for key in params}


def adam_moments(args: Args) -> tuple[Params, Params]:
    _, m, v = ref.adam_step(**{name: args[name] for name in ADAM_PARAMS})
    return m, v


def adam_corrected_with_step(args: Args, t: int) -> tuple[Params, Params]:
    """The moments bias-corrected as if the step number were t."""
    m, v = adam_moments(args)
    with np.errstate(divide="ignore", invalid="ignore"):
        m_hat = {key: value / (1 - args["beta1"] ** t) for key, value in m.items()}
        v_hat = {key: value / (1 - args["beta2"] ** t) for key, value in v.items()}
    return m_hat, v_hat


def adam_no_bias_correction(args: Args) -> tuple[Params, Params, Params]:
    m, v = adam_moments(args)
    return adam_with(args, m, v), m, v


def adam_t_minus_one(args: Args) -> tuple[Params, Params, Params]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return adam_with(args, *adam_corrected_with_step(args, args["t"] - 1)), *adam_moments(args)


def adam_t_plus_one(args: Args) -> tuple[Params, Params, Params]:
    return adam_with(args, *adam_corrected_with_step(args, args["t"] + 1)), *adam_moments(args)


def adam_returns_corrected_moments(args: Args) -> tuple[Params, Params, Params]:
    m_hat, v_hat = adam_corrected_with_step(args, args["t"])
    return adam_with(args, m_hat, v_hat), m_hat, v_hat


# Minibatches: the right answer is not unique (any shuffle will do), so these mistakes are
# recognised from properties of the student's batches rather than compared with a variant.


def batch_layout(args: Args, output: Any) -> Layout | None:
    """Where the columns of the student's batches come from, or None when the answer is not
    batches or holds a column found in neither X nor Y (no catalogued mistake does that)."""
    X, Y = args["X"], args["Y"]
    m, batch_size = X.shape[1], args["batch_size"]
    if not isinstance(output, list | tuple) or len(output) > max(m, batch_size) + 1:
        return None  # more batches than any catalogued mistake makes: not worth decoding
    pairs = read_batches(X, Y, output)
    if isinstance(pairs, BatchProblem) or sum(xb.shape[1] for xb, _ in pairs) > m:
        return None
    layout = read_layout(X, Y, pairs)
    return layout if layout.complete() else None


Matcher = Callable[[Args, Any], bool]


def safely(check: Matcher) -> Matcher:
    """A `matches` that answers False instead of raising, whatever the output is."""

    def matches(args: Args, output: Any) -> bool:
        try:
            return bool(check(args, output))
        except Exception:
            return False

    matches.__name__ = check.__name__
    matches.__doc__ = check.__doc__
    return matches


@safely
def dropped_last_batch(args: Args, output: Any) -> bool:
    """Only full batches: the m % batch_size examples of the last partial batch are lost."""
    m, batch_size = args["X"].shape[1], args["batch_size"]
    layout = batch_layout(args, output)
    if layout is None or m % batch_size == 0:
        return False
    complete = layout.sizes == [batch_size] * (m // batch_size)
    return complete and layout.all_paired() and len(set(layout.from_x)) == len(layout.from_x)


@safely
def unpaired_shuffle(args: Args, output: Any) -> bool:
    """Right batches, every column once, but X and Y columns come from different examples."""
    m = args["X"].shape[1]
    layout = batch_layout(args, output)
    if layout is None:
        return False
    valid = layout.sizes == correct_sizes(m, args["batch_size"])
    shuffled = is_permutation(layout.from_x, m) and is_permutation(layout.from_y, m)
    return valid and shuffled and not layout.all_paired()


@safely
def no_shuffle(args: Args, output: Any) -> bool:
    """Right batches, pairs kept, but every column in its original order."""
    m = args["X"].shape[1]
    identity = list(range(m))
    if m < 3 or list(args["rng"].make().permutation(m)) == identity:
        return False  # the correct shuffle could itself leave the order unchanged
    layout = batch_layout(args, output)
    if layout is None:
        return False
    right_sizes = layout.sizes == correct_sizes(m, args["batch_size"])
    return right_sizes and layout.all_paired() and layout.from_x == identity


@safely
def extra_empty_batch(args: Args, output: Any) -> bool:
    """m // batch_size + 1 batches: an empty batch at the end when batch_size divides m."""
    m = args["X"].shape[1]
    layout = batch_layout(args, output)
    if layout is None:
        return False
    expected = [*correct_sizes(m, args["batch_size"]), 0]
    return layout.sizes == expected and layout.all_paired() and is_permutation(layout.from_x, m)


@safely
def uneven_batches(args: Args, output: Any) -> bool:
    """Every example once and paired, but batch sizes other than batch_size (bar the last)."""
    m, batch_size = args["X"].shape[1], args["batch_size"]
    layout = batch_layout(args, output)
    if layout is None:
        return False
    if layout.sizes in (correct_sizes(m, batch_size), [*correct_sizes(m, batch_size), 0]):
        return False  # right, or the more specific extra_empty_batch
    return layout.all_paired() and is_permutation(layout.from_x, m)


MISTAKES = (
    Mistake(
        "sgd_plus_sign",
        "sgd_step",
        "the step taken along the gradient instead of against it",
        "Gradient descent moves each parameter downhill, in the direction opposite to its "
        "gradient: check the sign of the update.",
        variant=sgd_plus_sign,
    ),
    Mistake(
        "sgd_missing_lr",
        "sgd_step",
        "the learning rate left out of the update",
        "The step is the gradient scaled by the learning rate lr; the raw gradient is far "
        "too big a step.",
        variant=sgd_missing_lr,
    ),
    Mistake(
        "momentum_no_one_minus_beta",
        "momentum_step",
        "momentum without the (1 - beta) factor on the gradient",
        "The velocity is a weighted average of the old velocity and the new gradient: the "
        "two weights are beta and 1 - beta.",
        variant=momentum_no_one_minus_beta,
    ),
    Mistake(
        "momentum_beta_swapped",
        "momentum_step",
        "beta and 1 - beta swapped in the velocity update",
        "beta is the weight of the history, so it multiplies the old velocity; the new "
        "gradient gets the small weight 1 - beta.",
        variant=momentum_beta_swapped,
    ),
    Mistake(
        "momentum_old_velocity",
        "momentum_step",
        "parameters stepped with the old velocity instead of the updated one",
        "Update the velocity first, then move the parameters with that new velocity.",
        variant=momentum_step_with_old_velocity,
    ),
    Mistake(
        "rmsprop_no_sqrt",
        "rmsprop_step",
        "the gradient divided by s instead of by its square root",
        "s averages squared gradients, so the step is normalised by the root of s (the "
        "root-mean-square of RMSprop's name), plus eps.",
        variant=rmsprop_no_sqrt,
    ),
    Mistake(
        "rmsprop_old_sq",
        "rmsprop_step",
        "the step normalised with the old average s instead of the updated one",
        "Update the running average of squared gradients first, then divide by the root of "
        "that new average.",
        variant=rmsprop_old_sq,
    ),
    Mistake(
        "rmsprop_no_one_minus_beta",
        "rmsprop_step",
        "the squared gradient added without the (1 - beta) factor",
        "s is a weighted average of its old value and the squared gradient: the two weights "
        "are beta and 1 - beta.",
        variant=rmsprop_no_one_minus_beta,
    ),
    Mistake(
        "adam_no_bias_correction",
        "adam_step",
        "the raw moments m and v used where the bias-corrected m_hat and v_hat belong",
        "Adam's moments start at zero and are biased towards it in the first steps: the "
        "update uses the moments divided by their bias-correction factors for step t.",
        variant=adam_no_bias_correction,
    ),
    Mistake(
        "adam_t_minus_one",
        "adam_step",
        "the bias correction computed with t - 1 instead of t",
        "t is already the number of this step, counting from 1: use it as given in the "
        "powers of the bias correction.",
        variant=adam_t_minus_one,
    ),
    Mistake(
        "adam_t_plus_one",
        "adam_step",
        "the bias correction computed with t + 1 instead of t",
        "t is already the number of this step, counting from 1: do not add one to it in the "
        "powers of the bias correction.",
        variant=adam_t_plus_one,
    ),
    Mistake(
        "adam_returns_corrected_moments",
        "adam_step",
        "the bias-corrected m_hat and v_hat returned as the new state",
        "The bias correction is only for this step's update; the state carried to the next "
        "step is the raw running averages m and v.",
        variant=adam_returns_corrected_moments,
    ),
    Mistake(
        "dropped_last_batch",
        "minibatches",
        "the last, partial batch dropped",
        "With m examples there are ceil(m / batch_size) batches: when batch_size does not "
        "divide m, the leftover examples form a smaller last batch.",
        matches=dropped_last_batch,
    ),
    Mistake(
        "unpaired_shuffle",
        "minibatches",
        "X and Y shuffled with different permutations: examples lost their targets",
        "Draw one permutation of the column indices and apply that same permutation to both "
        "X and Y.",
        matches=unpaired_shuffle,
    ),
    Mistake(
        "no_shuffle",
        "minibatches",
        "the columns never shuffled: the batches keep the original order",
        "Shuffle the column indices with the rng you were given before cutting the batches.",
        matches=no_shuffle,
    ),
    Mistake(
        "extra_empty_batch",
        "minibatches",
        "an empty batch at the end when batch_size divides m",
        "Count the batches with a ceiling division; m // batch_size + 1 overcounts by one "
        "whenever the division is exact.",
        matches=extra_empty_batch,
    ),
    Mistake(
        "uneven_batches",
        "minibatches",
        "every example present, but the batches have the wrong sizes",
        "Cut consecutive slices of exactly batch_size columns; only the last batch may be "
        "smaller (np.array_split takes a number of batches, not a size).",
        matches=uneven_batches,
    ),
)


EXERCISE = Exercise(
    number=11,
    name="optimizers",
    title="Optimizers: SGD, momentum, RMSprop, Adam and minibatches",
    source="seed 000, extended notes (optimization techniques)",
    statement=(
        "`params`, `grads` and every optimizer state (`velocity`, `sq`, `m`, `v`) are dicts "
        "with the same keys and array shapes as `params`; every update is applied to each key "
        "(`p` a parameter, `g` its gradient), and each function returns new dicts.\n"
        "- `sgd_step`: `p = p - lr * g`.\n"
        "- `momentum_step`: `v = beta*v + (1-beta)*g`; `p = p - lr*v`.\n"
        "- `rmsprop_step`: `s = beta*s + (1-beta)*g**2`; `p = p - lr*g / (sqrt(s) + eps)`.\n"
        "- `adam_step`: `m = beta1*m + (1-beta1)*g`; `v = beta2*v + (1-beta2)*g**2`; `m_hat = "
        "m / (1 - beta1**t)`; `v_hat = v / (1 - beta2**t)`; `p = p - lr*m_hat / (sqrt(v_hat) "
        "+ eps)`; `t >= 1` is the step number.\n"
        "- `minibatches`: `X` has shape `(n, m)` and `Y` `(k, m)` (one example per column); "
        "shuffle the columns with `rng` (a `numpy.random.Generator`), then cut them into "
        "`ceil(m / batch_size)` consecutive batches, of which only the last may be smaller. "
        "Every example appears exactly once, and each `X_batch` column stays paired with its "
        "`Y_batch` column."
    ),
    functions=(
        FunctionSpec(
            "sgd_step",
            ("params", "grads", "lr"),
            "params (dict)",
            points=1,
            outputs=("params",),
            solution=answer("sgd_step"),
            figure="optimizer_steps",
        ),
        FunctionSpec(
            "momentum_step",
            ("params", "grads", "velocity", "lr", "beta"),
            "(params, velocity)",
            points=1,
            outputs=("params", "velocity"),
            solution=answer("momentum_step"),
            figure="optimizer_steps",
        ),
        FunctionSpec(
            "rmsprop_step",
            ("params", "grads", "sq", "lr", "beta", "eps"),
            "(params, sq)",
            points=1,
            outputs=("params", "sq"),
            solution=answer("rmsprop_step"),
            figure="optimizer_steps",
        ),
        FunctionSpec(
            "adam_step",
            ("params", "grads", "m", "v", "t", "lr", "beta1", "beta2", "eps"),
            "(params, m, v)",
            points=2,
            outputs=("params", "m", "v"),
            solution=answer("adam_step"),
            figure="optimizer_steps",
        ),
        FunctionSpec(
            "minibatches",
            ("X", "Y", "batch_size", "rng"),
            "list of (X_batch, Y_batch)",
            points=2,
            check="minibatches",
            solution=answer("minibatches"),
            figure="batch_membership",
        ),
    ),
    generate=generate,
    mistakes=MISTAKES,
)
