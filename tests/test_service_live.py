"""The real `grader serve`, started as a subprocess (tests/live_service.py), under the
failures a course server meets, and the clients that talk to it.

- Durability: a burst of uploads from 8 threads, the whole server SIGKILLed in the middle
  of it, then started again on the same data: every acknowledged (202) submission is there
  with exactly the bytes sent, is graded once (one result in the store), and nothing of the
  killed server's process group survives.
- A server whose main process alone is SIGKILLed leaves no worker behind (they see the
  pool's pipe close and leave).
- A grading worker SIGKILLed mid-grading is replaced, and its submission graded on the
  second attempt.
- SIGTERM stops the server cleanly (exit code 0), after the submission being graded is
  graded, leaving no process of its group.
- `grader submit` (exit codes 0/1/2, its messages, --no-wait, GRADER_URL/GRADER_TOKEN) and
  `from grader import submit` against a live server.
- The command line's errors: `grader serve` without a course or with a bad course file,
  `grader serve tokens issue` for someone not on the roster, and its --out file's mode.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import re
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from grader.service.store import Store
from tests.live_service import SAMPLES, TA, LiveService, free_port, grader_command
from tests.service_helpers import COURSE, ROSTER, write_course

ROOT = Path(__file__).resolve().parents[1]
UNLIMITED_COURSE = COURSE.replace(
    "upload_bytes = 100000", "upload_bytes = 100000\nrequests_per_minute = 100000"
)
"""The tests' course, with a request budget that a burst of uploads does not exhaust."""
assert UNLIMITED_COURSE != COURSE
STUDENTS = [f"s{n:03d}" for n in range(1, 11)]
ROSTER_10 = "student_id,name\n" + "".join(f"{s},Student {s}\n" for s in STUDENTS)
CORRECT = SAMPLES / "correct.py"
CORRECT_NOTEBOOK = SAMPLES / "correct_notebook.ipynb"
BUGGY = SAMPLES / "bug_chain_backward_db.py"  # chain_backward wrong: below full marks on hw1
BUGGY_2 = SAMPLES / "bug_relu_grad_at_zero.py"  # relu_grad wrong: below full marks on hw1
GRADE_SECONDS = 120.0
GONE_SECONDS = 10.0


# --------------------------------------------------------------------------- helpers


