"""Random building blocks for instance generators, chosen to avoid numerical traps."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from grader.spec import Args, Path


def spread(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    """Normal entries kept at least 0.1 * scale away from zero.

    Entries of clearly non-zero magnitude make a wrong factor (2, m, 1/m, -1) or a dropped
    term show up far outside any tolerance.
    """
    values = rng.normal(0.0, scale, size=shape)
    return np.sign(values + (values == 0)) * (np.abs(values) + 0.1 * scale)


def scalar(rng: np.random.Generator, scale: float = 1.0) -> float:
    return float(spread(rng, (1,), scale)[0])


def binary_targets(rng: np.random.Generator, m: int) -> np.ndarray:
    """0/1 targets with both classes present whenever m > 1."""
    y = rng.integers(0, 2, size=(1, m)).astype(np.float64)
    if m > 1 and y.min() == y.max():
        y[0, rng.integers(m)] = 1.0 - y[0, 0]
    return y


def probabilities(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.05, 0.95, size=shape)


def dict_pairs(argument: str) -> Callable[[Args], Sequence[tuple[Path, Path]]]:
    """Gradient pairs for a backward returning a dict keyed like the `argument` dict."""

    def pairs(args: Args) -> list[tuple[Path, Path]]:
        return [((key,), (argument, key)) for key in args[argument]]

    return pairs


def positional_pairs(*arguments: str) -> Callable[[Args], Sequence[tuple[Path, Path]]]:
    """Gradient pairs for a backward returning a tuple, item i being d loss / d arguments[i]."""

    def pairs(args: Args) -> list[tuple[Path, Path]]:
        return [((i,), (name,)) for i, name in enumerate(arguments)]

    return pairs
