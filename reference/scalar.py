"""The chain rule on scalars: j = 3 * (a + b * c) (exercise `chain_rule`)."""

from __future__ import annotations


def chain_forward(a: float, b: float, c: float) -> float:
    u = b * c
    v = a + u
    return float(3.0 * v)


def chain_backward(a: float, b: float, c: float) -> tuple[float, float, float]:
    dj_dv = 3.0
    dj_da = dj_dv
    dj_du = dj_dv
    return float(dj_da), float(dj_du * c), float(dj_du * b)