def wait_for(condition: Callable[[], object], seconds: float, what: str, pause=0.05) -> object:
    """Poll `condition` until it is truthy (its value), failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(pause)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def slow_correct(tmp_path: Path, seconds: float) -> Path:
    """correct.py, sleeping `seconds` at import (well inside the sandbox's load limit)."""
    path = tmp_path / "slow.py"
    path.write_text(
        CORRECT.read_text() + f"\n\nimport time\n\ntime.sleep({seconds})\n", encoding="utf-8"
    )
    return path


class Proc:
    """One process as /proc shows it: (pid, start time) names it across pid reuse."""

    def __init__(self, pid: int) -> None:
        text = Path(f"/proc/{pid}/stat").read_text()
        fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
        self.pid = pid
        self.state = fields[0]
        self.ppid = int(fields[1])
        self.pgid = int(fields[2])
        self.start = int(fields[19])
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        self.cmdline = raw.replace(b"\0", b" ").decode(errors="replace")

    @property
    def key(self) -> tuple[int, int]:
        return self.pid, self.start


def processes() -> list[Proc]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                found.append(Proc(int(entry)))
    return found


def running(keys: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of `keys` still running (a zombie has finished)."""
    return {p.key for p in processes() if p.key in keys and p.state != "Z"}


def in_group(pgid: int) -> list[Proc]:
    """The running processes of process group `pgid`."""
    return [p for p in processes() if p.pgid == pgid and p.state != "Z"]


def descendants(root: int) -> set[tuple[int, int]]:
    """Every process below `root` now (the sandbox's own processes, which start sessions of
    their own, included)."""
    table = processes()
    below, frontier = set(), {root}
    while frontier:
        children = {p for p in table if p.ppid in frontier and p.key not in below}
        below |= {p.key for p in children}
        frontier = {p.pid for p in children}
    return below


def workers_of(server: LiveService) -> list[Proc]:
    """The server's grading workers: children of the forkserver it started."""
    assert server.process is not None
    table = processes()
    forkservers = {
        p.pid for p in table if p.ppid == server.process.pid and "forkserver" in p.cmdline
    }
    return [
        p
        for p in table
        if p.ppid in forkservers
        and p.pgid == server.process.pid
        and "forkserver" in p.cmdline
        and p.state != "Z"
    ]


def submission_json(server: LiveService, http: httpx.Client, sid: str, name: str) -> dict:
    answer = http.get(f"/api/submissions/{sid}", headers=server.bearer(name))
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_status(server: LiveService, http: httpx.Client, sid: str, name: str, status: str) -> dict:
    return wait_for(
        lambda: (found := submission_json(server, http, sid, name))["status"] == status and found,
        GRADE_SECONDS,
        f"submission {sid} {status}",
    )


def wait_idle(server: LiveService, http: httpx.Client) -> dict:
    """Wait until nothing is queued or grading; the health JSON."""

    def idle():
        health = http.get("/api/health").json()
        return health["queued"] == 0 and health["grading"] == 0 and health

    return wait_for(idle, GRADE_SECONDS, "every submission graded", pause=0.2)


@pytest.fixture
def servers() -> Iterator[list[LiveService]]:
    """The servers a test starts, SIGKILLed (whole group) at its end whatever happened."""
    started: list[LiveService] = []
    yield started
    for server in started:
        server.kill()


# --------------------------------------------------------------------------- durability


def test_acknowledged_uploads_survive_a_sigkill_mid_burst(tmp_path, servers):
    server = LiveService.start(tmp_path, course=UNLIMITED_COURSE, roster=ROSTER_10, workers=2)
    servers.append(server)
    first = server.process
    assert first is not None
    samples = [CORRECT, BUGGY, CORRECT_NOTEBOOK, BUGGY_2]
    jobs: queue.Queue[tuple[str, Path]] = queue.Queue()
    for n in range(60):
        jobs.put((STUDENTS[n % len(STUDENTS)], samples[n % len(samples)]))
    acknowledged: list[tuple[str, str, Path, str]] = []  # id, student, sample, sha256 sent
    refused: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()
    url = server.url

    def send() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while True:
                try:
                    student, sample = jobs.get_nowait()
                except queue.Empty:
                    return
                data = sample.read_bytes()
                try:
                    answer = http.post(
                        "/api/submissions",
                        headers=server.bearer(student),
                        data={"assignment": "hw1"},
                        files={"file": (sample.name, data)},
                    )
                except httpx.TransportError:
                    continue  # not acknowledged: the server is gone
                with lock:
                    if answer.status_code == 202:
                        sid = answer.json()["id"]
                        acknowledged.append((sid, student, sample, sha256(data)))
                        if len(acknowledged) >= 20:
                            enough.set()
                    else:
                        refused.append(f"{answer.status_code} {answer.text}")

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert enough.wait(60), "20 uploads were not acknowledged"
    tree = descendants(first.pid)
    assert tree, "the server has no worker processes"
    server.kill()  # SIGKILL, the whole process group, in the middle of the burst
    for thread in threads:
        thread.join(60)
    assert not refused, refused
    assert 20 <= len(acknowledged) < 60, "the kill did not land in the middle of the burst"

    # Nothing of the killed server goes on running: its group, nor the sandbox processes
    # below its workers (which start sessions of their own).
    wait_for(lambda: not server.group_alive(first.pid), GONE_SECONDS, "the group gone")
    wait_for(lambda: not running(tree), GONE_SECONDS, f"left behind: {running(tree)}")

    server.launch()
    with server.client() as http:
        for sid, student, _, sent in acknowledged:
            assert submission_json(server, http, sid, student)["student"] == student
            file = http.get(f"/api/submissions/{sid}/file", headers=server.bearer(student))
            assert file.status_code == 200, file.text
            assert sha256(file.content) == sent
        health = wait_idle(server, http)
        assert health["workers_alive"] == 2
        for sid, student, sample, _ in acknowledged:
            state = submission_json(server, http, sid, student)
            assert state["status"] == "graded", state
            assert state["max_score"] == 7
            if sample.name.startswith("correct"):
                assert state["score"] == state["max_score"], state
            else:
                assert state["score"] < state["max_score"], state
    server.stop()

    with Store(server.data_dir) as store:
        stored = {submission.id: submission for submission in store.all_submissions()}
        for sid, _, _, sent in acknowledged:
            assert stored[sid].status == "graded"
            assert stored[sid].sha256 == sent
            assert store.path_of(stored[sid]).read_bytes() == _sent_bytes(acknowledged, sid)
            [result] = store.results(sid)
            assert result.status == "graded"
        # Uploads cut off by the kill may or may not have been stored; those that were are
        # graded too, once.
        for submission in stored.values():
            assert submission.status == "graded", submission
            assert len(store.results(submission.id)) == 1


def _sent_bytes(acknowledged: list[tuple[str, str, Path, str]], sid: str) -> bytes:
    return next(sample.read_bytes() for id_, _, sample, _ in acknowledged if id_ == sid)


def test_a_sigkilled_server_leaves_no_worker_behind(tmp_path, servers):
    server = LiveService.start(tmp_path, course=UNLIMITED_COURSE, workers=2)
    servers.append(server)
    assert server.process is not None
    pid = server.process.pid
    with server.client() as http:
        answer = server.upload(http, "s001", "hw1", slow_correct(tmp_path, 2))
        assert answer.status_code == 202, answer.text
        wait_status(server, http, answer.json()["id"], "s001", "grading")
    assert len(workers_of(server)) == 2
    tree = descendants(pid)
    os.kill(pid, signal.SIGKILL)  # the main process only, not its group
    server.process.wait(30)
    server.process = None
    try:
        # The idle worker leaves at once, the busy one after its submission.
        wait_for(lambda: not in_group(pid), GONE_SECONDS, f"left in the group: {in_group(pid)}")
        wait_for(lambda: not running(tree), GONE_SECONDS, f"left behind: {running(tree)}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def test_a_killed_worker_is_replaced_and_its_submission_graded(tmp_path, servers):
    server = LiveService.start(tmp_path, course=UNLIMITED_COURSE, workers=1)
    servers.append(server)
    with server.client() as http:
        answer = server.upload(http, "s001", "hw1", slow_correct(tmp_path, 3))
        assert answer.status_code == 202, answer.text
        sid = answer.json()["id"]
        wait_status(server, http, sid, "s001", "grading")
        [worker] = workers_of(server)
        below = descendants(worker.pid)
        os.kill(worker.pid, signal.SIGKILL)
        wait_for(lambda: not running(below), GONE_SECONDS, "the worker's sandbox gone")

        def replaced():
            now = workers_of(server)
            health = http.get("/api/health").json()
            return health["workers_alive"] == 1 and [p.pid for p in now if p.pid != worker.pid]

        wait_for(replaced, 15, "a new worker", pause=0.2)
        graded = wait_status(server, http, sid, "s001", "graded")
        assert graded["attempts"] == 2
        assert graded["score"] == graded["max_score"] == 7
        later = server.upload(http, "s002", "hw1", CORRECT)
        assert later.status_code == 202, later.text
        done = server.wait_done(http, later.json()["id"], "s002")
        assert (done["status"], done["attempts"], done["score"]) == ("graded", 1, 7)
    assert "a grading worker died" in server.logs()
    server.stop()
    with Store(server.data_dir) as store:
        assert len(store.results(sid)) == 1


def test_sigterm_stops_the_server_after_the_grading_in_progress(tmp_path, servers):
    server = LiveService.start(tmp_path, course=UNLIMITED_COURSE, workers=1)
    servers.append(server)
    process = server.process
    assert process is not None
    with server.client() as http:
        answer = server.upload(http, "s001", "hw1", slow_correct(tmp_path, 2))
        assert answer.status_code == 202, answer.text
        sid = answer.json()["id"]
        wait_status(server, http, sid, "s001", "grading")
    tree = descendants(process.pid)
    server.stop()
    assert process.returncode == 0, server.logs()
    # multiprocessing's forkserver leaves on its own once the server's end of its pipe is
    # closed, a moment after the server exits.
    wait_for(lambda: not in_group(process.pid), GONE_SECONDS, "the group gone")
    wait_for(lambda: not running(tree), GONE_SECONDS, f"left behind: {running(tree)}")
    with Store(server.data_dir) as store:
        assert store.get(sid).status == "graded"
        assert len(store.results(sid)) == 1


# --------------------------------------------------------------------------- clients


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[LiveService]:
    """One server for the client tests."""
    server = LiveService.start(
        tmp_path_factory.mktemp("live"), course=UNLIMITED_COURSE, roster=ROSTER, workers=2
    )
    try:
        yield server
    finally:
        server.kill()


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 180):
    environment = {
        key: value for key, value in os.environ.items() if key not in ("GRADER_URL", "GRADER_TOKEN")
    }
    return subprocess.run(
        [*args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**environment, **(env or {})},
    )


def grader_submit(server: LiveService, path: Path, *options: str, token: str | None = None):
    return run(
        *grader_command(
            "submit",
            str(path),
            "--url",
            server.url,
            "--token",
            token or server.tokens["s001"],
            *options,
        )
    )


SCORE = re.compile(r"graded, ([\d.]+) / ([\d.]+) points")


def test_grader_submit_a_correct_file_exits_0(live):
    done = grader_submit(live, CORRECT, "--assignment", "hw1")
    assert done.returncode == 0, done.stderr
    score, max_score = SCORE.search(done.stdout).groups()
    assert float(score) == float(max_score) == 7


def test_grader_submit_a_buggy_file_exits_1(live):
    done = grader_submit(live, BUGGY, "--assignment", "hw1")
    assert done.returncode == 1, done.stderr
    score, max_score = SCORE.search(done.stdout).groups()
    assert float(score) < float(max_score) == 7


def test_grader_submit_refused_exits_2_with_the_reason(live):
    late = grader_submit(live, CORRECT, "--assignment", "old")
    assert late.returncode == 2
    assert "403" in late.stderr and "deadline" in late.stderr, late.stderr
    wrong = grader_submit(live, CORRECT, "--assignment", "hw1", token="not-a-token")
    assert wrong.returncode == 2
    assert "401" in wrong.stderr, wrong.stderr
    nowhere = run(
        *grader_command("submit", str(CORRECT), "-a", "hw1"),
        env={"GRADER_URL": f"http://127.0.0.1:{free_port()}", "GRADER_TOKEN": "whatever"},
    )  # nothing listens there
    assert nowhere.returncode == 2
    assert "cannot reach" in nowhere.stderr, nowhere.stderr
    assert "Traceback" not in late.stderr + wrong.stderr + nowhere.stderr


def test_grader_submit_no_wait_and_the_environment(live):
    done = grader_submit(live, CORRECT, "--assignment", "hw1", "--no-wait")
    assert done.returncode == 0, done.stderr
    sid = re.search(r"submission ([0-9a-f]{32})", done.stdout).group(1)
    # From the environment, as s002: the submission is theirs.
    from_env = run(
        *grader_command("submit", str(CORRECT_NOTEBOOK), "-a", "hw1", "--no-wait"),
        env={"GRADER_URL": live.url, "GRADER_TOKEN": live.tokens["s002"]},
    )
    assert from_env.returncode == 0, from_env.stderr
    theirs = re.search(r"submission ([0-9a-f]{32})", from_env.stdout).group(1)
    with live.client() as http:
        assert submission_json(live, http, sid, "s001")["student"] == "s001"
        assert submission_json(live, http, theirs, "s002")["student"] == "s002"
        elsewhere = http.get(f"/api/submissions/{theirs}", headers=live.bearer("s001"))
        assert elsewhere.status_code == 404
        assert live.wait_done(http, theirs, TA)["score"] == 7


SUBMIT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from grader import submit
    from grader.client import SubmitError

    done = submit(sys.argv[1], "hw1", poll_seconds=0.2, timeout=120)
    try:
        submit(sys.argv[1], "no-such-assignment", wait=False)
    except SubmitError as exc:
        refused = {"status": exc.status, "message": str(exc)}
    else:
        refused = None
    print(json.dumps({"status": done.status, "score": done.score,
                      "max_score": done.max_score, "refused": refused}))
    """
)


def test_submit_from_python(live):
    done = run(
        sys.executable,
        "-c",
        SUBMIT_SCRIPT,
        str(CORRECT_NOTEBOOK),
        env={"GRADER_URL": live.url, "GRADER_TOKEN": live.tokens["s001"]},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "graded"
    assert result["score"] == result["max_score"] == 7
    assert result["refused"]["status"] == 404
    assert "no-such-assignment" in result["refused"]["message"]


# --------------------------------------------------------------------------- command line


def test_serve_without_a_course_is_a_usage_error():
    done = run(*grader_command("serve"))
    assert done.returncode == 2
    assert "Usage:" in done.stderr and "--course" in done.stderr, done.stderr


def test_serve_with_a_bad_course_file_names_the_file_and_field(tmp_path):
    course = write_course(tmp_path, COURSE.replace("[limits]", "[limits]\ncolour = 'blue'"))
    bad = course.rename(tmp_path / "bad.toml")
    done = run(*grader_command("serve", "--course", str(bad), "--port", "0"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert "bad.toml" in error and "limits.colour" in error, done.stderr


def test_tokens_issue_refuses_a_student_not_on_the_roster(tmp_path):
    course = write_course(tmp_path)
    data = tmp_path / "data"
    done = run(
        *grader_command(
            "serve",
            "tokens",
            "issue",
            "--course",
            str(course),
            "--data",
            str(data),
            "--student",
            "nobody",
        )
    )
    assert done.returncode == 2
    assert "not on the roster" in done.stderr and "nobody" in done.stderr, done.stderr


def test_tokens_issue_writes_a_private_csv(tmp_path):
    course = write_course(tmp_path)
    out = tmp_path / "tokens.csv"
    done = run(
        *grader_command(
            "serve",
            "tokens",
            "issue",
            "--course",
            str(course),
            "--data",
            str(tmp_path / "d"),
            "--roster",
            "--ta",
            TA,
            "--out",
            str(out),
        )
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text().splitlines()
    assert lines[0] == "role,name,token"
    names = [line.split(",")[:2] for line in lines[1:]]
    assert names == [["student", "s001"], ["student", "s002"], ["ta", TA]]
    assert all(len(line.split(",")[2]) >= 32 for line in lines[1:])
