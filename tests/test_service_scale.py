"""Grading through Celery and Redis, with the real thing: a real `redis-server` (append-only,
fsync on every write) on a free loopback port, real `grader worker` processes (Celery
workers), and a real `grader serve --broker`. No fake broker and no eager mode.

- Submissions are graded by the workers (both take part) with the same result as the
  local engine, and only JSON crosses the broker (a task read raw off the Redis list).
- A worker process SIGKILLed in the middle of a grade: another process grades the
  submission, and exactly one result is recorded.
- Redis killed and restarted while submissions wait in its queue: every one is graded.
- A worker whose packs differ from the server's refuses the tasks, says why in its log, and
  the submission ends `failed` with that reason instead of being graded by other rules.
- A submission whose grading kills its worker every time ends `failed` after 3 attempts.
- One course's backlog does not hold up another course's submission (per-course queues).
- /metrics reports the workers alive and the queue.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.service.store import Store
from tests.live_redis import CeleryWorker, RedisServer, require_redis
from tests.live_service import SAMPLES, TA, LiveService

ROOT = Path(__file__).resolve().parents[1]
ROSTER = "student_id,name\n" + "".join(f"s{i:03d},Student {i}\n" for i in range(1, 13))
COURSE = """
[course]
name = "{name}"
salt = "scale-salt"
roster = "roster.csv"

[limits]
upload_bytes = 1000000
requests_per_minute = 100000

