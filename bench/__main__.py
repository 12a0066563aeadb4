"""``python -m bench``: the performance table of issue 7, printed and written to bench/results.md.

(a) ``grader check`` of a notebook holding all 12 exercises, end to end as a subprocess
    (interpreter start included), median of N runs, against the bare baseline
    (``bench/baseline.py``: the same student code and the same reference comparisons in one
    plain Python process, no isolation); also printing to a pseudo-terminal (coloured and
    wrapped lines; the main row's output is not a terminal) and with a fresh interpreter per
    sandbox child (``GRADER_SANDBOX_ZYGOTE=0``, what it did before the fork server);
(b) ``grader batch`` of 200 notebooks generated from ``submissions/`` with 2 workers (or a
    ProcessPoolExecutor over ``grader.engine.grade`` when ``grader batch`` is missing):
    submissions per second without pages (``--no-pages``: the grading alone, what the 20/s
    target is about) and with them (the default: a feedback page per student, drawn by the
    workers, and the class page), and the per-submission cost against the baseline;
(c) gradient-check scaling: ``deep_network`` graded with ~100, ~10,000 and ~100,000
    parameters (``bench/gradscale.py``);
(d) peak RSS of the batch's processes (sampled from /proc during the batch runs);
(e) the web service (``bench/service.py``): a real ``grader serve`` with the same workers
    taking the same class from an asyncio client, 20 submissions in flight, against
    ``grader batch`` with pages; its own "Service" section of results.md, between markers.

The scale-out benchmark (Celery and Redis, ``python -m bench.scale``) needs a redis-server
and is run on its own; its section of results.md is kept as it is.

Options: ``--runs N`` (check runs, default 7), ``--batch N`` (class size, 200),
``--workers N`` (2), ``--batch-runs N`` (3), ``--quick`` (fewer runs), ``--no-fresh`` (skip
the fresh-start comparisons), ``--no-service`` (skip (e); the Service section already in
the results file is kept), ``--out PATH`` (bench/results.md; ``-`` for none).
Timings are medians; the machine is described in the output (nproc, load, versions).
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import json
import os
import platform
import pty
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import gradscale
from bench import service as service_bench
from bench.memory import Sampler
from bench.notebooks import SLOW_BY_DESIGN, make_class

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "submissions" / "correct_notebook.ipynb"
PY = sys.executable
CHECK_TARGET, RATIO_TARGET, RATE_TARGET, RSS_TARGET = 1.0, 3.0, 20.0, 300.0


def env(**changes: str) -> dict[str, str]:
    out = dict(os.environ)
    out.update(changes)
    return out


def timed(cmd: list[str], environ: dict[str, str] | None = None, terminal: bool = False) -> float:
    """Wall seconds of one run; ``terminal``: its standard output is a pseudo-terminal."""
    leader, follower = pty.openpty() if terminal else (-1, -1)
    drain = threading.Thread(target=drain_terminal, args=(leader,), daemon=True)
    if terminal:
        drain.start()
    t0 = time.perf_counter()
    done = subprocess.run(
        cmd,
        cwd=ROOT,
        env=environ,
        stdout=follower if terminal else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    elapsed = time.perf_counter() - t0
    if terminal:
        os.close(follower)
        drain.join()
        os.close(leader)
    if done.returncode not in (0, 1):  # grader check exits 1 when a function fails
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def drain_terminal(leader: int) -> None:
    """Read a pseudo-terminal until its other end is closed (else the writer would block)."""
    while True:
        try:
            if not os.read(leader, 65536):
                return
        except OSError:
            return


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> dict[str, str]:
    import numpy

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    probe = subprocess.run(
        [
            PY,
            "-c",
            "from grader.sandbox import describe_isolation as d; i = d(); "
            "print(i.mode); print(i.details.get('spawn', ''))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    mode, _, spawn = probe.stdout.strip().partition("\n")
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "kernel": platform.release(),
        "isolation": mode or "?",
        "children": spawn,
        "load_before": loadavg(),
    }


# --------------------------------------------------------------------------- (a)


def check_latency(runs: int, fresh: bool) -> dict[str, Any]:
    check = [PY, "-m", "grader", "check", str(NOTEBOOK)]
    baseline = [PY, str(ROOT / "bench" / "baseline.py"), str(NOTEBOOK)]
    variants = {
        "check": (check, None, False),
        "baseline": (baseline, None, False),
        "check_terminal": (check, None, True),
    }
    if fresh:
        variants["check_fresh"] = (check, env(GRADER_SANDBOX_ZYGOTE="0"), False)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for cmd, environ, terminal in variants.values():
        timed(cmd, environ, terminal)  # warm the page cache
    for _ in range(runs):  # interleaved, so that a burst of load hits every variant alike
        for name, (cmd, environ, terminal) in variants.items():
            times[name].append(timed(cmd, environ, terminal))
    return {name: statistics.median(values) for name, values in times.items()} | {"runs": runs}


# --------------------------------------------------------------------------- (b), (d)


def batch_available() -> bool:
    done = subprocess.run(
        [PY, "-m", "grader", "batch", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    return done.returncode == 0


def run_batch(
    folder: Path,
    out: Path,
    workers: int,
    environ: dict[str, str] | None,
    cli: bool,
    pages: bool = False,
):
    """One batch run; returns (wall seconds, the CLI's own rate or None, memory peaks).
    `pages`: with the feedback pages (the command's default), else ``--no-pages``."""
    shutil.rmtree(out, ignore_errors=True)
    if cli:
        cmd = [PY, "-m", "grader", "batch", str(folder), "--out", str(out)]
        cmd += ["--workers", str(workers)] + ([] if pages else ["--no-pages"])
    else:
        cmd = [PY, "-m", "bench.poolbatch", str(folder), "--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = Sampler(proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    peaks = sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"batch failed ({proc.returncode}): {stderr[-2000:]}")
    rate = None
    found = re.search(r"([\d.]+) submissions/s", stdout)
    if found:
        rate = float(found.group(1))
    return wall, rate, peaks


def baseline_per_submission(folder: Path) -> float:
    code = (
        "import sys, time, statistics\n"
        "from pathlib import Path\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from bench.baseline import run_one\n"
        "from exercises import derive_seed\n"
        "paths = sorted(Path(sys.argv[2]).glob('*.ipynb'))\n"
        "run_one(paths[0])\n"
        "t0 = time.perf_counter()\n"
        "for p in paths:\n"
        "    run_one(p, derive_seed(p.stem, ''))\n"
        "print((time.perf_counter() - t0) / len(paths))\n"
    )
    done = subprocess.run(
        [PY, "-c", code, str(ROOT), str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def sequential(folder: Path, environ: dict[str, str] | None, limit: int) -> dict[str, Any]:
    """``grade()`` in a loop in one process: mean seconds per submission, and the part of it
    spent inside the Sandbox API."""
    done = subprocess.run(
        [PY, "-m", "bench.poolbatch", str(folder), "--workers", "0", "--limit", str(limit)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def spawn_cost(environ: dict[str, str] | None) -> dict[str, dict[str, float]]:
    done = subprocess.run(
        [PY, "-m", "bench.spawncost", "--runs", "20"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def batch(size: int, workers: int, runs: int, fresh: bool) -> dict[str, Any]:
    cli = batch_available()
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        folder = Path(tmp) / "class"
        make_class(folder, size)
        walls: dict[bool, list[float]] = {False: [], True: []}
        rates: dict[bool, list[float]] = {False: [], True: []}
        peaks: dict[bool, dict[str, float]] = {False: {}, True: {}}
        variants = (False, True) if cli else (False,)
        for i in range(runs):  # interleaved, so that a burst of load hits both alike
            for pages in variants:
                out = Path(tmp) / f"out{i}{'p' if pages else ''}"
                wall, rate, got = run_batch(folder, out, workers, None, cli, pages)
                walls[pages].append(wall)
                if rate is not None:
                    rates[pages].append(rate)
                for kind, value in got.items():
                    peaks[pages][kind] = max(peaks[pages].get(kind, 0.0), value)
        result: dict[str, Any] = {
            "cli": cli,
            "size": size,
            "workers": workers,
            "runs": runs,
            "wall": statistics.median(walls[False]),
            "cli_rate": statistics.median(rates[False]) if rates[False] else None,
            "peaks": peaks[False],
            "pages_wall": statistics.median(walls[True]) if walls[True] else None,
            "pages_cli_rate": statistics.median(rates[True]) if rates[True] else None,
            "pages_peaks": peaks[True],
            "baseline_per_submission": baseline_per_submission(folder),
            "sequential": sequential(folder, None, 60),
            "spawn": spawn_cost(None),
        }
        if fresh:
            wall, rate, _ = run_batch(
                folder, Path(tmp) / "fresh", workers, env(GRADER_SANDBOX_ZYGOTE="0"), cli
            )
            fresh_env = env(GRADER_SANDBOX_ZYGOTE="0")
            result |= {
                "fresh_wall": wall,
                "fresh_cli_rate": rate,
                "fresh_sequential": sequential(folder, fresh_env, 40),
                "fresh_spawn": spawn_cost(fresh_env),
            }
    return result


# --------------------------------------------------------------------------- table


def ok(passed: bool) -> str:
    return "yes" if passed else "**NO**"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def render(info: dict[str, str], a: dict[str, Any], b: dict[str, Any], c: list[Any]) -> str:
    rows: list[tuple[str, str, str, str]] = []
    ratio = a["check"] / a["baseline"]
    rows += [
        (
            f"(a) `grader check` of a notebook with all 12 exercises, end to end "
            f"(median of {a['runs']})",
            f"{a['check']:.2f} s",
            f"<= {CHECK_TARGET:.1f} s",
            ok(a["check"] <= CHECK_TARGET),
        ),
        (
            "(a) bare baseline: same student code, same reference comparisons, one plain process",
            f"{a['baseline']:.2f} s",
            "",
            "",
        ),
        ("(a) ratio check / baseline", f"{ratio:.2f}x", f"<= {RATIO_TARGET:.0f}x", ok(ratio <= 3)),
        (
            "(a) the same check printing to a terminal (coloured lines, wrapped to its width)",
            f"{a['check_terminal']:.2f} s ({a['check_terminal'] / a['baseline']:.2f}x)",
            "",
            "",
        ),
    ]
    if "check_fresh" in a:
        rows.append(
            (
                "(a) `grader check` with a fresh interpreter per child (GRADER_SANDBOX_ZYGOTE=0)",
                f"{a['check_fresh']:.2f} s ({a['check_fresh'] / a['baseline']:.2f}x)",
                "",
                "",
            )
        )
    rate = b["size"] / b["wall"]
    how = "`grader batch`" if b["cli"] else "ProcessPoolExecutor over grader.engine.grade"
    cli_rate = f"; the command reports {b['cli_rate']:.1f}/s" if b["cli_rate"] else ""
    rows.append(
        (
            f"(b) {how} of {b['size']} notebooks, {b['workers']} workers, end to end, "
            f"without pages (`--no-pages`: the grading; median of {b['runs']})",
            f"{rate:.1f} submissions/s ({b['wall']:.1f} s{cli_rate})",
            f">= {RATE_TARGET:.0f}/s",
            ok(rate >= RATE_TARGET),
        )
    )
    if "fresh_wall" in b:
        fresh_rate = b["size"] / b["fresh_wall"]
        rows.append(
            (
                "(b) the same with a fresh interpreter per child (GRADER_SANDBOX_ZYGOTE=0)",
                f"{fresh_rate:.1f} submissions/s ({b['fresh_wall']:.1f} s)",
                "",
                "",
            )
        )
    if b.get("pages_wall"):
        pages_rate = b["size"] / b["pages_wall"]
        pages_cli = (
            f"; the command reports {b['pages_cli_rate']:.1f}/s" if b["pages_cli_rate"] else ""
        )
        extra = (b["pages_wall"] - b["wall"]) / b["size"]
        rows += [
            (
                "(b) the first batch with pages (the default: a page per student with the "
                "figures of its failing functions, drawn by the workers, and the class page)",
                f"{pages_rate:.1f} submissions/s ({b['pages_wall']:.1f} s{pages_cli})",
                "",
                "",
            ),
            (
                "(b) what pages add per submission (wall with pages - without, / submissions; "
                "x workers: the time of a worker)",
                f"{ms(extra)} of wall time, {ms(extra * b['workers'])} of a worker's",
                "",
                "",
            ),
        ]
    per_worker = b["wall"] * b["workers"] / b["size"]
    base = b["baseline_per_submission"]
    seq = b["sequential"]
    rows += [
        (
            "(b) per submission: bare baseline, in one process (student code + comparisons)",
            ms(base),
            "",
            "",
        ),
        (
            "(b) per submission: grader in one process, isolated (`grade()` in a loop)",
            f"{ms(seq['mean_seconds'])} (+{ms(seq['mean_seconds'] - base)}), of which "
            f"{ms(seq['in_sandbox_seconds'])} inside the sandbox API (student code, "
            "isolation, transport), the rest in the grader's checks",
            "",
            "",
        ),
        (
            "(b) per submission and worker in the batch (wall x workers / submissions)",
            f"{ms(per_worker)} (+{ms(per_worker - base)} over the baseline)",
            "",
            "",
        ),
    ]
    if "fresh_sequential" in b:
        fresh_seq = b["fresh_sequential"]["mean_seconds"]
        rows.append(
            (
                "(b) per submission: grader in one process, fresh interpreter per child",
                f"{ms(fresh_seq)} (+{ms(fresh_seq - base)})",
                "",
                "",
            )
        )
    for mode, cost in b["spawn"].items():
        fresh = b.get("fresh_spawn", {}).get(mode)
        was = f"; fresh interpreter: {cost_text(fresh)}" if fresh else ""
        rows.append(
            (
                f"(b) isolation alone, {mode} mode: start a sandbox + load a submission + close",
                f"forked: {cost_text(cost)}{was}",
                "",
                "",
            )
        )
    rows += gradient_rows(c)
    peaks = b["peaks"]
    with_pages = b.get("pages_peaks", {}).get("worker", 0)
    worst = max(peaks.get("worker", 0), with_pages)
    rows.append(
        (
            "(d) peak RSS of a batch worker (VmHWM, sampled from /proc)",
            f"{peaks.get('worker', 0):.0f} MB"
            + (f" (with pages, matplotlib loaded: {with_pages:.0f} MB)" if with_pages else ""),
            f"<= {RSS_TARGET:.0f} MB",
            ok(0 < worst <= RSS_TARGET),
        )
    )
    kinds = [k for k in ("zygote", "sandbox", "main", "helper") if k in peaks]
    others = ", ".join(f"{kind} {peaks[kind]:.0f} MB" for kind in kinds)
    rows.append(("(d) peak RSS of the other processes of the batch", others, "", ""))
    lines = ["| measurement | result | target | met |", "| --- | --- | --- | --- |"]
    lines += [f"| {m} | {r} | {t} | {k} |" for m, r, t, k in rows]
    machine_line = (
        f"Machine: {info['nproc']} cores ({info['cpu']}), Linux {info['kernel']}, "
        f"Python {info['python']}, numpy {info['numpy']}; isolation: {info['isolation']} "
        f"({info['children']}); load average before {info['load_before']}, "
        f"after {info['load_after']}; {info['date']}."
    )
    notes = (
        f"Class for (b): {b['size']} notebooks generated from `submissions/` (every sample in "
        f"turn, .py samples split into one cell per top-level statement), without "
        f"{', '.join(SLOW_BY_DESIGN)}, which spends its 5 s call limit by design. "
        "(c): passes = the answer key's forward/backward during grading (timed here) + the "
        "student's (timed inside the sandbox, where numpy runs on one thread); sandbox "
        "transport = the time in `Sandbox.call_many` minus the student's passes (sending the "
        "arrays both ways); the grader's own work = the rest (random directions, stencil "
        "points, projections, comparisons). Why diff <= passes fails: diff - passes is the "
        "transport and the grader's own work at 100k minus the whole grading at 100 "
        "parameters, so it would need a few sweeps over 100,000 parameters to cost less than "
        "grading the small network. They cost more: drawing one random direction over 100k "
        "parameters (0.2 ms) costs about as much as a forward pass (0.3 ms at m=64), and the "
        "parameters and the gradient cross the process boundary for every instance. Both "
        "grow linearly with the parameters, like the passes (the 10k row): nothing is paid "
        "per parameter and pass, as one finite difference per parameter would."
    )
    return "\n".join([machine_line, "", *lines, "", notes, ""])


def compile_bytecode() -> None:
    """Write the bytecode caches of our packages, as an installed package has them.

    pip compiles them when it installs a wheel, and an editable install writes them on first
    import, unless PYTHONDONTWRITEBYTECODE is set (as on this machine): then every command
    would recompile ~10,000 lines of the grader (about 40 ms), a cost no real user pays.
    """
    for package in ("grader", "exercises", "reference", "bench"):
        compileall.compile_dir(ROOT / package, quiet=1)


def gradient_rows(c: list[Any]) -> list[tuple[str, str, str, str]]:
    rows = [
        (
            f"(c) grade `deep_network`, {row.params:,} parameters "
            f"(layers {row.widths}, m={row.m}, {gradscale.INSTANCES} instances)",
            f"{ms(row.grading)}: passes {ms(row.reference_passes + row.student_passes)}, "
            f"sandbox transport {ms(row.sandbox_calls)}, the grader's own work {ms(row.rest)}"
            + ("" if row.passed else " (FAILED)"),
            "",
            "",
        )
        for row in c
    ]
    small, middle, large = c[0], c[len(c) // 2], c[-1]
    passes = large.reference_passes + large.student_passes
    delta = large.grading - small.grading
    grew = (large.grading - small.grading) / max(middle.grading - small.grading, 1e-9)
    sizes = (large.params - small.params) / (middle.params - small.params)
    rows += [
        (
            "(c) difference 100k - 100 parameters vs the forward/backward passes at 100k",
            f"{ms(delta)} vs {ms(passes)}: passes "
            f"{ms(passes - small.reference_passes - small.student_passes)}, sandbox transport "
            f"{ms(large.sandbox_calls - small.sandbox_calls)}, the grader's own work "
            f"{ms(large.rest - small.rest)}",
            "diff <= passes",
            ok(delta <= passes),
        ),
        (
            "(c) the same in forward passes of the 100k network (one: "
            f"{large.forward * 1000:.2f} ms)",
            f"{delta / large.forward:.0f} forward passes for {gradscale.INSTANCES} instances "
            f"(one central difference per parameter: {2 * large.params * gradscale.INSTANCES:,})",
            "",
            "",
        ),
        (
            f"(c) growth from {middle.params:,} to {large.params:,} parameters "
            f"({sizes:.1f}x more, counted from {small.params})",
            f"grading cost beyond the 100-parameter case grew {grew:.1f}x: linear in the "
            "parameters, like one pass",
            "",
            "",
        ),
        (
            "(c) one central difference per parameter instead (estimate at 100k)",
            f"{large.per_parameter_estimate:.0f} s",
            "",
            "",
        ),
    ]
    return rows


def cost_text(cost: dict[str, float]) -> str:
    return f"{cost['start_and_load_ms']:.0f} + {cost['close_ms']:.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-fresh", action="store_true")
    parser.add_argument("--no-service", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.batch_runs = 3, 1
    fresh = not args.no_fresh
    compile_bytecode()
    info = machine()
    print(f"machine: {info}", file=sys.stderr)
    print("(a) check latency ...", file=sys.stderr)
    a = check_latency(args.runs, fresh)
    print("(b, d) batch ...", file=sys.stderr)
    b = batch(args.batch, args.workers, args.batch_runs, fresh)
    print("(c) gradient-check scaling ...", file=sys.stderr)
    c = gradscale.measure(3 if args.quick else 7)
    info["load_after"] = loadavg()
    table = render(info, a, b, c)
    print(table)
    if args.no_service:
        service = "" if args.out == "-" else service_bench.existing_section(Path(args.out))
    else:
        print("(e) service ...", file=sys.stderr)
        measured = service_bench.measure(args.batch, args.workers)
        print(service_bench.render(measured))
        service = service_bench.section(measured)
    if args.out != "-":
        header = (
            "# Benchmark results\n\n"
            "Produced by `python -m bench` (see `bench/__main__.py` for what each row "
            "measures).\n\n"
        )
        from bench import scale

        kept = service_bench.existing_section(Path(args.out), scale.START, scale.END)
        tail = "".join(f"\n{part}" for part in (service, kept) if part)
        Path(args.out).write_text(header + table + tail, encoding="utf-8")
        print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
