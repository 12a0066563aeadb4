"""Reading a student's minibatches: one decoder for the grader's check and the catalogue.

The right answer of `minibatches` is not unique (any shuffle will do), so it is checked by
its properties and its mistakes are recognised from the batches themselves. Both read the
answer through `read_batches`, so scoring and diagnosis always agree on what the student
returned. The contract asks for a list of `(X_batch, Y_batch)` pairs of 2-d numeric
ndarrays; nested lists are not arrays and are refused here as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

NUMERIC_KINDS = "biuf"


@dataclass(frozen=True)
class BatchProblem:
    """Why an answer cannot be read as batches; `batch` is the index of the culprit."""

    code: str
    batch: int | None
    message: str


@dataclass(frozen=True)
class Layout:
    """Where each column of the batches comes from: its index in X and in Y (None when it is
    no column of them), in output order, with the width of every batch. `paired[j]`: the Y
    column of the j-th example is the target of its X column (robust to repeated targets)."""

    sizes: list[int]
    from_x: list[int | None]
    from_y: list[int | None]
    paired: list[bool]

    def complete(self) -> bool:
        """Every column was found in X and in Y."""
        return None not in self.from_x and None not in self.from_y

    def all_paired(self) -> bool:
        return all(self.paired)


def describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} (dtype {value.dtype})"
    if value is None:
        return "None (did you forget `return`?)"
    return f"a {type(value).__name__}"


def read_batches(
    X: np.ndarray, Y: np.ndarray, output: Any
) -> list[tuple[np.ndarray, np.ndarray]] | BatchProblem:
    """The answer as (X_batch, Y_batch) pairs with the rows of X and Y, or what is wrong."""
    if not isinstance(output, list | tuple):
        return BatchProblem(
            "wrong_type", None, f"expected a list of (X_batch, Y_batch), got {describe(output)}"
        )
    pairs = []
    for i, pair in enumerate(output):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            message = f"batch {i} is not an (X_batch, Y_batch) pair"
            return BatchProblem("wrong_structure", i, message)
        for name, part, full in (("X_batch", pair[0], X), ("Y_batch", pair[1], Y)):
            if not isinstance(part, np.ndarray) or part.dtype.kind not in NUMERIC_KINDS:
                return BatchProblem(
                    "wrong_type", i, f"batch {i}: {name} should be an array, got {describe(part)}"
                )
            if part.ndim != 2 or part.shape[0] != full.shape[0]:
                return BatchProblem(
                    "shape",
                    i,
                    f"batch {i}: {name} should have {full.shape[0]} rows and one column per "
                    f"example, got shape {part.shape}",
                )
        if pair[0].shape[1] != pair[1].shape[1]:
            return BatchProblem(
                "shape", i, f"batch {i}: X_batch and Y_batch have different numbers of columns"
            )
        pairs.append((pair[0], pair[1]))
    return pairs


def column_sources(block: np.ndarray, source: np.ndarray) -> list[int | None]:
    """For each column of block, the index of the first identical column of source."""
    indices: list[int | None] = []
    for column in block.T:
        hits = np.flatnonzero(np.all(source == column[:, None], axis=0))
        indices.append(int(hits[0]) if hits.size else None)
    return indices


def read_layout(X: np.ndarray, Y: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]]) -> Layout:
    sizes: list[int] = []
    from_x: list[int | None] = []
    from_y: list[int | None] = []
    paired: list[bool] = []
    for X_batch, Y_batch in pairs:
        sizes.append(X_batch.shape[1])
        sources = column_sources(X_batch, X)
        from_x.extend(sources)
        from_y.extend(column_sources(Y_batch, Y))
        paired.extend(
            j is not None and bool(np.array_equal(Y[:, j], Y_batch[:, k]))
            for k, j in enumerate(sources)
        )
    return Layout(sizes, from_x, from_y, paired)


def correct_sizes(m: int, batch_size: int) -> list[int]:
    return [min(batch_size, m - start) for start in range(0, m, batch_size)]


def is_permutation(indices: list[int | None], m: int) -> bool:
    return None not in indices and sorted(indices) == list(range(m))  # type: ignore[type-var]
