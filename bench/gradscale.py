"""Gradient-check scaling: grading ``deep_network`` with ~100, ~10,000 and ~100,000 parameters.

The submission is ``submissions/correct.py`` (its ``deep_backward`` is reference-equivalent
code), loaded once in a sandbox; the instances are built here with big layers and graded the
way the engine grades them (``engine.grade_exercise``: values against the answer key, inputs
not modified, and the gradient checked along random directions against finite differences of
the loss).  What a bigger network costs is its forward and backward passes: the answer key's,
timed in this process, and the student's, timed inside the sandbox by wrappers the benchmark
adds to the submission (the child runs numpy on one thread, so timing the same code here
would undercount it).  Everything else, sending the arrays and the grading proper, should
not grow beyond that.  For contrast, the table also shows what one central difference per
parameter would cost (two loss evaluations per parameter and instance).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SUBMISSION = ROOT / "submissions" / "correct.py"
SMALL = ([3, 8, 6, 2], 16)  # 100 parameters
MEDIUM = ([60, 90, 50, 1], 64)  # 10,091 parameters
LARGE = ([200, 300, 130, 1], 64)  # 99,561 parameters
INSTANCES = 5  # as many as the exercise's own generator makes


@dataclass
class Row:
    params: int
    widths: list[int]
    m: int
    grading: float  # seconds, median
    reference_passes: float  # answer key's forward/backward passes during grading
    student_passes: float  # the student's forward/backward on the same instances
    passes_count: int
    passed: bool
    per_parameter_estimate: float  # what one central difference per parameter would cost
    forward: float = 0.0  # seconds of one forward pass and loss (answer key), per instance
    calls: float = 0.0  # seconds inside Sandbox.call_many (student passes included)

    @property
    def overhead(self) -> float:
        return self.grading - self.reference_passes - self.student_passes

    @property
    def sandbox_calls(self) -> float:
        """Sending the arrays to the sandbox and back (the student's passes taken out)."""
        return max(0.0, self.calls - self.student_passes)

    @property
    def rest(self) -> float:
        """The grader's own work: directions, copies, comparisons, diagnoses."""
        return self.grading - self.reference_passes - self.calls


def parameter_count(widths: list[int]) -> int:
    return sum(widths[i] * widths[i - 1] + widths[i] for i in range(1, len(widths)))


def instances(widths: list[int], m: int, seed: int = 0) -> list[Any]:
    from exercises import Instance

    rng = np.random.default_rng(seed)
    out = []
    for k in range(INSTANCES):
        params = {}
        for layer in range(1, len(widths)):
            fan_in = widths[layer - 1]
            params[f"W{layer}"] = rng.normal(0, 1 / math.sqrt(fan_in), (widths[layer], fan_in))
            params[f"b{layer}"] = rng.normal(0, 0.1, (widths[layer], 1))
        args = {
            "X": rng.normal(size=(widths[0], m)),
            "Y": rng.uniform(0.1, 0.9, size=(widths[-1], m)),
            "params": params,
        }
        out.append(Instance(f"bench {widths} m={m} #{k}", args))
    return out


class PassTimer:
    """Counts and times the answer key's deep_forward/deep_backward while installed."""

    NAMES = ("deep_forward", "deep_backward")

    def __init__(self) -> None:
        import reference

        self.module = reference
        self.seconds = 0.0
        self.calls = 0
        self.saved: dict[str, Callable[..., Any]] = {}

    def __enter__(self) -> PassTimer:
        for name in self.NAMES:
            original = getattr(self.module, name)
            self.saved[name] = original
            setattr(self.module, name, self._timed(original))
        return self

    def _timed(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return function(*args)
            finally:
                self.seconds += time.perf_counter() - t0
                self.calls += 1

        return timed

    def __exit__(self, *exc: object) -> None:
        for name, original in self.saved.items():
            setattr(self.module, name, original)


#: Appended to the submission: the time its outermost deep_forward/deep_backward calls take,
#: measured in the child and read back (and reset) by calling ``bench_pass_seconds()``.
PASS_TIMERS = """
import time as _bench_time

_bench_spent = [0.0, 0]


def _bench_timed(function):
    def timed(*args):
        _bench_spent[1] += 1
        t0 = _bench_time.perf_counter()
        try:
            return function(*args)
        finally:
            _bench_spent[1] -= 1
            if _bench_spent[1] == 0:
                _bench_spent[0] += _bench_time.perf_counter() - t0

    return timed


deep_forward = _bench_timed(deep_forward)
deep_backward = _bench_timed(deep_backward)


def bench_pass_seconds():
    spent, _bench_spent[0] = _bench_spent[0], 0.0
    return spent
"""


def timed_submission() -> Any:
    from grader.loading import SourceChunk, load_submission

    source = load_submission(SUBMISSION)
    timers = SourceChunk(PASS_TIMERS, "benchmark timers", "<benchmark timers>")
    return dataclasses.replace(source, chunks=(*source.chunks, timers))


def forward_seconds(insts: list[Any], repeats: int) -> float:
    import reference

    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for inst in insts:
            reference.mse_loss(
                reference.deep_forward(inst.args["X"], inst.args["params"]), inst.args["Y"]
            )
        runs.append((time.perf_counter() - t0) / len(insts))
    return statistics.median(runs)


def measure(repeats: int = 7) -> list[Row]:
    import exercises
    from grader.engine import grade_exercise
    from grader.sandbox import Limits, Sandbox

    exercise = exercises.get("deep_network")
    rows = []
    with Sandbox(timed_submission(), Limits(submission_seconds=600)) as box:
        load = box.start()
        in_calls = [0.0]
        call_many = box.call_many

        def timed_call_many(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return call_many(*args, **kwargs)
            finally:
                in_calls[0] += time.perf_counter() - t0

        def student_seconds() -> float:
            return float(call_many("bench_pass_seconds", [()])[0].value)

        box.call_many = timed_call_many  # type: ignore[method-assign]
        sizes = [(widths, m, instances(widths, m)) for widths, m in (SMALL, MEDIUM, LARGE)]
        samples: dict[int, list[tuple[float, float, int, float, float, bool]]] = {
            k: [] for k in range(len(sizes))
        }
        for _widths, _m, insts in sizes:
            grade_exercise(box, load, exercise, insts, 0)  # warm up
        student_seconds()
        for _ in range(repeats):  # sizes interleaved: the allocator and caches see both
            for k, (_widths, _m, insts) in enumerate(sizes):
                in_calls[0] = 0.0
                with PassTimer() as timer:
                    t0 = time.perf_counter()
                    result = grade_exercise(box, load, exercise, insts, 0)
                    elapsed = time.perf_counter() - t0
                ok = result.score == result.max_score
                student = student_seconds()
                samples[k].append((elapsed, timer.seconds, timer.calls, in_calls[0], student, ok))
        for k, (widths, m, insts) in enumerate(sizes):

            def median(i: int, k: int = k) -> float:
                return statistics.median(x[i] for x in samples[k])

            params = parameter_count(widths)
            forward = forward_seconds(insts, repeats)
            rows.append(
                Row(
                    params=params,
                    widths=widths,
                    m=m,
                    grading=median(0),
                    reference_passes=median(1),
                    student_passes=median(4),
                    passes_count=samples[k][0][2] + 2 * len(insts),
                    passed=all(x[5] for x in samples[k]),
                    per_parameter_estimate=2 * params * len(insts) * forward,
                    forward=forward,
                    calls=median(3),
                )
            )
    return rows
