"""``python -m bench.service``: the course's web service under a class handing in at once.

The class is the batch benchmark's (``bench/notebooks.py``: 200 notebooks generated from
``submissions/``). A course grades all the exercises of the catalogue, with a roster of one
student per notebook (``student_000``, ...) and a token each (``grader serve tokens
issue``). A real ``grader serve --workers 2`` is started in its own process group on a free
loopback port, and an ``httpx.AsyncClient`` hands in every notebook, at most 20 at a time
(``asyncio.Semaphore(20)`` around a whole submission: 20 students waiting at their screens).
Each submission is an upload (its time to the 202: the accept latency) followed by a poll of
``GET /api/submissions/<id>`` about every second until it is graded (more often than
`grader submit`, every 3 s, or the page, every 5 s). The feedback latency is the server's
own (`graded_at - received_at` of the submission), so it does not depend on the polling;
what the client saw (upload sent to graded status read) is reported beside it.

Reported: accepted submissions per second (submissions / time from the first upload's start
to the last 202), accept latency p50/p95 while the workers are saturated (every upload
after the first 20, when about 18 submissions are always queued) and, apart, of the opening
burst of 20 uploads sent at once, feedback latency p50/p95, the wall time until all are
graded and graded per second. Baseline: ``grader batch DIR --out OUT -j 2 --regrade``
with its feedback pages (the service's workers draw a page per submission too), with the
course's salt so both grade the very same instances; the service's cost per submission
(wall until all graded / submissions) is compared with the batch's (its wall /
submissions). The batch's wall includes its own start-up (interpreter, imports, worker
processes) and class page; the service is measured warm (started, then ``--settle``
seconds), as it runs all term. Also reported: the CPU time of the server's web process
(HTTP, accepting, answering polls) and of this client, which share the machine's cores with
the grading workers.

Options: ``--size N`` (200), ``--workers N`` (2), ``--concurrency N`` (20), ``--runs N``
(1; medians over runs, service and batch interleaved), ``--settle S`` (2.0), ``--out PATH``
(bench/results.md; only the section between the service markers is written or replaced;
``-`` for none). Timings are not asserted anywhere: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.notebooks import make_class
from tests.live_service import LiveService

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
RESULTS = ROOT / "bench" / "results.md"
START = "<!-- bench.service: start -->"
END = "<!-- bench.service: end -->"
ACCEPT_P95_TARGET = 0.050
COST_TARGET = 0.20
ASSIGNMENT = "hw"
SALT = "bench-service-salt"
POLL = (0.75, 1.25)
START_SECONDS = 120.0
DONE = ("graded", "failed")


# --------------------------------------------------------------------------- the course


def all_exercises() -> list[str]:
    done = subprocess.run(
        [PY, "-c", "from grader import catalogue; print('\\n'.join(catalogue.current().names()))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def write_course(directory: Path, students: list[str], per_student: int) -> Path:
    """A course with one assignment on every exercise, a roster of `students`, no practical
    rate limit, room for the largest notebook."""
    (directory / "roster.csv").write_text(
        "student_id,name\n" + "".join(f"{s},{s}\n" for s in students), encoding="utf-8"
    )
    names = ", ".join(f'"{name}"' for name in all_exercises())
    course = directory / "course.toml"
    course.write_text(
        f"""[course]
name = "Service benchmark"
salt = "{SALT}"
roster = "roster.csv"

[limits]
upload_bytes = 16777216
requests_per_minute = 1000000
ta_requests_per_minute = 1000000

