"""Independent oracles for the tests: entry-by-entry central differences, nothing clever."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np


def get_path(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


def with_value(args: dict, path: tuple, new: Any) -> dict:
    args = copy.deepcopy(args)
    if len(path) == 1:
        args[path[0]] = new
    else:
        get_path(args, path[:-1])[path[-1]] = new
    return args


def central_difference(
    loss: Callable[[dict], float], args: dict, path: tuple, h: float = 1e-3
) -> np.ndarray | float:
    """d loss / d (args at path), one entry at a time, by the five-point central stencil.

    Its truncation error is O(h**4), so a large step keeps round-off small too: accurate to
    about 1e-12 even for the tiny first-layer gradients of a deep sigmoid network.
    """
    point = get_path(args, path)
    scalar = np.ndim(point) == 0 and not isinstance(point, np.ndarray)
    base = np.asarray(point, dtype=np.float64)
    grad = np.zeros_like(base)
    for index in np.ndindex(base.shape):

        def shifted(step: float, index: tuple = index) -> float:
            moved = base.copy()
            moved[index] += step
            return loss(with_value(args, path, float(moved) if scalar else moved))

        grad[index] = (8 * (shifted(h) - shifted(-h)) - (shifted(2 * h) - shifted(-2 * h))) / (
            12 * h
        )
    return float(grad) if scalar else grad


def relative_error(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.linalg.norm(a), np.linalg.norm(b), 1e-12)
    return float(np.linalg.norm(a - b) / scale)
