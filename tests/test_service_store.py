"""The service store: durable accepts (a SIGKILL mid-burst loses no acknowledged
submission), atomic claims, idempotent results, bounded retries, safe file names."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grader import __version__
from grader.service.filenames import SubmissionRefused, safe_filename
from grader.service.store import Store, StoreError
from grader.service.worker import grade_next
from tests.service_helpers import make_course

ROOT = Path(__file__).resolve().parent.parent
CORRECT = (ROOT / "submissions" / "correct.py").read_bytes()


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "data") as store:
        yield store


def test_accept_stores_the_bytes_and_the_row(store):
    submission = store.accept("s001", "hw1", "hw1.py", CORRECT)
    assert len(submission.id) == 32
    assert submission.status == "queued" and submission.attempts == 0
    assert submission.sha256 == hashlib.sha256(CORRECT).hexdigest()
    assert submission.size == len(CORRECT)
    assert submission.received_at.tzinfo is not None
    path = store.path_of(submission)
    assert path == store.data_dir / "submissions" / submission.id / "hw1.py"
    assert path.read_bytes() == CORRECT
    assert [p.name for p in path.parent.iterdir()] == ["hw1.py"]  # no temporary file left
    with Store(store.data_dir) as again:
        assert again.get(submission.id) == submission
    with pytest.raises(StoreError):
        store.get("nope")


def test_the_kill_test(tmp_path):
    """A process accepting a burst is SIGKILLed mid-way: every submission it acknowledged is
    there with its exact bytes, and grading after the restart records each exactly once."""
    data_dir = tmp_path / "data"
    make_course(tmp_path / "course")
    script = textwrap.dedent(
        f"""
        import hashlib, sys
        from grader.service.store import Store
        store = Store({str(data_dir)!r})
        body = open({str(ROOT / "submissions" / "correct.py")!r}, "rb").read()
        for i in range(100000):
            data = body + f"\\n# submission {{i}}\\n".encode() + bytes([65 + i % 26]) * (i % 500)
            submission = store.accept(f"s00{{1 + i % 2}}", "hw1", f"try{{i}}.py", data)
            print(submission.id, hashlib.sha256(data).hexdigest(), flush=True)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    acknowledged: dict[str, str] = {}
    try:
        for line in process.stdout:
            submission_id, digest = line.split()
            acknowledged[submission_id] = digest
            if len(acknowledged) == 12:
                os.kill(process.pid, signal.SIGKILL)  # in the middle of the burst
                break
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL
    rest = process.stdout.read()  # lines printed before the kill landed; a cut one is not
    acknowledged.update(
        line.split() for line in rest.splitlines(keepends=True) if line[-1:] == "\n"
    )
    process.stdout.close()

    course = make_course(tmp_path / "course")
    with Store(data_dir, course) as store:
        stored = {s.id: s for s in store.all_submissions()}
        assert set(acknowledged) <= set(stored)  # the killed one may have stored one more
        for submission_id, digest in acknowledged.items():
            submission = stored[submission_id]
            assert submission.sha256 == digest
            assert hashlib.sha256(store.path_of(submission).read_bytes()).hexdigest() == digest
        # a worker that crashed mid-grading: its submission is still `grading`
        crashed = store.claim_next()
        assert store.requeue_interrupted() == ([crashed.id], [])
        graded = 0
        while grade_next(store, course):
            graded += 1
        assert graded == len(stored)
        assert not grade_next(store, course)
        for submission in store.all_submissions():
            assert submission.status == "graded", submission
            assert len(store.results(submission.id)) == 1
            report = store.results(submission.id)[0].report_json
            assert not store.record_result(submission.id, __version__, report, "graded")
            assert len(store.results(submission.id)) == 1


