from __future__ import annotations

import numpy as np

from exercises.answer_key import answer, ref
from grader.sampling import scalar, spread
from grader.spec import Args, Exercise, FunctionSpec, Instance, Mistake

# (n, m, steps)
RUNS = [(2, 10, 20), (1, 1, 3), (3, 6, 1), (4, 25, 50), (2, 2, 5)]


def stable_learning_rate(X: np.ndarray) -> float:
    """A fifth of 1/L, where L is the largest curvature of the MSE in (w, b)."""
    augmented = np.vstack([X, np.ones((1, X.shape[1]))])
    curvature = 2.0 / X.shape[1] * np.linalg.eigvalsh(augmented @ augmented.T).max()
    return float(0.2 / curvature)


def generate(rng: np.random.Generator) -> list[Instance]:
    instances = []
    for n, m, steps in RUNS:
        X = spread(rng, (n, m))
        y = spread(rng, (1, n)) @ X + 0.7 + rng.normal(0, 0.1, size=(1, m))
        args = {
            "X": X,
            "y": y,
            "w": spread(rng, (1, n), 0.5),
            "b": scalar(rng, 0.5),
            "lr": stable_learning_rate(X),
            "steps": steps,
        }
        instances.append(Instance(f"n={n}, m={m}, steps={steps}", args))
    return instances


# ------------------------------------------------------------------ known mistakes

Result = tuple[np.ndarray, float, list[float]]


def loss_of(args: Args, w: np.ndarray, b: float) -> float:
    return ref.mse_loss(ref.multivariate_forward(args["X"], w, b), args["y"])


GD_PARAMS = ("X", "y", "w", "b", "lr", "steps")


def descend(
    args: Args, direction: float = -1.0, b_after_w: bool = False, loss_after: bool = False
) -> Result:
    """Gradient descent with one step changed by a keyword.

    direction +1 climbs the gradient; b_after_w computes db only after w has moved;
    loss_after records each loss after its update instead of before.
    """
    X, y, lr = args["X"], args["y"], args["lr"]
    w, b = np.array(args["w"], dtype=np.float64), float(args["b"])
    losses = []
    for _ in range(args["steps"]):
        if not loss_after:
            losses.append(loss_of(args, w, b))
        dw, db = ref.multivariate_backward(X, y, w, b)
        w = w + direction * lr * dw
        if b_after_w:
            _, db = ref.multivariate_backward(X, y, w, b)
        b = b + direction * lr * db
        if loss_after:
            losses.append(loss_of(args, w, b))
    return w, b, losses


def reference_run(args: Args) -> Result:
    return ref.gradient_descent(**{name: args[name] for name in GD_PARAMS})


def loss_after_update(args: Args) -> Result:
    return descend(args, loss_after=True)


def gd_gradient_ascent(args: Args) -> Result:
    return descend(args, direction=1.0)


def gd_b_gradient_after_w_update(args: Args) -> Result:
    return descend(args, b_after_w=True)


def gd_extra_final_loss(args: Args) -> Result:
    w, b, losses = reference_run(args)
    return w, b, [*losses, loss_of(args, w, b)]


def gd_losses_summed(args: Args) -> Result:
    w, b, losses = reference_run(args)
    return w, b, [loss * args["X"].shape[1] for loss in losses]


MISTAKES = (
    Mistake(
        "loss_after_update",
        "gradient_descent",
        "each loss recorded after its update instead of before",
        "losses[i] is the loss of the parameters that update i starts from: record it "
        "before changing w and b.",
        variant=loss_after_update,
    ),
    Mistake(
        "gd_gradient_ascent",
        "gradient_descent",
        "the parameters moved along the gradient instead of against it",
        "Descent moves each parameter opposite to its gradient; with the wrong sign the "
        "loss grows at every step.",
        variant=gd_gradient_ascent,
    ),
    Mistake(
        "gd_b_gradient_after_w_update",
        "gradient_descent",
        "db computed after w was already updated",
        "Both gradients of a step are taken at the same point: compute dw and db from the "
        "current w and b before updating either of them.",
        variant=gd_b_gradient_after_w_update,
    ),
    Mistake(
        "gd_extra_final_loss",
        "gradient_descent",
        "one loss too many: the final loss appended after the last update",
        "losses has one entry per update, the loss before it; the loss after the last "
        "update is not part of the list.",
        variant=gd_extra_final_loss,
    ),
    Mistake(
        "gd_losses_summed",
        "gradient_descent",
        "losses recorded as sums of squared errors instead of means",
        "Each recorded loss is the MSE of exercise 4, a mean over the m examples.",
        variant=gd_losses_summed,
    ),
)


EXERCISE = Exercise(
    number=12,
    name="gradient_descent",
    title="Training multivariate regression with gradient descent",
    source="seed 003, the gradient descent algorithm",
    statement=(
        "Multivariate linear regression trained by plain gradient descent. `X` has shape `(n, "
        "m)` (one example per column), `y` `(1, m)`; the initial `w` is `(1, n)` and `b` a "
        "float; `lr` is the learning rate and `steps` an int. The model is `y_hat = w @ X + "
        "b` and the loss the mean squared error `L = (1/m) * sum((y_hat - y)**2)`. Repeat "
        "`steps` times: record the loss at the current `w, b`, then update both with the "
        "gradients of the loss at that point, `w = w - lr * dL/dw` and `b = b - lr * dL/db`. "
        "Return the final `w` `(1, n)`, `b` (a float) and `losses`, a list of `steps` floats, "
        "`losses[i]` being the loss before update `i`."
    ),
    functions=(
        FunctionSpec(
            "gradient_descent",
            ("X", "y", "w", "b", "lr", "steps"),
            "(w (1, n), b float, losses list of steps floats)",
            points=3,
            outputs=("w", "b", "losses"),
            solution=answer("gradient_descent"),
            figure="loss_history",
        ),
    ),
    generate=generate,
    mistakes=MISTAKES,
)
