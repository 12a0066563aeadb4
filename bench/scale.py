"""``python -m bench.scale``: grading through Celery and Redis against the local pool.

The class is the batch benchmark's (``bench/notebooks.py``: 200 notebooks from
``submissions/``) and the course the service benchmark's (``bench/service.py``: every
exercise, one student per notebook). Each configuration is a fresh ``grader serve`` on a
free loopback port with its own store:

- the local pool: ``grader serve --workers 2``, as a course runs on one machine;
- Celery: ``grader serve --broker redis://...`` and one ``grader worker -c N`` (N = 1, 2, 4
  grading processes) on a real ``redis-server`` started for the run (append-only, fsync on
  every write: the configuration docs/scaling.md recommends).

The client uploads the whole class (at most 20 uploads in flight) and waits until nothing
is queued or grading. Throughput is submissions / (last result recorded - first upload
received), both read from the server's own clock (``received_at``, ``graded_at``), so
neither the client's polling nor start-up is in it.

The broker's own cost is reported three ways: the redis-server's CPU time per submission,
the server process's CPU per submission (uploads, the store, and with a broker the
dispatcher thread sending tasks and reading results), and the difference of wall time per
submission between Celery with 2 processes and the local pool with 2 processes.

Options: ``--size N`` (200), ``--processes 1,2,4``, ``--local N`` (2), ``--runs N`` (1;
medians), ``--out PATH`` (bench/results.md; only the section between the scale markers is
written; ``-`` for none). Nothing here is asserted: this is a measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.notebooks import make_class
from bench.service import (
    RESULTS,
    cpu_seconds,
    loadavg,
    replace_section,
    start_server,
    stop_server,
    upload,
    write_course,
)
from tests.live_redis import CeleryWorker, RedisServer
from tests.live_service import TA

START = "<!-- bench.scale: start -->"
END = "<!-- bench.scale: end -->"
QUEUE = "grader.bench"
CONCURRENCY = 20
TARGET_SHARE = 0.80  # Celery with 2 processes against the local pool with 2
WAIT_SECONDS = 900.0


@dataclass
class Config:
    """A way of grading: the local pool (`celery` False) or Celery with `processes`."""

    processes: int
    celery: bool

    @property
    def label(self) -> str:
        kind = "Celery + Redis" if self.celery else "local pool"
        return f"{kind}, {self.processes} process{'es' if self.processes > 1 else ''}"


# --------------------------------------------------------------------------- one run


async def upload_all(url: str, tokens: dict[str, str], notebooks: list[Path]) -> None:
    """Hand in every notebook, at most CONCURRENCY at a time, without waiting for grading."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(http: httpx.AsyncClient, path: Path) -> None:
        async with gate:
            request = upload(tokens[path.stem], path, path.read_bytes())
            answer = await http.post("/api/submissions", **request)
            if answer.status_code != 202:
                raise RuntimeError(f"{path.stem}: upload {answer.status_code}: {answer.text}")

    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        await asyncio.gather(*(one(http, path) for path in notebooks))


def wait_graded(url: str, ta_token: str, size: int) -> list[dict[str, Any]]:
    """Every submission once nothing is queued or grading (the TA's list)."""
    headers = {"Authorization": f"Bearer {ta_token}"}
    deadline = time.monotonic() + WAIT_SECONDS
    with httpx.Client(base_url=url, timeout=60) as http:
        while time.monotonic() < deadline:
            health = http.get("/api/health").json()
            if health["queued"] == 0 and health["grading"] == 0:
                rows = http.get("/api/submissions", headers=headers).json()
                if len(rows) == size and all(row["graded_at"] for row in rows):
                    return rows
            time.sleep(0.2)
    raise RuntimeError(f"not all {size} submissions were graded in {WAIT_SECONDS:.0f} s")


def span_seconds(rows: list[dict[str, Any]]) -> float:
    """First upload received to last result recorded, on the server's clock."""
    received = min(datetime.datetime.fromisoformat(row["received_at"]) for row in rows)
    recorded = max(datetime.datetime.fromisoformat(row["graded_at"]) for row in rows)
    return (recorded - received).total_seconds()


def start_redis(directory: Path) -> RedisServer:
    if shutil.which("redis-server") is None:
        raise SystemExit("the scale benchmark needs redis-server (apt-get install redis-server)")
    return RedisServer.start(directory)