[assignments.{ASSIGNMENT}]
exercises = [{names}]
deadline = 2099-01-01T00:00:00Z
late = "refuse"
max_submissions = {per_student}
""",
        encoding="utf-8",
    )
    return course


def start_server(
    directory: Path, course: Path, workers: int, args: tuple[str, ...] = ()
) -> tuple[LiveService, float]:
    """A real `grader serve` of `course` in its own process group on a free loopback port
    (the tests' `LiveService`, tokens issued for the roster and the TA `TA`), and the
    seconds it took to answer /api/health."""
    server = LiveService(directory, course, directory / "data", workers, args=args)
    server.tokens = server.issue_tokens()
    t0 = time.perf_counter()
    server.launch()
    return server, time.perf_counter() - t0


def stop_server(server: LiveService) -> None:
    """SIGTERM (its workers finish), then SIGKILL whatever is left of the process group
    (sandbox processes included)."""
    group = server.process.pid if server.process else None
    server.stop()
    if group is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- the class


@dataclass
class Trace:
    student: str
    start: float = 0.0
    accepted: float = 0.0
    done: float = 0.0
    status: str = ""
    polls: int = 0
    graded_in: float = 0.0  # the server's graded_at - received_at


@dataclass
class Drive:
    traces: list[Trace] = field(default_factory=list)
    client_cpu: float = 0.0


def upload(token: str, notebook: Path, data: bytes) -> dict[str, Any]:
    """The keyword arguments of `POST /api/submissions` handing in `notebook` (its bytes
    `data`, read beforehand so that reading is not timed) with a student's token."""
    return {
        "headers": {"Authorization": f"Bearer {token}"},
        "data": {"assignment": ASSIGNMENT},
        "files": {"file": (notebook.name, data, "application/x-ipynb+json")},
    }


async def hand_in(
    http: httpx.AsyncClient,
    gate: asyncio.Semaphore,
    token: str,
    notebook: Path,
    trace: Trace,
) -> None:
    request = upload(token, notebook, notebook.read_bytes())
    async with gate:
        trace.start = time.perf_counter()
        answer = await http.post("/api/submissions", **request)
        trace.accepted = time.perf_counter()
        if answer.status_code != 202:
            raise RuntimeError(f"{trace.student}: upload {answer.status_code}: {answer.text}")
        submission = answer.json()["id"]
        while True:
            await asyncio.sleep(random.uniform(*POLL))
            answer = await http.get(f"/api/submissions/{submission}", headers=request["headers"])
            trace.polls += 1
            if answer.status_code != 200:
                raise RuntimeError(f"{trace.student}: status {answer.status_code}: {answer.text}")
            body = answer.json()
            if body["status"] in DONE:
                trace.done, trace.status = time.perf_counter(), body["status"]
                graded_at = datetime.datetime.fromisoformat(body["graded_at"])
                received_at = datetime.datetime.fromisoformat(body["received_at"])
                trace.graded_in = (graded_at - received_at).total_seconds()
                return


async def drive(url: str, tokens: dict[str, str], notebooks: list[Path], concurrency: int):
    gate = asyncio.Semaphore(concurrency)
    traces = [Trace(path.stem) for path in notebooks]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    cpu0 = time.process_time()
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        await asyncio.gather(
            *(
                hand_in(http, gate, tokens[path.stem], path, trace)
                for path, trace in zip(notebooks, traces, strict=True)
            )
        )
    return Drive(traces, time.process_time() - cpu0)


# --------------------------------------------------------------------------- one run


def run_service(
    tmp: Path, run: int, notebooks: list[Path], workers: int, concurrency: int, settle: float
) -> dict[str, Any]:
    directory = tmp / f"service{run}"
    directory.mkdir()
    course = write_course(directory, [p.stem for p in notebooks], per_student=10)
    server, startup = start_server(directory, course, workers)
    try:
        time.sleep(settle)
        web = server.process.pid
        web_cpu0 = cpu_seconds(web)
        driven = asyncio.run(drive(server.url, server.tokens, notebooks, concurrency))
        web_cpu = cpu_seconds(web) - web_cpu0
    finally:
        stop_server(server)
    traces = driven.traces
    first = min(t.start for t in traces)
    in_order = sorted(traces, key=lambda t: t.start)
    accept = [t.accepted - t.start for t in in_order]
    feedback = [t.graded_in for t in traces]
    seen = [t.done - t.start for t in traces]
    wall = max(t.done for t in traces) - first
    return {
        "size": len(traces),
        "startup": startup,
        "accept_span": max(t.accepted for t in traces) - first,
        "accept": accept,
        "feedback": feedback,
        "seen": seen,
        "wall": wall,
        "failed": sum(t.status != "graded" for t in traces),
        "polls": sum(t.polls for t in traces),
        "web_cpu": web_cpu,
        "client_cpu": driven.client_cpu,
    }


def idle_accept(tmp: Path, notebooks: list[Path]) -> list[float]:
    """Upload to 202 of each notebook, one at a time, to a server that does not grade
    (``--workers 0``): the accept path alone, without workers competing for the cores."""
    directory = tmp / "idle"
    directory.mkdir()
    course = write_course(directory, [p.stem for p in notebooks], per_student=10)
    server, _ = start_server(directory, course, 0)
    tokens = server.tokens
    times = []
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for path in notebooks:
                request = upload(tokens[path.stem], path, path.read_bytes())
                t0 = time.perf_counter()
                answer = http.post("/api/submissions", **request)
                times.append(time.perf_counter() - t0)
                if answer.status_code != 202:
                    raise RuntimeError(f"idle upload {answer.status_code}: {answer.text}")
    finally:
        stop_server(server)
    return times


def run_batch(tmp: Path, run: int, folder: Path, workers: int) -> dict[str, Any]:
    out = tmp / f"batch{run}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [PY, "-m", "grader", "batch", str(folder), "--out", str(out), "-j", str(workers)]
    cmd += ["--regrade", "--salt", SALT]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"grader batch failed ({done.returncode}): {done.stderr[-2000:]}")
    found = re.search(r"([\d.]+) submissions/s", done.stdout + done.stderr)
    return {"wall": wall, "cli_rate": float(found.group(1)) if found else None}


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def measure(
    size: int = 200,
    workers: int = 2,
    concurrency: int = 20,
    runs: int = 1,
    settle: float = 2.0,
) -> dict[str, Any]:
    """Run the service and the batch baseline `runs` times (interleaved); the raw numbers."""
    info = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "nproc": str(os.cpu_count()),
        "load_before": loadavg(),
    }
    t0 = time.perf_counter()
    services, batches = [], []
    with tempfile.TemporaryDirectory(prefix="grader-bench-service-") as name:
        tmp = Path(name)
        folder = tmp / "class"
        notebooks = make_class(folder, size)
        print("  idle accept ...", file=sys.stderr)
        idle = idle_accept(tmp, notebooks[:50])
        for run in range(runs):
            print(f"  service run {run + 1}/{runs} ...", file=sys.stderr)
            services.append(run_service(tmp, run, notebooks, workers, concurrency, settle))
            print(f"  batch run {run + 1}/{runs} ...", file=sys.stderr)
            batches.append(run_batch(tmp, run, folder, workers))
    info["load_after"] = loadavg()
    return {
        "info": info,
        "size": size,
        "workers": workers,
        "concurrency": concurrency,
        "runs": runs,
        "settle": settle,
        "services": services,
        "idle_accept": idle,
        "batches": batches,
        "seconds": time.perf_counter() - t0,
    }