def test_two_threads_never_claim_the_same_submission(store):
    ids = {store.accept("s001", "hw1", f"{i}.py", CORRECT).id for i in range(60)}
    claimed: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def claim(mine: list[str]) -> None:
        start.wait()
        while (submission := store.claim_next()) is not None:
            assert submission.status == "grading" and submission.attempts == 1
            mine.append(submission.id)

    threads = [threading.Thread(target=claim, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = claimed[0] + claimed[1]
    assert len(everything) == len(set(everything)) == 60
    assert set(everything) == ids


def test_claims_are_oldest_first(store):
    first = store.accept("s001", "hw1", "a.py", CORRECT)
    second = store.accept("s002", "hw1", "b.py", CORRECT)
    assert store.claim_next().id == first.id
    assert store.claim_next().id == second.id
    assert store.claim_next() is None


def test_record_result_is_idempotent(store):
    submission = store.accept("s001", "hw1", "a.py", CORRECT)
    store.claim_next()
    assert store.record_result(submission.id, "1.0", '{"score": 1}', "graded")
    before = (store.get(submission.id), store.results(submission.id))
    assert not store.record_result(submission.id, "1.0", '{"score": 1}', "graded")
    assert not store.record_result(submission.id, "1.0", '{"score": 2}', "failed", error="x")
    assert (store.get(submission.id), store.results(submission.id)) == before
    assert store.results(submission.id)[0].report_json == '{"score": 1}'
    # a regrade by another grader version is a new result
    assert store.record_result(submission.id, "2.0", '{"score": 3}', "graded")
    assert [r.grader_version for r in store.results(submission.id)] == ["1.0", "2.0"]
    with pytest.raises(StoreError):
        store.record_result("nope", "1.0", "{}", "graded")
    with pytest.raises(ValueError):
        store.record_result(submission.id, "3.0", "{}", "queued")


def test_a_submission_that_kills_its_grader_three_times_ends_failed(tmp_path):
    """Each time, a real process claims the submission and dies (SIGKILL) while grading it;
    each restart queues it again, until the third interrupted attempt marks it failed."""
    data_dir = tmp_path / "data"
    course_dir = tmp_path / "course"
    make_course(course_dir)
    with Store(data_dir) as store:
        submission = store.accept("s001", "hw1", "killer.py", CORRECT)
    script = textwrap.dedent(
        f"""
        import os, signal
        from grader.service.course import load_course
        from grader.service.store import Store
        from grader.service.worker import grade_next
        def dies(path, options):
            os.kill(os.getpid(), signal.SIGKILL)
        store = Store({str(data_dir)!r})
        store.requeue_interrupted()
        grade_next(store, load_course({str(course_dir / "course.toml")!r}), grade_function=dies)
        """
    )
    for attempt in (1, 2, 3):
        run = subprocess.run([sys.executable, "-c", script], cwd=ROOT)
        assert run.returncode == -signal.SIGKILL
        with Store(data_dir) as store:
            state = store.get(submission.id)
            assert (state.status, state.attempts) == ("grading", attempt)
    with Store(data_dir) as store:
        assert store.requeue_interrupted() == ([], [submission.id])
        failed = store.get(submission.id)
        assert failed.status == "failed"
        assert "interrupted 3 times" in failed.error
        assert store.claim_next() is None
        assert store.count("s001", "hw1") == 0  # a failed submission does not count


def test_history_count_counted_and_all(store):
    assert store.counted("s001", "hw1") is None
    a = store.accept("s001", "hw1", "a.py", CORRECT)
    b = store.accept("s001", "hw1", "b.py", CORRECT)
    c = store.accept("s001", "hw2", "c.py", CORRECT)
    d = store.accept("s002", "hw1", "d.py", CORRECT)
    for _ in range(4):
        store.claim_next()
    store.record_result(a.id, "1", "{}", "graded")
    store.record_result(b.id, "1", None, "failed", error="boom")
    store.record_result(c.id, "1", "{}", "graded")
    assert [s.id for s in store.history("s001")] == [a.id, b.id, c.id]
    assert [s.id for s in store.history("s001", "hw1")] == [a.id, b.id]
    assert store.count("s001", "hw1") == 1
    assert store.counted("s001", "hw1").id == a.id  # the failed later one does not count
    assert store.counted("s002", "hw1") is None  # d is still grading
    assert store.get(b.id).error == "boom"
    assert [s.id for s in store.all_submissions()] == [a.id, b.id, c.id, d.id]
    assert [s.id for s in store.all_submissions("hw1")] == [a.id, b.id, d.id]


def test_the_course_rules(tmp_path):
    course = make_course(tmp_path / "course")
    with Store(tmp_path / "data", course) as store:
        refused = {
            "there is no assignment": ("s001", "hw9", "a.py", CORRECT),
            "not on the course's roster": ("s999", "hw1", "a.py", CORRECT),
            "deadline of old": ("s001", "old", "a.py", CORRECT),
            "larger than the course's limit of 100000": ("s001", "hw1", "a.py", b"#" * 100001),
            "empty": ("s001", "hw1", "a.py", b""),
            "not UTF-8": ("s001", "hw1", "a.py", b"\xff\xfe\x00x"),
            "not valid JSON": ("s001", "hw1", "a.ipynb", b"{not json"),
            "no list of cells": ("s001", "hw1", "a.ipynb", b'{"cells": 3}'),
        }
        for reason, args in refused.items():
            with pytest.raises(SubmissionRefused, match=reason):
                store.accept(*args)
        late = store.accept("s001", "lenient", "a.py", CORRECT)
        assert late.late
        on_time = store.accept("s001", "hw1", "a.py", CORRECT)
        assert not on_time.late
        assert not store.accept(
            "s001", "old", "a.py", CORRECT, now=datetime(1999, 1, 1, tzinfo=UTC)
        ).late
        store.accept("s001", "lenient", "b.py", CORRECT)
        with pytest.raises(SubmissionRefused, match="all 2 graded submissions of lenient"):
            store.accept("s001", "lenient", "c.py", CORRECT)
        assert store.accept("s002", "lenient", "c.py", CORRECT)  # the limit is per student
        # nothing refused left a row or a file behind
        assert len(store.all_submissions()) == 5
        assert len(list(store.submissions_dir.iterdir())) == 5


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("gpj\u202e.py", "gpj.py"),  # a right-to-left override removed
        ("zero\u200bwidth.py", "zerowidth.py"),
        ("résumé ünïcode.PY", "r_sum_n_code.py"),
        (".hidden.py", "hidden.py"),
        ("...py", "submission.py"),
        ("a" * 300 + ".ipynb", "a" * 94 + ".ipynb"),
        ("hw1.py", "hw1.py"),
    ],
)
def test_file_names_are_sanitized(name, safe):
    assert safe_filename(name) == safe


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("hw1.py\x00.txt", "NUL byte"),
        ("hw\x00.py", "NUL byte"),
        ("hw\n.py", "control character"),
        ("hw1.exe", "only .py files and .ipynb notebooks"),
        ("hw1.py.exe", "only .py"),
        ("hw1.zip", "only .py"),
        ("evil\u202eyp.exe", "only .py"),  # looks like evilexe.py
        ("hw1", "only .py"),
        ("", "only .py"),
        ("../../etc/passwd.py", "contains a path"),
        ("/etc/cron.d/job.py", "contains a path"),
        ("C:\\Users\\ada\\hw.ipynb", "contains a path"),
        ("..\\..\\windows\\x.py", "contains a path"),
        ("\uff0e\uff0e\uff0fescape.py", "contains a path"),  # fullwidth ../ normalizes to ../
        ("..", "contains a path"),
        ("../", "contains a path"),
    ],
)
def test_file_names_refused(store, name, reason):
    with pytest.raises(SubmissionRefused, match=reason) as info:
        store.accept("s001", "hw1", name, CORRECT)
    assert info.value.reason == str(info.value)
    assert store.all_submissions() == []
    assert list(store.submissions_dir.iterdir()) == []