[assignments.hw1]
exercises = ["chain_rule", "activations"]
deadline = 2099-01-01T00:00:00Z
max_submissions = 100
"""
SLOW_SECONDS = 2.5
WAIT = 120.0


def course(name: str) -> str:
    return COURSE.format(name=name)


def queue_of(name: str) -> str:
    return "grader." + name.lower().replace(" ", "-")


def slow_submission(directory: Path) -> Path:
    """correct.py that sleeps at import: long enough to be killed while being graded."""
    path = directory / "slow.py"
    path.write_text(
        f"import time\ntime.sleep({SLOW_SECONDS})\n" + (SAMPLES / "correct.py").read_text()
    )
    return path


def wait_for(predicate, timeout: float = WAIT, what: str = "a condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def results_of(server: LiveService, submission_id: str):
    with Store(server.data_dir) as store:
        return store.results(submission_id)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    require_redis()
    server = RedisServer.start(tmp_path_factory.mktemp("redis"))
    yield server
    server.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis_server):
    """A server grading through Celery, and two worker processes on its queue."""
    directory = tmp_path_factory.mktemp("cluster")
    name = "Scale course"
    workers = [
        CeleryWorker.start(directory / "workers", redis_server.url, queue_of(name))
        for _ in range(2)
    ]
    server = LiveService.start(
        directory / "serve",
        course=course(name),
        roster=ROSTER,
        workers=0,
        args=("--broker", redis_server.url),
    )
    yield server, workers
    server.stop()
    for worker in workers:
        worker.stop()


def submit(server: LiveService, http, student: str, path: Path) -> str:
    answer = server.upload(http, student, "hw1", path)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def test_workers_grade_as_the_engine_would(cluster):
    from grader.assignment import Assignment
    from grader.engine import GradeOptions, grade

    server, workers = cluster
    files = [SAMPLES / "correct.py", SAMPLES / "bug_relu_grad_at_zero.py"] * 3
    with server.client() as http:
        ids = [submit(server, http, f"s{i + 1:03d}", path) for i, path in enumerate(files)]
        done = [server.wait_done(http, sid, f"s{i + 1:03d}") for i, sid in enumerate(ids)]
    for i, (path, answer) in enumerate(zip(files, done, strict=True)):
        expected = grade(
            path,
            GradeOptions(
                assignment=Assignment(("chain_rule", "activations"), name="hw1"),
                student_id=f"s{i + 1:03d}",
                course_salt="scale-salt",
            ),
        )
        assert answer["status"] == "graded"
        assert (answer["score"], answer["max_score"]) == (expected.score, expected.max_score)
    assert done[0]["score"] == done[0]["max_score"] and done[1]["score"] < done[1]["max_score"]
    for worker in workers:  # prefetch 1: both workers took part
        assert "graded" in worker.text(), worker.text()


def test_only_json_crosses_the_broker(tmp_path, redis_server):
    """A task left on a queue nobody consumes, read raw off Redis: JSON, no pickle."""
    name = "Idle course"
    server = LiveService.start(
        tmp_path,
        course=course(name),
        roster=ROSTER,
        workers=0,
        args=("--broker", redis_server.url),
    )
    try:
        with server.client() as http:
            submission_id = submit(server, http, "s001", SAMPLES / "correct.py")
        client = redis_server.client()
        raw = wait_for(lambda: client.lrange(queue_of(name), 0, -1), what="the queued task")
        message = json.loads(raw[0])
        assert message["content-type"] == "application/json"
        assert message["headers"]["id"] == f"{submission_id}-0"
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        task = args[0]
        assert task["submission_id"] == submission_id and kwargs == {}
        assert base64.b64decode(task["content_b64"]) == (SAMPLES / "correct.py").read_bytes()
        assert b"pickle" not in raw[0] and not raw[0].startswith(b"\x80")
    finally:
        server.stop()
        redis_server.client().delete(queue_of(name))


def test_a_worker_killed_mid_grade_loses_nothing_and_doubles_nothing(cluster, tmp_path):
    server, workers = cluster
    with server.client() as http:
        submission_id = submit(server, http, "s010", slow_submission(tmp_path))

        def grading():
            for worker in workers:
                pid = worker.grading_pid(submission_id, attempt=1)
                if pid:
                    return pid
            return None

        pid = wait_for(grading, what="a worker to start grading")
        os.kill(pid, signal.SIGKILL)
        done = server.wait_done(http, submission_id, "s010")
    assert done["status"] == "graded" and done["score"] == done["max_score"]
    assert any(w.grading_pid(submission_id, attempt=2) for w in workers)
    results = results_of(server, submission_id)
    assert len(results) == 1 and results[0].status == "graded"


def test_a_submission_that_kills_its_worker_every_time_fails_after_three(cluster, tmp_path):
    server, workers = cluster
    with server.client() as http:
        submission_id = submit(server, http, "s011", slow_submission(tmp_path))
        for attempt in (1, 2, 3):

            def grading(attempt=attempt):
                for worker in workers:
                    pid = worker.grading_pid(submission_id, attempt=attempt)
                    if pid:
                        return pid
                return None

            os.kill(wait_for(grading, what=f"attempt {attempt}"), signal.SIGKILL)
        done = server.wait_done(http, submission_id, "s011")
    assert done["status"] == "failed"
    assert "interrupted 3 times" in done["error"]
    assert any("giving up on submission " + submission_id in w.text() for w in workers)


def test_metrics_show_the_workers_and_the_queue(cluster):
    server, _ = cluster
    with server.client() as http:

        def two_alive():
            text = http.get("/metrics").text
            return "grader_workers_alive 2" in text and text

        text = wait_for(two_alive, timeout=30, what="/metrics to show 2 workers")
        assert "grader_queue_depth 0" in text
        assert 'grader_submissions{status="graded"}' in text
        health = http.get("/api/health").json()
        assert health["workers_alive"] == 2
        login = http.get("/")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
        http.post("/login", data={"token": server.tokens[TA], "csrf": csrf})
        dashboard = http.get("/")
        assert "Dashboard" in dashboard.text
        assert "2 grading processes alive" in dashboard.text
        assert "0 waiting in the broker's queue" in dashboard.text


def test_a_worker_with_other_rules_refuses(tmp_path, redis_server):
    """A worker whose built-in pack differs by one byte refuses; the submission fails with
    the reason rather than being graded by other rules."""
    copy = tmp_path / "other-grader"
    for package in ("grader", "exercises", "reference"):
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    declaration = copy / "exercises" / "ex01_chain_rule.py"
    declaration.write_text(declaration.read_text() + "\n# a later version of the pack\n")
    name = "Rules course"
    worker = CeleryWorker.start(
        tmp_path / "workers", redis_server.url, queue_of(name), env={"PYTHONPATH": str(copy)}
    )
    server = LiveService.start(
        tmp_path / "serve",
        course=course(name),
        roster=ROSTER,
        workers=0,
        args=("--broker", redis_server.url),
    )
    try:
        with server.client() as http:
            submission_id = submit(server, http, "s001", SAMPLES / "correct.py")
            done = server.wait_done(http, submission_id, "s001")
        assert done["status"] == "failed"
        assert "packs differ from the server's" in done["error"]
        assert f"refusing submission {submission_id}" in worker.text()
        assert "packs differ" in worker.text()
        assert all(r.status != "graded" for r in results_of(server, submission_id))
    finally:
        server.stop()
        worker.stop()


def test_redis_restarted_with_submissions_queued(tmp_path):
    """Submissions wait in Redis (no worker yet); Redis is SIGKILLed and started again on
    its append-only file; then a worker comes, and every one is graded once."""
    require_redis()
    redis_server = RedisServer.start(tmp_path / "redis")
    name = "Restart course"
    server = LiveService.start(
        tmp_path / "serve",
        course=course(name),
        roster=ROSTER,
        workers=0,
        args=("--broker", redis_server.url),
    )
    worker = None
    try:
        with server.client() as http:
            ids = [submit(server, http, f"s{i:03d}", SAMPLES / "correct.py") for i in (1, 2, 3)]
            client = redis_server.client()
            wait_for(lambda: client.llen(queue_of(name)) == 3, what="3 tasks in the queue")
            redis_server.restart()
            assert redis_server.client().llen(queue_of(name)) == 3
            later = submit(server, http, "s004", SAMPLES / "correct.py")  # server reconnects
            worker = CeleryWorker.start(tmp_path / "workers", redis_server.url, queue_of(name))
            for i, submission_id in enumerate([*ids, later]):
                done = server.wait_done(http, submission_id, f"s{i + 1:03d}")
                assert done["status"] == "graded" and done["score"] == done["max_score"]
        for submission_id in [*ids, later]:
            assert len(results_of(server, submission_id)) == 1
    finally:
        server.stop()
        if worker is not None:
            worker.stop()
        redis_server.kill()


def test_one_course_backlog_does_not_hold_up_another(tmp_path, redis_server):
    """One worker process serves two courses' queues; a backlog of 6 slow submissions in
    one does not make the other course's one submission wait for all of them."""
    busy, quiet = "Busy course", "Quiet course"
    servers = {
        name: LiveService.start(
            tmp_path / name.split()[0],
            course=course(name),
            roster=ROSTER,
            workers=0,
            args=("--broker", redis_server.url),
        )
        for name in (busy, quiet)
    }
    worker = None
    try:
        slow = slow_submission(tmp_path)
        with servers[busy].client() as http:
            for i in range(1, 7):
                submit(servers[busy], http, f"s{i:03d}", slow)
        client = redis_server.client()
        wait_for(lambda: client.llen(queue_of(busy)) == 6, what="the backlog in its queue")
        with servers[quiet].client() as http:
            urgent = submit(servers[quiet], http, "s001", SAMPLES / "correct.py")
            worker = CeleryWorker.start(
                tmp_path / "workers", redis_server.url, f"{queue_of(busy)},{queue_of(quiet)}"
            )
            servers[quiet].wait_done(http, urgent, "s001")
        left = client.llen(queue_of(busy))
        assert left >= 3, f"the quiet course waited until only {left} of 6 were left"
    finally:
        for server in servers.values():
            server.stop()
        if worker is not None:
            worker.stop()
        redis_server.client().delete(queue_of(busy))


def test_broker_passwords_never_reach_the_logs():
    from grader.service.tasks import without_password

    assert without_password("redis://:s3cret@10.0.0.5:6379/0") == "redis://:***@10.0.0.5:6379/0"
    assert without_password("redis://grader:pw@host/1") == "redis://grader:***@host/1"
    assert without_password("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_the_scale_benchmark_runs_with_1_2_and_4_worker_processes(tmp_path):
    """The benchmark of docs/scaling.md, on a small class: every configuration grades the
    whole class through real Celery workers (no timing is asserted)."""
    require_redis()
    out = tmp_path / "results.md"
    out.write_text("# Benchmark results\n\nkept\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--size", "6", "--processes", "1,2,4"]
        + ["--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results\n\nkept\n")  # the rest of the file is kept
    row = r"^\| (local pool|Celery \+ Redis), (\d) process(?:es)? \| ([^|]+)\|"
    rows = re.findall(row, text, re.M)
    assert [(kind, n) for kind, n, _ in rows] == [
        ("local pool", "2"),
        ("Celery + Redis", "1"),
        ("Celery + Redis", "2"),
        ("Celery + Redis", "4"),
    ]
    assert all("failed" not in rate and float(rate) > 0 for _, _, rate in rows)