def run_config(tmp: Path, name: str, config: Config, notebooks: list[Path]) -> dict[str, Any]:
    directory = tmp / name
    directory.mkdir()
    course = write_course(directory, [p.stem for p in notebooks], per_student=10)
    redis = worker = None
    if config.celery:
        redis = start_redis(directory / "redis")
        args = ("--broker", redis.url, "--queue", QUEUE)
        server, _ = start_server(directory, course, 0, args)
    else:
        server, _ = start_server(directory, course, config.processes)
    tokens = server.tokens
    try:
        if redis is not None:
            worker = CeleryWorker.start(
                directory / "worker", redis.url, QUEUE, concurrency=config.processes
            )
        time.sleep(1.0)  # the workers settle (forkserver, imports) before the class arrives
        server_cpu0 = cpu_seconds(server.process.pid)
        redis_cpu0 = cpu_seconds(redis.process.pid) if redis and redis.process else 0.0
        asyncio.run(upload_all(server.url, tokens, notebooks))
        rows = wait_graded(server.url, tokens[TA], len(notebooks))
        server_cpu = cpu_seconds(server.process.pid) - server_cpu0
        redis_cpu = cpu_seconds(redis.process.pid) - redis_cpu0 if redis and redis.process else 0.0
    finally:
        if worker is not None:
            worker.stop()
        stop_server(server)
        if redis is not None:
            redis.kill()
    return {
        "size": len(rows),
        "span": span_seconds(rows),
        "failed": sum(row["status"] != "graded" for row in rows),
        "server_cpu": server_cpu,
        "redis_cpu": redis_cpu,
    }


def measure(
    size: int = 200, processes: tuple[int, ...] = (1, 2, 4), local: int = 2, runs: int = 1
) -> dict[str, Any]:
    configs = [Config(local, celery=False)] + [Config(n, celery=True) for n in processes]
    info = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "nproc": str(os.cpu_count()),
        "load_before": loadavg(),
    }
    t0 = time.perf_counter()
    results: dict[str, list[dict[str, Any]]] = {c.label: [] for c in configs}
    with tempfile.TemporaryDirectory(prefix="grader-bench-scale-") as name:
        tmp = Path(name)
        notebooks = make_class(tmp / "class", size)
        for run in range(runs):
            for index, config in enumerate(configs):
                print(f"  run {run + 1}/{runs}: {config.label} ...", file=sys.stderr)
                tag = f"r{run}c{index}"
                results[config.label].append(run_config(tmp, tag, config, notebooks))
    info["load_after"] = loadavg()
    return {
        "info": info,
        "size": size,
        "runs": runs,
        "configs": configs,
        "results": results,
        "seconds": time.perf_counter() - t0,
    }


# --------------------------------------------------------------------------- the table


def medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def render(result: dict[str, Any]) -> str:
    """The "Scale-out" section of bench/results.md (without the markers)."""
    n, info = result["size"], result["info"]
    configs: list[Config] = result["configs"]
    m = {c.label: medians(result["results"][c.label]) for c in configs}
    pool = next(c for c in configs if not c.celery)
    pool_rate = n / m[pool.label]["span"]
    lines = [
        "## Scale-out",
        "",
        f"Produced by `python -m bench.scale` (see `bench/scale.py`). The {n} notebooks of "
        "(b), handed in through the service's API (at most 20 uploads in flight), graded by "
        "the local pool or by `grader worker` processes through Celery and a real "
        "`redis-server` (append-only, fsync always) on loopback; throughput = "
        "submissions / (first upload received to last result recorded, the server's clock); "
        f"{'median of ' + str(result['runs']) if result['runs'] > 1 else 'one run'}. "
        f"Machine: {info['nproc']} cores, load average before {info['load_before']}, after "
        f"{info['load_after']}; {info['date']}; the whole benchmark took "
        f"{result['seconds']:.0f} s.",
        "",
        "| grading by | graded/s | per submission | vs the local pool "
        "| server CPU per submission | redis-server CPU per submission |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for config in configs:
        row = m[config.label]
        rate = n / row["span"]
        failed = f" ({row['failed']:.0f} failed)" if row["failed"] else ""
        redis = f"{row['redis_cpu'] / n * 1000:.2f} ms" if config.celery else "-"
        lines.append(
            f"| {config.label} | {rate:.1f}{failed} | {row['span'] / n * 1000:.0f} ms "
            f"| {rate / pool_rate * 100:.0f} % | {row['server_cpu'] / n * 1000:.1f} ms "
            f"| {redis} |"
        )
    same = next((c for c in configs if c.celery and c.processes == pool.processes), None)
    if same is not None:
        share = (n / m[same.label]["span"]) / pool_rate
        extra = (m[same.label]["span"] - m[pool.label]["span"]) / n * 1000
        met = "met" if share >= TARGET_SHARE else "**NOT met**"
        lines += [
            "",
            f"Celery with {same.processes} processes reaches {share * 100:.0f} % of the local "
            f"pool's throughput with {pool.processes} (target: at least "
            f"{TARGET_SHARE * 100:.0f} %: {met}); the broker's cost beyond the pool is "
            f"{extra:+.0f} ms of wall time per submission.",
        ]
    return "\n".join(lines) + "\n"


def section(result: dict[str, Any]) -> str:
    return f"{START}\n{render(result)}{END}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--local", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    processes = tuple(int(p) for p in args.processes.split(","))
    print("scale-out benchmark ...", file=sys.stderr)
    result = measure(args.size, processes, args.local, args.runs)
    print(render(result))
    if args.out != "-":
        replace_section(Path(args.out), section(result), START, END)
        print(f"scale-out section written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