def test_a_traversal_name_is_refused_and_writes_nothing(store, tmp_path):
    with pytest.raises(SubmissionRefused) as info:
        store.accept("s001", "hw1", "../../../../escape.py", CORRECT)
    assert info.value.kind == "name"
    assert not (tmp_path / "escape.py").exists()
    assert list(store.submissions_dir.iterdir()) == []


def test_a_write_waits_while_another_process_holds_the_lock(store):
    """Writes retry BEGIN IMMEDIATE themselves (SQLite's own busy handler is off meanwhile):
    one that meets a held write lock waits for it rather than failing."""
    import sqlite3

    holder = sqlite3.connect(store.db_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release_later():
        released.wait(5)
        holder.execute("COMMIT")

    thread = threading.Thread(target=release_later)
    thread.start()
    accepted = []
    writer = threading.Thread(
        target=lambda: accepted.append(store.accept("s001", "hw1", "a.py", CORRECT))
    )
    writer.start()
    writer.join(0.3)
    assert writer.is_alive() and not accepted  # still waiting for the lock
    released.set()
    writer.join(10)
    thread.join(10)
    holder.close()
    assert [s.status for s in accepted] == ["queued"]
    assert store.get(accepted[0].id).status == "queued"
    # an error other than a busy lock is not retried
    with pytest.raises(sqlite3.OperationalError, match="no such table"), store.write() as db:
        db.execute("SELECT * FROM nowhere")


def test_workers_commit_without_fsync_and_the_server_with(tmp_path):
    with Store(tmp_path / "d") as server, Store(tmp_path / "d", durable=False) as worker:
        assert server.read("PRAGMA synchronous")[0][0] == 2  # FULL
        assert worker.read("PRAGMA synchronous")[0][0] == 1  # NORMAL


def test_a_status_reads_the_result_without_its_bodies(store):
    submission = store.accept("s001", "hw1", "a.py", CORRECT)
    store.claim_next()
    store.record_result(
        submission.id, "1.0", '{"score": 1}', "graded", page_html="<p>", score=(1.0, 2.0)
    )
    submission = store.get(submission.id)
    full = store.current_result(submission)
    head = store.current_result(submission, bodies=False)
    assert (full.report_json, full.page_html) == ('{"score": 1}', "<p>")
    assert (head.report_json, head.page_html) == (None, None)
    assert head == full.__class__(**{**full.__dict__, "report_json": None, "page_html": None})
