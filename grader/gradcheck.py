"""Numerical gradient checking along random directions.

Instead of one finite difference per parameter, a gradient g is checked along a random
direction u: the analytic directional derivative <g, u> against a central difference of
the loss along u. The cost is two loss evaluations per direction,
whatever the number of parameters (PyTorch's fast gradcheck uses the same idea).

Why a wrong gradient is still caught: u has independent entries uniform on [-1, 1] (a
continuous distribution, three times cheaper to draw than a Gaussian), so if g' != g then
<g' - g, u> has a bounded density of spread about ||g' - g|| / sqrt(3): it falls inside the
tolerance band only with probability of order tolerance / ||g' - g||, negligible for any
real mistake, and two independent directions square that probability. With h = 1e-5 the
central difference has truncation error O(h**2), about 1e-10, and round-off of about
eps / h = 1e-11, far below the tolerance of 1e-6 relative to sum |g_i u_i|. As |u_i| <= 1,
no input moves by more than 1e-5: well inside the 1e-3 margin the instances keep from
ReLU's kink.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.spec import Args, Path

STEP = 1e-5
STENCIL = (1.0, -1.0)
RTOL = 1e-6
ATOL = 1e-10
DIRECTIONS = 2


def get_path(value: Any, path: Path) -> Any:
    for key in path:
        value = value[key]
    return value


@dataclass(frozen=True)
class Direction:
    """A random direction over the inputs a gradient is taken with respect to."""

    parts: dict[Path, Any]

    @classmethod
    def random(cls, args: Args, inputs: Sequence[Path], rng: np.random.Generator) -> Direction:
        parts: dict[Path, Any] = {}
        for path in inputs:
            value = get_path(args, path)
            u = rng.uniform(-1.0, 1.0, np.shape(value))
            parts[path] = u if isinstance(value, np.ndarray) else float(u)
        return cls(parts)

    def moved(self, args: Args, t: float) -> Args:
        """Args with every input moved by t along this direction.

        Only the dicts on a moved path are copied: the other inputs are shared with `args`,
        which costs nothing and is safe, since the answer key never modifies its inputs and
        the student's forward only ever sees a serialized copy.
        """
        moved = dict(args)
        for path, u in self.parts.items():
            container = moved
            for key in path[:-1]:
                container[key] = dict(container[key])
                container = container[key]
            container[path[-1]] = get_path(args, path) + t * u
        return moved

    def project(
        self, gradient: Any, pairs: Sequence[tuple[Path, Path]]
    ) -> tuple[float, float] | None:
        """<gradient, u> and sum |gradient_i * u_i| (the scale the error is judged against).

        None when the gradient does not have the layout of the inputs: a missing output, a
        non-numeric one, or a shape other than the input's (a scalar input takes any size-1
        form). Never broadcast: a (k, m) gradient of a (k, 1) bias would sum to the right
        directional derivative and pass for a right gradient.
        """
        total, magnitude = 0.0, 0.0
        for output_path, input_path in pairs:
            u = self.parts[input_path]
            g = numeric_part(gradient, output_path)
            if g is None or not same_layout(g, u):
                return None
            products = g.reshape(np.shape(u)) * u
            total += float(products.sum())
            magnitude += float(np.abs(products).sum())
        return total, magnitude


def numeric_part(value: Any, path: Path) -> np.ndarray | None:
    """The part of an answer at `path` as a float array, or None if there is no such part or
    it is not numbers."""
    try:
        part = get_path(value, path)
    except (KeyError, IndexError, TypeError):
        return None
    if isinstance(part, bool) or not isinstance(part, int | float | np.ndarray):
        return None
    if isinstance(part, np.ndarray) and part.dtype.kind not in "biuf":
        return None
    try:
        return np.asarray(part, dtype=np.float64)
    except OverflowError:  # a Python int beyond float range
        return None


def same_layout(gradient: np.ndarray, u: Any) -> bool:
    if isinstance(u, np.ndarray):
        return gradient.shape == u.shape
    return gradient.size == 1


def stencil_points(args: Args, direction: Direction) -> list[Args]:
    return [direction.moved(args, k * STEP) for k in STENCIL]


def stencil_derivative(losses: Sequence[float]) -> float:
    plus, minus = losses
    return (plus - minus) / (2.0 * STEP)


def agrees(analytic: float, magnitude: float, numeric: float) -> bool:
    return abs(analytic - numeric) <= RTOL * (magnitude + abs(numeric)) + ATOL


def agrees_along(
    direction: Direction,
    gradient: Any,
    pairs: Sequence[tuple[Path, Path]],
    losses: Sequence[float],
) -> bool:
    """<gradient, u> against the central difference of the losses at u's stencil points;
    False when the gradient cannot be projected on u (see Direction.project)."""
    projection = direction.project(gradient, pairs)
    if projection is None:
        return False
    return agrees(*projection, stencil_derivative(losses))


def directions_for(
    args: Args, pairs: Sequence[tuple[Path, Path]], rng: np.random.Generator
) -> Iterator[Direction]:
    """DIRECTIONS random directions, each drawn when the previous one has been used."""
    inputs = [input_path for _, input_path in pairs]
    for _ in range(DIRECTIONS):
        yield Direction.random(args, inputs, rng)


def matches_losses(
    gradient: Any,
    losses: Sequence[float | None],
    pairs: Sequence[tuple[Path, Path]],
    directions: Sequence[Direction],
) -> bool | None:
    """Like `matches_loss`, from losses already evaluated at every direction's stencil points.

    None when some loss could not be evaluated (the student's forward failed there).
    """
    if any(value is None or not np.isfinite(value) for value in losses):
        return None
    n = len(STENCIL)
    return all(
        agrees_along(direction, gradient, pairs, losses[n * i : n * (i + 1)])
        for i, direction in enumerate(directions)
    )


def matches_loss(
    gradient: Any,
    loss: Callable[[Args], float],
    args: Args,
    pairs: Sequence[tuple[Path, Path]],
    rng: np.random.Generator,
) -> bool:
    """Does `gradient` agree with finite differences of `loss` along random directions?

    One direction and one stencil point alive at a time: with 100,000 parameters, arrays
    that all stay alive are fresh memory to fault in, which costs more than computing them.
    """
    return all(
        agrees_along(
            direction, gradient, pairs, [loss(direction.moved(args, k * STEP)) for k in STENCIL]
        )
        for direction in directions_for(args, pairs, rng)
    )
