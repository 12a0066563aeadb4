"""Grade a folder with ``grader.engine.grade``: in a ProcessPoolExecutor (the fallback when
``grader batch`` is not available) or, with ``--workers 0``, one after the other in this
process.  Prints one JSON line: wall time, submissions, per-submission times, peak RSS.

    python -m bench.poolbatch DIR [--workers N] [--limit K]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


IN_SANDBOX = [0.0]


def _time_sandbox() -> None:
    """Accumulate the wall time spent inside the Sandbox API (start, calls, close): the
    student's code, the isolation and the transport, as opposed to the grader's checks."""
    from grader.sandbox import sandbox

    for name in ("start", "call_many", "close"):
        original = getattr(sandbox.Sandbox, name)

        def timed(*args, _original=original, **kwargs):
            t0 = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                IN_SANDBOX[0] += time.perf_counter() - t0

        setattr(sandbox.Sandbox, name, timed)


def _grade(path: str) -> tuple[float, int, float, float]:
    from grader.engine import GradeOptions, grade

    t0 = time.perf_counter()
    report = grade(path, GradeOptions(student_id=Path(path).stem))
    return time.perf_counter() - t0, os.getpid(), report.score, peak_rss_mb()


def _warm() -> int:
    from grader.sandbox import prewarm

    prewarm()
    return os.getpid()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args(argv)
    paths = sorted(str(p) for p in args.folder.glob("*.ipynb"))
    if args.limit:
        paths = paths[: args.limit]
    t0 = time.perf_counter()
    if args.workers == 0:
        _time_sandbox()
        _grade(paths[0])  # warm: imports, probe, zygote
        IN_SANDBOX[0] = 0.0
        t0 = time.perf_counter()
        results = [_grade(p) for p in paths]
    else:
        with ProcessPoolExecutor(args.workers) as pool:
            results = list(pool.map(_grade, paths, chunksize=4))
    wall = time.perf_counter() - t0
    per_worker: dict[int, float] = {}
    for _, pid, _, rss in results:
        per_worker[pid] = max(per_worker.get(pid, 0.0), rss)
    print(
        json.dumps(
            {
                "wall": wall,
                "count": len(paths),
                "median_seconds": statistics.median(r[0] for r in results),
                "mean_seconds": statistics.mean(r[0] for r in results),
                "worker_peak_rss_mb": max(per_worker.values()),
                "workers": len(per_worker),
                "in_sandbox_seconds": IN_SANDBOX[0] / len(paths),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