# --------------------------------------------------------------------------- the table


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def ok(passed: bool) -> str:
    return "yes" if passed else "**NO**"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def summary(result: dict[str, Any]) -> dict[str, float]:
    """Medians over the runs of each derived number."""
    rows = []
    burst = result["concurrency"]  # the first uploads, all sent at the same instant
    for s, b in zip(result["services"], result["batches"], strict=True):
        n = s["size"]
        rows.append(
            {
                "accept_rate": n / s["accept_span"],
                "accept_p50": percentile(s["accept"][burst:], 50),
                "accept_p95": percentile(s["accept"][burst:], 95),
                "accept_max": max(s["accept"][burst:]),
                "burst_p50": percentile(s["accept"][:burst], 50),
                "burst_max": max(s["accept"][:burst]),
                "feedback_p50": percentile(s["feedback"], 50),
                "feedback_p95": percentile(s["feedback"], 95),
                "seen_p50": percentile(s["seen"], 50),
                "seen_p95": percentile(s["seen"], 95),
                "wall": s["wall"],
                "graded_rate": n / s["wall"],
                "service_cost": s["wall"] / n,
                "batch_wall": b["wall"],
                "batch_cost": b["wall"] / n,
                "batch_cli_rate": b["cli_rate"] or float("nan"),
                "beyond": s["wall"] / b["wall"] - 1,
                "failed": s["failed"],
                "polls": s["polls"],
                "web_cpu": s["web_cpu"],
                "client_cpu": s["client_cpu"],
                "startup": s["startup"],
            }
        )
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def render(result: dict[str, Any]) -> str:
    """The "Service" section of bench/results.md (without the markers)."""
    m = summary(result)
    idle = result["idle_accept"]
    info, n, workers = result["info"], result["size"], result["workers"]
    c = result["concurrency"]
    median = f"median of {result['runs']}" if result["runs"] > 1 else "one run"
    rows = [
        (
            f"accepted submissions per second ({n} / first upload's start to the last 202; "
            f"at most {result['concurrency']} submissions in flight, so bounded by grading)",
            f"{m['accept_rate']:.1f}/s",
            "",
            "",
        ),
        (
            f"accept latency, upload to 202, p50 / p95 (max), while the workers are saturated "
            f"(uploads {c + 1}-{n}: each sent when a grading ends and frees a place)",
            f"{ms(m['accept_p50'])} / {ms(m['accept_p95'])} ({ms(m['accept_max'])})",
            f"p95 < {ms(ACCEPT_P95_TARGET)}",
            ok(m["accept_p95"] < ACCEPT_P95_TARGET),
        ),
        (
            f"accept latency of the opening burst (uploads 1-{c}, sent at the same instant: "
            "their durable writes queue for the disk), p50 / max",
            f"{ms(m['burst_p50'])} / {ms(m['burst_max'])}",
            "",
            "",
        ),
        (
            f"accept latency on a server that does not grade (`--workers 0`), one upload at a "
            f"time ({len(idle)} uploads), p50 / p95",
            f"{ms(percentile(idle, 50))} / {ms(percentile(idle, 95))}",
            "",
            "",
        ),
        (
            "feedback latency, upload received to result recorded (the server's clock), p50 / p95",
            f"{m['feedback_p50']:.2f} s / {m['feedback_p95']:.2f} s",
            "",
            "",
        ),
        (
            f"... as the client saw it, upload sent to graded status read (polling every "
            f"{POLL[0]}-{POLL[1]} s), p50 / p95",
            f"{m['seen_p50']:.2f} s / {m['seen_p95']:.2f} s",
            "",
            "",
        ),
        (
            f"wall until all {n} graded (first upload to the last graded seen), {workers} workers",
            f"{m['wall']:.1f} s: {m['graded_rate']:.1f} graded/s"
            + (f", {m['failed']:.0f} failed" if m["failed"] else ""),
            "",
            "",
        ),
        (
            f"baseline: `grader batch -j {workers} --regrade` of the same notebooks, with pages "
            "(end to end, start-up and class page included)",
            f"{m['batch_wall']:.1f} s: {n / m['batch_wall']:.1f}/s "
            f"(the command reports {m['batch_cli_rate']:.1f}/s)",
            "",
            "",
        ),
        (
            "cost per submission: service (wall until all graded / n) vs batch (wall / n)",
            f"{ms(m['service_cost'])} vs {ms(m['batch_cost'])}: {m['beyond'] * 100:+.0f} %",
            f"< +{COST_TARGET * 100:.0f} %",
            ok(m["beyond"] < COST_TARGET),
        ),
        (
            "CPU of the server's web process (uvicorn: uploads, accepting, status polls) / of "
            "this client, during the run",
            f"{m['web_cpu']:.1f} s ({m['web_cpu'] / m['wall'] * 100:.0f} % of a core) / "
            f"{m['client_cpu']:.1f} s ({m['client_cpu'] / m['wall'] * 100:.0f} %); "
            f"{n} uploads, {m['polls']:.0f} polls",
            "",
            "",
        ),
        (
            "server start-up (`grader serve` to /api/health answering; not in the wall above)",
            f"{m['startup']:.1f} s",
            "",
            "",
        ),
    ]
    lines = [
        "## Service",
        "",
        "Produced by `python -m bench.service` (or `python -m bench`; see `bench/service.py`)."
        f" {n} notebooks (the class of (b)), one per student, a course grading every "
        f"exercise; `grader serve --workers {workers}` on loopback, an asyncio httpx client "
        f"with at most {result['concurrency']} submissions in flight (upload, then poll "
        f"until graded); the service measured warm ({result['settle']:.0f} s after it "
        f"answered); {median}. Machine: {info['nproc']} cores, load average before "
        f"{info['load_before']}, after {info['load_after']}; {info['date']}; "
        f"the whole benchmark took {result['seconds']:.0f} s.",
        "",
        "| measurement | result | target | met |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines) + "\n"


def section(result: dict[str, Any]) -> str:
    """The section with its markers, as it goes into bench/results.md."""
    return f"{START}\n{render(result)}{END}\n"


def existing_section(path: Path, start: str = START, end: str = END) -> str:
    """The section between `start` and `end` already in `path` (markers included), or ''."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    first, last = text.find(start), text.find(end)
    if first < 0 or last < first:
        return ""
    return text[first : last + len(end)] + "\n"


def replace_section(path: Path, new: str, start: str = START, end: str = END) -> None:
    """Write `new` (a section marked by `start` and `end`) into `path`, replacing the old
    one or appended."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = "# Benchmark results\n"
    first, last = text.find(start), text.find(end)
    if first >= 0 and last > first:
        rest = text[last + len(end) :]
        text = text[:first] + new + rest.removeprefix("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + new
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.service")
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.size < args.concurrency + 2:
        parser.error(
            "--size must exceed --concurrency by 2 or more: the uploads after the "
            "first --concurrency are the ones measured while the workers are busy"
        )
    print("service benchmark ...", file=sys.stderr)
    result = measure(args.size, args.workers, args.concurrency, args.runs, args.settle)
    print(render(result))
    if args.out != "-":
        replace_section(Path(args.out), section(result))
        print(f"service section written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
