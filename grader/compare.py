"""Compare a student's decoded output with the expected one: structure, shape, then values.

Tolerance: an array (or scalar) passes when max|answer - expected| <= atol + rtol * max|expected|,
i.e. a normwise relative error. Each output array is judged against its own scale, so a
bias gradient is not drowned by a weight gradient, and entries that are tiny next to the
array's largest are not held to an impossible per-entry relative bound. The defaults
(rtol = 1e-6, atol = 1e-9, declared per function in `exercises`) sit five orders of
magnitude above the float64 round-off of any correct formulation (loops, einsum, inverse
instead of solve: < 1e-11 on our instances) and orders of magnitude below the smallest
wrong factor our instances allow to hide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.sandbox import Opaque

NUMERIC_KINDS = "biuf"


Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Mismatch:
    """Why an answer differs from the expected one. `path` leads to the part: () for the
    whole answer, (1,) for the second item of a tuple, ("W1",) for a dict entry."""

    code: str
    path: Path
    message: str

    @property
    def where(self) -> str:
        return path_text(self.path)


def path_text(path: Path) -> str:
    """A path as indexing code: (0, "W") -> "[0]['W']"."""
    return "".join(f"[{key!r}]" for key in path)


def describe(value: Any) -> str:
    if isinstance(value, Opaque):
        return f"a {value.type_name} object"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} (dtype {value.dtype})"
    if value is None:
        return "None (did you forget `return`?)"
    return f"a {type(value).__name__}"


def is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return (
        isinstance(value, np.ndarray | np.generic)
        and value.size == 1
        and value.dtype.kind in NUMERIC_KINDS
    )


def as_float_array(value: Any) -> np.ndarray:
    """As float64; a Python int beyond float range (10**400) becomes +-inf, not an error."""
    if type(value) is int:
        try:
            return np.asarray(float(value))
        except OverflowError:
            return np.asarray(np.inf if value > 0 else -np.inf)
    return np.asarray(value, dtype=np.float64)


def tolerance(expected: np.ndarray, rtol: float, atol: float) -> float:
    scale = float(np.abs(expected).max()) if expected.size else 0.0
    return atol + rtol * scale


def compare(expected: Any, got: Any, rtol: float, atol: float, where: Path = ()) -> Mismatch | None:
    """None when `got` is an acceptable answer, else the first difference found."""
    if isinstance(expected, dict):
        return compare_dict(expected, got, rtol, atol, where)
    if isinstance(expected, tuple | list):
        return compare_sequence(expected, got, rtol, atol, where)
    if isinstance(expected, np.ndarray):
        return compare_array(expected, got, rtol, atol, where)
    return compare_scalar(expected, got, rtol, atol, where)


def compare_dict(
    expected: dict, got: Any, rtol: float, atol: float, where: Path
) -> Mismatch | None:
    if not isinstance(got, dict):
        return Mismatch("wrong_type", where, f"expected a dict, got {describe(got)}")
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected), key=str)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if extra:
            parts.append(f"unexpected keys {extra}")
        return Mismatch(
            "wrong_structure",
            where,
            f"the dict has {' and '.join(parts)}; expected exactly {sorted(expected)}",
        )
    for key in expected:
        mismatch = compare(expected[key], got[key], rtol, atol, where + (key,))
        if mismatch:
            return mismatch
    return None


def compare_sequence(
    expected: tuple | list, got: Any, rtol: float, atol: float, where: Path
) -> Mismatch | None:
    kind = "tuple" if isinstance(expected, tuple) else "list"
    if isinstance(got, np.ndarray) and got.ndim == 1 and all(is_number(e) for e in expected):
        got = list(got)
    if not isinstance(got, tuple | list):
        return Mismatch("wrong_type", where, f"expected a {kind}, got {describe(got)}")
    if len(got) != len(expected):
        return Mismatch(
            "wrong_structure",
            where,
            f"expected a {kind} of {len(expected)} items, got {len(got)} items",
        )
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        mismatch = compare(e, g, rtol, atol, where + (i,))
        if mismatch:
            return mismatch
    return None


def compare_scalar(
    expected: Any, got: Any, rtol: float, atol: float, where: Path
) -> Mismatch | None:
    if isinstance(got, np.ndarray) and got.dtype.kind in NUMERIC_KINDS and got.size > 1:
        return Mismatch("shape", where, f"expected a single number, got {describe(got)}")
    if not is_number(got):
        return Mismatch("wrong_type", where, f"expected a number, got {describe(got)}")
    return compare_values(
        as_float_array(expected), as_float_array(got).reshape(()), rtol, atol, where
    )


def compare_array(
    expected: np.ndarray, got: Any, rtol: float, atol: float, where: Path
) -> Mismatch | None:
    if is_number(got) and not isinstance(got, np.ndarray):
        if expected.ndim == 0:
            return compare_scalar(expected, got, rtol, atol, where)
        if expected.size == 1:
            return Mismatch(
                "shape", where, f"expected an array of shape {expected.shape}, got a plain number"
            )
    if not isinstance(got, np.ndarray) or got.dtype.kind not in NUMERIC_KINDS:
        return Mismatch("wrong_type", where, f"expected an array, got {describe(got)}")
    if got.shape != expected.shape:
        return Mismatch(shape_code(expected.shape, got.shape), where, shape_message(expected, got))
    return compare_values(expected, got, rtol, atol, where)


def shape_code(expected: tuple, got: tuple) -> str:
    if len(expected) == 2 and got == expected[::-1]:
        return "shape_transposed"
    if len(expected) == 2 and expected[1] == 1 and len(got) == 2 and got[0] == expected[0]:
        return "shape_broadcast"
    return "shape"


def shape_message(expected: np.ndarray, got: np.ndarray) -> str:
    message = f"expected shape {expected.shape}, got {got.shape}"
    code = shape_code(expected.shape, got.shape)
    if code == "shape_transposed":
        message += " (the transpose of what was due)"
    elif code == "shape_broadcast":
        message += " (one column per example: was a sum over the examples, axis=1, left out?)"
    elif got.shape == expected.shape[:1] and expected.ndim == 2 and expected.shape[1] == 1:
        message += " (a column vector lost its second axis: keepdims=True?)"
    return message


def compare_values(
    expected: np.ndarray, got: np.ndarray, rtol: float, atol: float, where: Path
) -> Mismatch | None:
    got = as_float_array(got)
    expected = as_float_array(expected)
    finite = np.isfinite(got)
    if not finite.all():
        bad = int(got.size - np.count_nonzero(finite))
        return Mismatch("not_finite", where, f"{bad} of {got.size} values are nan or inf")
    error = np.abs(got - expected)
    allowed = tolerance(expected, rtol, atol)
    worst = float(error.max(initial=0.0))
    if worst <= allowed:
        return None
    wrong = int(np.count_nonzero(error > allowed))
    message = f"values differ: max abs error {worst:.3g} (allowed {allowed:.2g})"
    if expected.size > 1:
        index = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), expected.shape))
        message += f", {wrong} of {expected.size} entries wrong, worst at index {index}"
    return Mismatch("wrong_values", where, message)
