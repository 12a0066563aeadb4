"""Diagnose a wrong answer: name the mistake instead of saying "not close".

Order of questions, most specific first: does the answer match a catalogued mistake of
this function; is it the expected answer times a constant (and which: 2, 1/2, m, 1/m, -1);
is a square matrix transposed; otherwise the structural code from the comparison stands.
Hints point at the step of the derivation and never print the expected values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.compare import Mismatch, Path, as_float_array, compare, is_number, path_text
from grader.report import Diagnosis
from grader.spec import Args, Mistake

FIT_RTOL = 1e-6

#: Names a part of an answer from its path: (1,) -> "db", ("W1",) -> "dW1" (see checks).
Namer = Callable[[Path], str]

STRUCTURAL_HINTS = {
    "shape_transposed": "Check the order of the factors in the matrix product: the gradient of "
    "a weight matrix has the weight's own shape.",
    "shape_broadcast": "A bias is shared by all examples, so its gradient sums the per-example "
    "terms over axis 1 (keepdims=True keeps the column shape).",
    "not_finite": "Look for exp of a large number, a log of 0, or a division by zero.",
    "wrong_structure": "Return exactly the structure the contract asks for (tuple length, "
    "dict keys).",
}


@dataclass(frozen=True)
class Finding:
    diagnosis: Diagnosis
    explanation: str


def examples_count(args: Args) -> int | None:
    """m, the number of examples (columns) of the instance, when it has one."""
    for name in ("X", "x", "y", "Y"):
        value = args.get(name)
        if isinstance(value, np.ndarray) and value.ndim == 2:
            return int(value.shape[1])
    return None


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for key in sorted(value, key=str) for leaf in leaves(value[key])]
    if isinstance(value, tuple | list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def same_layout(expected: Any, got: Any) -> bool:
    e, g = leaves(expected), leaves(got)
    return len(e) == len(g) and all(
        (is_number(a) or isinstance(a, np.ndarray))
        and (is_number(b) or isinstance(b, np.ndarray))
        and np.size(a) == np.size(b)
        for a, b in zip(e, g, strict=True)
    )


def flat(value: Any) -> np.ndarray:
    parts = [as_float_array(leaf).ravel() for leaf in leaves(value)]
    return np.concatenate(parts) if parts else np.zeros(0)


def factor_names(m: int | None) -> list[tuple[float, str]]:
    names = [(2.0, "2"), (0.5, "1/2"), (-1.0, "-1"), (-2.0, "-2"), (-0.5, "-1/2")]
    if m and m > 2:
        names += [(float(m), "m"), (1.0 / m, "1/m"), (2.0 * m, "2m"), (0.5 / m, "1/(2m)")]
    elif m == 2:
        names += [(2.0, "m"), (0.5, "1/m")]
    return names


def name_factor(c: float, m: int | None) -> str | None:
    matches = [name for value, name in factor_names(m) if abs(c - value) <= 1e-6 * abs(value)]
    return " = ".join(dict.fromkeys(matches)) if matches else None


def fitted_factor(r: np.ndarray, s: np.ndarray) -> float | None:
    """The c with s = c * r (least squares), if it fits within FIT_RTOL; None otherwise.

    Both sides are divided by their largest entry first, so that answers near 1e308 cannot
    overflow the fit into an "inf" or "nan" factor."""
    r_scale, s_scale = float(np.abs(r).max()), float(np.abs(s).max())
    r_unit, s_unit = r / r_scale, s / s_scale
    c_unit = float(r_unit @ s_unit / (r_unit @ r_unit))
    if np.max(np.abs(s_unit - c_unit * r_unit)) > FIT_RTOL + 1e-12 / s_scale:
        return None
    with np.errstate(over="ignore"):
        c = c_unit * (s_scale / r_scale)
    return c if math.isfinite(c) and c != 0.0 else None


def scale_finding(expected: Any, got: Any, m: int | None) -> Finding | None:
    """The answer equals c times the expected one, for a constant c != 1.

    m = 2 makes 2 and m the same factor: the name says both ("2 = m")."""
    if not same_layout(expected, got):
        return None
    r, s = flat(expected), flat(got)
    if not np.all(np.isfinite(s)) or not np.any(r) or not np.any(s):
        return None
    c = fitted_factor(r, s)
    if c is None or abs(c - 1.0) < 1e-6:
        return None
    name = name_factor(c, m)
    if name is None and r.size < 2:
        return None
    shown = name or f"{c:.4g}"
    if name == "-1":
        return Finding(
            Diagnosis(code="sign", factor=-1.0, factor_name="-1", hint=SIGN_HINT),
            "every value has the opposite sign of the expected one",
        )
    ambiguous = f" (m = {m} here, so this cannot tell {name} apart)" if name and "=" in name else ""
    return Finding(
        Diagnosis(code="scaled", factor=round(c, 12), factor_name=name, hint=scale_hint(name)),
        f"your answer is the expected one multiplied by {shown}{ambiguous}",
    )


SIGN_HINT = (
    "Check the sign of each chain-rule factor: the derivative of (y_hat - y) and of "
    "-log(...) are common places to lose a minus."
)


def scale_hint(name: str | None) -> str:
    if name and "m" in name:
        return "Check the averaging over the m examples: the loss divides by m exactly once."
    if name in {"2", "1/2"}:
        return "Check the derivative of the square: d/dx (x**2) = 2x."
    return "A constant factor is off: compare each factor of your chain rule with the loss."


def transposed_finding(expected: Any, got: Any, rtol: float, atol: float) -> Finding | None:
    """A square matrix whose values are the transpose of the expected ones (the outputs of a
    tuple or dict are asked one by one, by `part_finding`)."""
    if (
        isinstance(expected, np.ndarray)
        and isinstance(got, np.ndarray)
        and expected.ndim == 2
        and expected.shape[0] == expected.shape[1] > 1
        and got.shape == expected.shape
        and compare(expected.T, got, rtol, atol) is None
    ):
        hint = STRUCTURAL_HINTS["shape_transposed"]
        return Finding(
            Diagnosis(code="transposed", hint=hint),
            "the matrix is the transpose of the expected one",
        )
    return None


def mistake_finding(
    mistakes: Sequence[Mistake], args: Args, got: Any, rtol: float, atol: float
) -> Finding | None:
    for mistake in mistakes:
        if not mistake_matches(mistake, args, got, rtol, atol):
            continue
        return Finding(
            Diagnosis(code="known_mistake", mistake=mistake.code, hint=mistake.hint),
            f"this looks like a known mistake: {mistake.title}",
        )
    return None


def mistake_matches(mistake: Mistake, args: Args, got: Any, rtol: float, atol: float) -> bool:
    """Catalogue entries are trusted code, but a failure in one must never stop grading."""
    try:
        if mistake.matches is not None:
            return bool(mistake.matches(args, got))
        if mistake.variant is not None:
            return compare(mistake.variant(args), got, rtol, atol) is None
    except Exception:
        return False
    return False


def diagnose(
    mismatch: Mismatch,
    expected: Any,
    got: Any,
    args: Args,
    mistakes: Sequence[Mistake],
    rtol: float,
    atol: float,
    name: Namer = path_text,
) -> Finding:
    """The most specific explanation of why `got` is not `expected`.

    The whole answer is asked first (a catalogued mistake, one factor on every output, a
    transposed matrix), then each wrong output on its own: a tuple whose `db` alone lost its
    1/m is "db is m times too large", not "values differ at [1]".
    """
    if mismatch.code not in {"wrong_type", "not_finite"}:
        finding = mistake_finding(mistakes, args, got, rtol, atol)
        if finding:
            scale = scale_finding(expected, got, examples_count(args))
            if scale and scale.diagnosis.code == "scaled":
                finding.diagnosis.factor = scale.diagnosis.factor
                finding.diagnosis.factor_name = scale.diagnosis.factor_name
            return finding
    if mismatch.code == "wrong_values":
        finding = (
            scale_finding(expected, got, examples_count(args))
            or transposed_finding(expected, got, rtol, atol)
            or part_finding(expected, got, args, rtol, atol, name)
        )
        if finding:
            return finding
    hint = STRUCTURAL_HINTS.get(mismatch.code)
    output = name(mismatch.path) if mismatch.path else None
    where = f"{output}: " if output else ""
    return Finding(
        Diagnosis(code=mismatch.code, hint=hint, output=output), f"{where}{mismatch.message}"
    )


def parts(expected: Any, got: Any, path: Path = ()) -> list[tuple[Path, Any, Any]]:
    """The outputs of an answer, pairwise with the expected ones: the items of a tuple or
    list, the entries of a dict (only where `got` has the same structure there)."""
    if isinstance(expected, dict) and isinstance(got, dict) and expected.keys() == got.keys():
        return [(path + (key,), expected[key], got[key]) for key in expected]
    if (
        isinstance(expected, tuple | list)
        and isinstance(got, tuple | list)
        and len(expected) == len(got)
    ):
        return [(path + (i,), e, g) for i, (e, g) in enumerate(zip(expected, got, strict=True))]
    return []


def part_finding(
    expected: Any, got: Any, args: Args, rtol: float, atol: float, name: Namer, path: Path = ()
) -> Finding | None:
    """Diagnose the first wrong output of a tuple or dict on its own (scaled, sign,
    transposed), descending into nested outputs; say which other outputs are wrong too."""
    wrong = [
        (where, e, g) for where, e, g in parts(expected, got, path) if compare(e, g, rtol, atol)
    ]
    for where, e, g in wrong:
        finding = scale_finding(e, g, examples_count(args)) or transposed_finding(e, g, rtol, atol)
        if finding is None:
            finding = part_finding(e, g, args, rtol, atol, name, where)
            if finding is None:
                continue
            return finding
        output = name(where)
        others = [name(other) for other, _, _ in wrong if other != where]
        explanation = part_explanation(output, finding, examples_count(args))
        if others:
            explanation += f" ({', '.join(others)} also wrong)"
        return Finding(replace_output(finding.diagnosis, output), explanation)
    return None


def replace_output(diagnosis: Diagnosis, output: str) -> Diagnosis:
    return diagnosis.model_copy(update={"output": output})


def part_explanation(output: str, finding: Finding, m: int | None) -> str:
    diagnosis = finding.diagnosis
    if diagnosis.code == "sign":
        return f"{output} has the wrong sign"
    if diagnosis.code == "transposed":
        return f"{output} is the transpose of what was due"
    return f"{output} is {times_text(diagnosis.factor or 1.0, diagnosis.factor_name, m)}"


def times_text(factor: float, name: str | None, m: int | None = None) -> str:
    """'m times too large', '2 times too small', 'of the wrong sign and 2 times too large'.

    On m = 2 the factors 2 and m coincide: the text names m and says it could be 2."""
    sign = "of the wrong sign and " if factor < 0 else ""
    if name is None:
        return f"the expected value multiplied by {factor:.4g}"
    names = [n.lstrip("-") for n in name.split(" = ")]
    if abs(factor) < 1:
        names = [n[2:].strip("()") if n.startswith("1/") else n for n in names]
    size = "large" if abs(factor) > 1 else "small"
    text = f"{sign}{names[-1]} times too {size}"
    if len(names) > 1:
        text += f" (m = {m} here, so it could as well be {' or '.join(names[:-1])})"
    return text
