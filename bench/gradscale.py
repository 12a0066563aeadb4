"""Gradient-check scaling: grading ``deep_network`` with ~100 and with ~100,000 parameters.

The submission is ``submissions/correct.py`` (its ``deep_backward`` is reference-equivalent
code), loaded once in a sandbox; the instances are built here with big layers and graded the
way the engine grades them (``engine.grade_exercise``: values against the answer key, inputs
not modified, and the gradient checked along random directions against finite differences of
the loss).  What a bigger network costs is its forward and backward passes (the answer key's,
counted and timed in this process, and the student's, run in the sandbox and timed here on
the same instances); everything else, the grading proper, should not grow with the number of
parameters.  For contrast, the table also shows what one central difference per parameter
would cost (two loss evaluations per parameter and instance).
"""

from __future__ import annotations

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


def student_functions() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "student"}
    exec(compile(SUBMISSION.read_text(), str(SUBMISSION), "exec"), namespace)
    return namespace


def student_seconds(namespace: dict[str, Any], insts: list[Any], repeats: int) -> float:
    """The student's forward and backward on every instance (as the engine calls them)."""
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for inst in insts:
            a = inst.args
            namespace["deep_forward"](a["X"], a["params"])
            namespace["deep_backward"](a["X"], a["Y"], a["params"])
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


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
    from grader.loading import load_submission
    from grader.sandbox import Limits, Sandbox

    exercise = exercises.get("deep_network")
    namespace = student_functions()
    rows = []
    with Sandbox(load_submission(SUBMISSION), Limits(submission_seconds=600)) as box:
        load = box.start()
        in_calls = [0.0]
        call_many = box.call_many

        def timed_call_many(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return call_many(*args, **kwargs)
            finally:
                in_calls[0] += time.perf_counter() - t0

        box.call_many = timed_call_many  # type: ignore[method-assign]
        sizes = [(widths, m, instances(widths, m)) for widths, m in (SMALL, LARGE)]
        samples: dict[int, list[tuple[float, float, int, float, bool]]] = {0: [], 1: []}
        for _widths, _m, insts in sizes:
            grade_exercise(box, load, exercise, insts, 0)  # warm up
        for _ in range(repeats):  # sizes interleaved: the allocator and caches see both
            for k, (_widths, _m, insts) in enumerate(sizes):
                in_calls[0] = 0.0
                with PassTimer() as timer:
                    t0 = time.perf_counter()
                    result = grade_exercise(box, load, exercise, insts, 0)
                    elapsed = time.perf_counter() - t0
                ok = result.score == result.max_score
                samples[k].append((elapsed, timer.seconds, timer.calls, in_calls[0], ok))
        for k, (widths, m, insts) in enumerate(sizes):
            timings = [x[0] for x in samples[k]]
            reference_times = [x[1] for x in samples[k]]
            counts = [x[2] for x in samples[k]]
            calls = statistics.median(x[3] for x in samples[k])
            passed = all(x[4] for x in samples[k])
            student = student_seconds(namespace, insts, repeats)
            params = parameter_count(widths)
            per_parameter = 2 * params * len(insts) * forward_seconds(insts, repeats)
            rows.append(
                Row(
                    params=params,
                    widths=widths,
                    m=m,
                    grading=statistics.median(timings),
                    reference_passes=statistics.median(reference_times),
                    student_passes=student,
                    passes_count=counts[0] + 2 * len(insts),
                    passed=passed,
                    per_parameter_estimate=per_parameter,
                    calls=calls,
                )
            )
    return rows
