"""Batch grading of a class folder: reports, CSV, gradebook, incremental reruns, failures."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

import exercises
from grader.batch import BatchOptions, WorkerStartError, content_hash, discover, grade_batch
from grader.cli import main
from grader.engine import grade
from grader.gradebook import Gradebook
from grader.report import Report
from grader.sandbox import Limits, describe_isolation
from grader.summary import BatchProgress, print_batch_summary, summarize

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "submissions"
LIMITS = Limits(call_seconds=1, submission_seconds=10)
FAST = ["--call-timeout", "1", "--budget", "10"]
FEW = ("activations", "univariate_regression")
"""Exercises for the tests that grade the class many times: bob's bug is in the second."""
STUDENTS = ["alice", "bob", "carol", "dave", "erin", "mallory"]


def make_class(root: Path) -> Path:
    """A class folder: a correct .py, a buggy one, a notebook, a folder, a syntax error, a
    submission that kills its process, and entries that are not submissions."""
    folder = root / "hw"
    (folder / "dave").mkdir(parents=True)
    shutil.copy(SAMPLES / "correct.py", folder / "alice.py")
    shutil.copy(SAMPLES / "bug_mse_loss_sum.py", folder / "bob.py")
    shutil.copy(SAMPLES / "correct_notebook.ipynb", folder / "carol.ipynb")
    shutil.copy(SAMPLES / "correct.py", folder / "dave" / "solution.py")
    (folder / "dave" / "notes.md").write_text("my notes\n")
    (folder / "erin.py").write_text("def sigmoid(z)\n    return 1 / (1 + np.exp(-z))\n")
    (folder / "mallory.py").write_text("import os\nos._exit(3)\n")
    shutil.copy(SAMPLES / "correct.expected.json", folder / "alice.expected.json")
    (folder / "README.md").write_text("hand-in folder\n")
    (folder / ".hidden.py").write_text("x = 1\n")
    (folder / "_private.py").write_text("x = 1\n")
    (folder / "roster.txt").write_text("alice\n")
    return folder


def options(**changes) -> BatchOptions:
    settings = dict(exercises=FEW, workers=2, limits=LIMITS)
    settings.update(changes)
    return BatchOptions(**settings)


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (out / "reports").iterdir()}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def runs_per_student(db: Path) -> dict[str, int]:
    """Runs recorded per student (nothing while the gradebook is still being created)."""
    connection = sqlite3.connect(db)
    try:
        return dict(connection.execute("SELECT student, COUNT(*) FROM runs GROUP BY student"))
    except sqlite3.OperationalError:
        return {}
    finally:
        connection.close()


def new_children(before: set) -> set:
    """Worker processes started since `before` and still alive."""
    return set(multiprocessing.active_children()) - before


# --------------------------------------------------------------------------- a full batch


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """The class graded once on every exercise each submission attempts."""
    root = tmp_path_factory.mktemp("full")
    folder = make_class(root)
    events = []
    result = grade_batch(
        folder, root / "out", BatchOptions(workers=2, limits=LIMITS), events.append
    )
    return folder, root / "out", result, events


def test_every_student_gets_a_report_and_nothing_else_is_graded(full):
    folder, out, result, _ = full
    assert [o.student for o in result.outcomes] == STUDENTS
    assert sorted(p.name for p in (out / "reports").iterdir()) == [f"{s}.json" for s in STUDENTS]
    assert result.ignored == ["roster.txt"]
    assert (result.graded, result.skipped, result.errors) == (6, 0, 0)
    for outcome in result.outcomes:
        on_disk = (out / "reports" / f"{outcome.student}.json").read_text()
        assert on_disk == outcome.report_json
        assert Report.model_validate_json(on_disk).student_id == outcome.student


def test_scores_are_the_engines(full):
    _, _, result, _ = full
    scores = {o.student: (o.score, o.max_score) for o in result.outcomes}
    total = sum(e.max_score for e in exercises.EXERCISES)
    assert scores["alice"] == scores["carol"] == scores["dave"] == (total, total)
    assert scores["bob"] == (total - 2, total)  # mse_loss, in two exercises
    assert scores["erin"] == (0, total) and scores["mallory"] == (0, total)
    assert any("syntax" in e.lower() for e in result.outcome("erin").report.errors)
    assert result.outcome("mallory").report.errors  # its process died at import


def test_batch_keeps_the_isolation_of_a_single_grade(full):
    _, _, result, _ = full
    assert {o.report.isolation.mode for o in result.outcomes} == {describe_isolation().mode}
    assert all(o.report.isolation.reason for o in result.outcomes)


def test_summary_and_progress_render(full):
    _, _, result, events = full
    stats = summarize([o.report for o in result.outcomes])
    assert stats.count == 6 and stats.median_percent == pytest.approx(98.0)
    assert dict(stats.distribution) == {
        "<50%": 2,
        "50-60%": 0,
        "60-70%": 0,
        "70-80%": 0,
        "80-90%": 0,
        "90-100%": 1,
        "100%": 3,
    }
    top = stats.most_failed[0]
    assert (top.function, top.failed, top.graded) == ("mse_loss", 3, 6)
    assert ("known_mistake: mse_sum_not_mean", 1) in top.diagnoses
    console = Console(file=io.StringIO(), width=100, force_terminal=True)
    with BatchProgress(console) as progress:
        for event in events:
            progress(event)
    print_batch_summary(result, console)
    text = console.file.getvalue()
    assert "6/6" in text and "2 below full marks" not in text and "3 below full marks" in text
    assert "median 98.0%" in text and "mse_sum_not_mean" in text
    info = describe_isolation()
    assert f"isolation: {info.mode}" in text or f"{info.mode} for 6" in text


def test_csv_rows_carry_the_totals_and_per_exercise_scores(full):
    _, out, result, _ = full
    rows = read_csv(out / "gradebook.csv")
    assert list(rows[0]) == ["student", "total", "max", *exercises.names()]
    assert [row["student"] for row in rows] == STUDENTS
    for row, outcome in zip(rows, result.outcomes, strict=True):
        assert float(row["total"]) == outcome.score
        assert float(row["max"]) == outcome.max_score
        assert sum(float(row[name]) for name in exercises.names()) == pytest.approx(outcome.score)
    assert rows[1]["univariate_regression"] == "3"


def test_gradebook_holds_one_run_per_student(full):
    folder, out, result, _ = full
    with Gradebook(out / "gradebook.sqlite", create=False) as book:
        runs = book.latest_runs("hw")
        assert book.count() == 6
    assert [run.student for run in runs] == STUDENTS
    for run, outcome in zip(runs, result.outcomes, strict=True):
        assert run.content_hash == content_hash(outcome.path)
        assert run.seed == exercises.derive_seed(run.student) == outcome.report.seed
        assert (run.score, run.max_score, run.status) == (
            outcome.score,
            outcome.max_score,
            "graded",
        )
        assert run.report_json == outcome.report_json
        assert run.graded_at.endswith("+00:00")


def test_progress_reports_start_then_every_result(full):
    _, _, _, events = full
    assert events[0].kind == "start" and events[0].total == 6 and events[0].workers == 2
    results = events[1:]
    assert [e.done for e in results] == [1, 2, 3, 4, 5, 6]
    assert results[-1].below_full == 3 and results[-1].errors == 0
    assert sorted(e.outcome.student for e in results) == STUDENTS


# --------------------------------------------------------------------------- reruns


@pytest.fixture
def graded(tmp_path):
    folder = make_class(tmp_path)
    out = tmp_path / "out"
    first = grade_batch(folder, out, options())
    assert first.graded == 6
    return folder, out


def test_a_rerun_with_nothing_changed_grades_nothing(graded):
    folder, out = graded
    before, csv_before = snapshot(out), (out / "gradebook.csv").read_bytes()
    events = []
    again = grade_batch(folder, out, options(), events.append)
    assert (again.graded, again.skipped) == (0, 6)
    assert events[0].total == 0 and events[0].skipped == 6 and len(events) == 1
    assert snapshot(out) == before  # same bytes, not even rewritten
    assert (out / "gradebook.csv").read_bytes() == csv_before
    assert runs_per_student(out / "gradebook.sqlite") == dict.fromkeys(STUDENTS, 1)


def test_skipped_students_get_their_report_back_in_a_new_out_folder(graded):
    folder, out = graded
    elsewhere = out.parent / "copy"
    again = grade_batch(folder, elsewhere, options(db_path=out / "gradebook.sqlite"))
    assert again.skipped == 6
    assert (elsewhere / "gradebook.csv").read_text() == (out / "gradebook.csv").read_text()
    assert {p: d for p, (d, _) in snapshot(elsewhere).items()} == {
        p: d for p, (d, _) in snapshot(out).items()
    }


def test_changing_one_file_and_one_folder_regrades_only_those(graded):
    folder, out = graded
    shutil.copy(SAMPLES / "correct.py", folder / "bob.py")  # bob fixes his bug
    (folder / "dave" / "extra.py").write_text("ANSWER = 42\n")
    (folder / "carol.ipynb").touch()  # a new mtime alone is no change
    again = grade_batch(folder, out, options())
    assert {o.student for o in again.outcomes if o.status == "graded"} == {"bob", "dave"}
    assert again.skipped == 4
    assert again.outcome("bob").score == again.outcome("bob").max_score
    assert read_csv(out / "gradebook.csv")[1]["total"] == "8"
    assert runs_per_student(out / "gradebook.sqlite") == {
        **dict.fromkeys(STUDENTS, 1),
        "bob": 2,
        "dave": 2,
    }


def test_other_exercises_limits_or_salt_regrade_everyone(graded):
    folder, out = graded
    assert grade_batch(folder, out, options(exercises=("activations",))).graded == 6
    assert grade_batch(folder, out, options(exercises=("activations",))).graded == 0
    salted = grade_batch(folder, out, options(exercises=("activations",), course_salt="x"))
    assert salted.graded == 6
    assert salted.outcome("alice").report.seed == exercises.derive_seed("alice", "x")
    longer = Limits(call_seconds=2, submission_seconds=10)
    assert grade_batch(folder, out, options(limits=longer)).graded == 6


def test_regrade_grades_everyone_again(graded):
    folder, out = graded
    result = CliRunner().invoke(
        main,
        ["batch", str(folder), "--out", str(out), "--regrade", "-j", "2", *FAST]
        + [arg for name in FEW for arg in ("-e", name)],
    )
    assert result.exit_code == 0, result.output
    assert "6 graded, 0 unchanged and skipped" in result.output
    assert runs_per_student(out / "gradebook.sqlite") == dict.fromkeys(STUDENTS, 2)


# --------------------------------------------------------------------------- failures


def flaky_grade(path: Path, options) -> Report:
    """A grade function that fails the way a grader bug would, by student name."""
    name = Path(path).stem
    if name == "boom":
        raise RuntimeError("boom")
    if name == "die":
        os._exit(9)
    if name == "hang":
        time.sleep(60)
    return grade(path, options)


def grade_noting_imports(path: Path, options) -> Report:
    """`grade`, with a last error line saying whether its process had imported matplotlib
    or jinja2 when the submission was graded (this module must not import them)."""
    report = grade(path, options)
    heavy = sorted(name for name in ("jinja2", "matplotlib") if name in sys.modules)
    return report.model_copy(update={"errors": [*report.errors, f"imported: {heavy}"]})


def test_batch_workers_draw_the_pages_and_import_matplotlib_only_with_pages(tmp_path):
    from grader.pages import student_page

    folder = tmp_path / "hw"
    folder.mkdir()
    shutil.copy(SAMPLES / "correct.py", folder / "alice.py")
    shutil.copy(SAMPLES / "bug_sigmoid_overflow.py", folder / "bob.py")
    out = tmp_path / "out"
    options = BatchOptions(
        exercises=("activations",),
        workers=1,
        limits=Limits(call_seconds=2.0, submission_seconds=60.0),
        grade_function=grade_noting_imports,
    )
    result = grade_batch(folder, out, options)
    bob = result.outcome("bob")
    assert result.graded == 2 and result.page_errors == []
    assert bob.report.errors[-1] == "imported: ['jinja2', 'matplotlib']"
    page = out / "pages" / "bob.html"
    # the worker's page is the page of the recorded report, written after the report
    assert page.read_text() == student_page("bob", bob.report)[0]
    assert "<svg" in page.read_text()
    assert page.stat().st_mtime_ns >= (out / "reports" / "bob.json").stat().st_mtime_ns
    before = page.stat().st_mtime_ns
    assert grade_batch(folder, out, options).skipped == 2 and page.stat().st_mtime_ns == before

    plain = grade_batch(folder, tmp_path / "plain", replace(options, pages=False))
    assert plain.outcome("bob").report.errors[-1] == "imported: []"
    assert not (tmp_path / "plain" / "pages").exists()


def test_a_grader_that_raises_dies_or_hangs_costs_one_student_each(tmp_path):
    before = set(multiprocessing.active_children())
    folder = tmp_path / "hw"
    folder.mkdir()
    for name in ("ann", "boom", "die", "hang", "zed"):
        shutil.copy(SAMPLES / "correct.py", folder / f"{name}.py")
    settings = dict(grade_function=flaky_grade, watchdog_seconds=5.0, exercises=("activations",))
    result = grade_batch(folder, tmp_path / "out", options(**settings))
    assert [o.status for o in result.outcomes] == ["graded", "error", "error", "error", "graded"]
    assert result.outcome("ann").score == result.outcome("zed").score == 4
    assert result.outcome("boom").error.startswith("RuntimeError: boom")
    assert "exited with code 9" in result.outcome("die").error
    assert "longer than 5 s" in result.outcome("hang").error
    for student in ("boom", "die", "hang"):
        outcome = result.outcome(student)
        assert (outcome.score, outcome.max_score) == (0, 4)
        saved = json.loads((tmp_path / "out" / "reports" / f"{student}.json").read_text())
        assert saved["score"] == 0 and outcome.error in saved["errors"][0]
    rows = {row["student"]: row["total"] for row in read_csv(tmp_path / "out" / "gradebook.csv")}
    assert rows == {"ann": "4", "boom": "0", "die": "0", "hang": "0", "zed": "4"}
    assert not new_children(before)

    # errors are never taken as final: the rerun tries them again (in this process this
    # time, so without the submissions that would kill or block it)
    (folder / "hang.py").unlink()
    (folder / "die.py").unlink()
    again = grade_batch(folder, tmp_path / "out", options(**settings, workers=0))
    assert [(o.student, o.status) for o in again.outcomes] == [
        ("ann", "skipped"),
        ("boom", "error"),
        ("zed", "skipped"),
    ]


class DiesWhenUnpickled:
    """A grade function a worker cannot even receive: loading it ends the worker."""

    def __reduce__(self):
        return (os._exit, (5,))


def test_workers_that_cannot_start_stop_the_batch_with_the_reason(tmp_path):
    before = set(multiprocessing.active_children())
    folder = tmp_path / "hw"
    folder.mkdir()
    shutil.copy(SAMPLES / "correct.py", folder / "ann.py")
    out = tmp_path / "out"
    with pytest.raises(WorkerStartError, match="exited with code 5 before it was ready"):
        grade_batch(folder, out, options(grade_function=DiesWhenUnpickled()))
    assert not new_children(before)
    assert runs_per_student(out / "gradebook.sqlite") == {}
    with pytest.raises(ValueError, match="module-level function"):
        grade_batch(folder, out, options(grade_function=lambda path, options: None))


def test_a_script_without_a_main_guard_can_call_grade_batch(tmp_path):
    folder = tmp_path / "hw"
    folder.mkdir()
    for name in ("ann", "ben"):
        shutil.copy(SAMPLES / "correct.py", folder / f"{name}.py")
    script = tmp_path / "grade_all.py"
    script.write_text(
        "from grader.batch import BatchOptions, grade_batch\n"
        "from grader.sandbox import Limits\n"
        "print('script body ran')\n"
        "limits = Limits(call_seconds=1, submission_seconds=10)\n"
        "options = BatchOptions(exercises=['activations'], workers=2, limits=limits)\n"
        "result = grade_batch('hw', 'out', options)\n"
        "print(result.graded, result.errors)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["script body ran", "2 0"]  # workers never re-ran it


def test_in_process_grading_records_a_raising_grader(tmp_path):
    folder = tmp_path / "hw"
    folder.mkdir()
    for name in ("ann", "boom"):
        shutil.copy(SAMPLES / "correct.py", folder / f"{name}.py")
    result = grade_batch(
        folder, tmp_path / "out", options(workers=0, grade_function=flaky_grade, exercises=())
    )
    assert [o.status for o in result.outcomes] == ["graded", "error"]
    assert result.outcome("boom").max_score == sum(e.max_score for e in exercises.EXERCISES)


def test_ctrl_c_stops_the_workers_and_keeps_what_was_graded(tmp_path):
    before = set(multiprocessing.active_children())
    folder = tmp_path / "hw"
    folder.mkdir()
    for index in range(8):
        shutil.copy(SAMPLES / "correct.py", folder / f"s{index}.py")
    out = tmp_path / "out"

    def interrupt_after_two(event):
        if event.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        grade_batch(folder, out, options(exercises=("activations",)), interrupt_after_two)
    assert not new_children(before)
    assert sum(runs_per_student(out / "gradebook.sqlite").values()) == 2
    rest = grade_batch(folder, out, options(exercises=("activations",)))
    assert (rest.graded, rest.skipped) == (6, 2)
    assert runs_per_student(out / "gradebook.sqlite") == {f"s{i}": 1 for i in range(8)}


def test_a_batch_killed_with_sigkill_resumes_where_it_stopped(tmp_path):
    folder = tmp_path / "hw"
    folder.mkdir()
    students = [f"s{index:02d}" for index in range(12)]
    for student in students:
        shutil.copy(SAMPLES / "correct.py", folder / f"{student}.py")
    out = tmp_path / "out"
    db = out / "gradebook.sqlite"
    command = [sys.executable, "-m", "grader", "batch", str(folder), "--out", str(out)]
    command += ["--workers", "1", *FAST]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (db.exists() and sum(runs_per_student(db).values()) >= 1):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "no result was recorded"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        process.kill()
        process.stderr.close()
    graded_before = sum(runs_per_student(db).values())
    assert 1 <= graded_before < len(students), "the batch finished before it was killed"

    rest = grade_batch(folder, out, options(exercises=(), workers=2))
    assert rest.skipped == graded_before and rest.graded == len(students) - graded_before
    assert runs_per_student(db) == dict.fromkeys(students, 1)
    assert len(read_csv(out / "gradebook.csv")) == len(students)


# --------------------------------------------------------------------------- CLI


def test_cli_batch_then_export_and_show(graded):
    folder, out = graded
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["batch", str(folder), "--out", str(out), *FAST] + sum((["-e", name] for name in FEW), []),
    )
    assert result.exit_code == 0, result.output
    assert "0 graded, 6 unchanged and skipped" in result.output
    assert "mean" in result.output and "median" in result.output
    assert "mse_loss" in result.output  # the function most students failed
    assert "not submissions, ignored: roster.txt" in result.output

    db = str(out / "gradebook.sqlite")
    exported = out / "export.csv"
    result = runner.invoke(main, ["gradebook", "export", "--db", db, "--csv", str(exported)])
    assert result.exit_code == 0, result.output
    assert exported.read_text() == (out / "gradebook.csv").read_text()
    result = runner.invoke(main, ["gradebook", "export", "--db", db, "--csv", "-"])
    assert result.stdout == exported.read_text()

    result = runner.invoke(main, ["gradebook", "show", "bob", "--db", db])
    assert result.exit_code == 0, result.output
    assert "runs of bob" in result.output and "mse_loss" in result.output
    assert "known_mistake" in result.output or "scaled" in result.output
    result = runner.invoke(main, ["gradebook", "show", "nobody", "--db", db])
    assert result.exit_code == 1 and "no runs of nobody" in result.output


def test_cli_batch_exits_3_and_lists_the_submissions_the_grader_failed_on(tmp_path, monkeypatch):
    import grader.cli.batch_commands as batch_commands

    folder = tmp_path / "hw"
    folder.mkdir()
    for name in ("ann", "boom", "zed"):
        shutil.copy(SAMPLES / "correct.py", folder / f"{name}.py")

    def with_a_grader_bug(directory, out, options, *rest):  # raises in a worker, for boom
        return grade_batch(directory, out, replace(options, grade_function=flaky_grade), *rest)

    monkeypatch.setattr(batch_commands, "grade_batch", with_a_grader_bug)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["batch", str(folder), "--out", str(out), "-j", "2", "-e", "activations", *FAST]
    )
    assert result.exit_code == 3, result.output
    assert "grader errors" in result.stdout and "RuntimeError: boom" in result.stdout
    (line,) = result.stderr.splitlines()
    assert "the grader itself failed on 1 submission (boom)" in line
    assert "Traceback" not in result.output
    reports = sorted(p.name for p in (out / "reports").iterdir())
    assert reports == ["ann.json", "boom.json", "zed.json"]


def test_cli_usage_errors(tmp_path):
    runner = CliRunner()
    folder = make_class(tmp_path)
    result = runner.invoke(main, ["batch", str(folder), "--out", str(tmp_path / "o"), "-e", "x"])
    assert result.exit_code == 2 and "unknown exercise" in result.output
    result = runner.invoke(main, ["batch", str(folder / "alice.py"), "--out", str(tmp_path)])
    assert result.exit_code == 2
    result = runner.invoke(main, ["batch", str(folder), "--out", str(tmp_path), "--budget", "0"])
    assert result.exit_code == 2 and "submission_seconds" in result.output
    missing = tmp_path / "missing.sqlite"
    result = runner.invoke(main, ["gradebook", "show", "ann", "--db", str(missing)])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- discovery


def test_hash_follows_content_not_metadata(tmp_path):
    folder = tmp_path / "sub"
    (folder / "pkg").mkdir(parents=True)
    (folder / "a.py").write_text("x = 1\n")
    (folder / "pkg" / "b.py").write_text("y = 2\n")
    first = content_hash(folder)
    os.utime(folder / "a.py", (1, 1))
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "a.pyc").write_bytes(b"\0")
    (folder / ".ipynb_checkpoints").mkdir()
    assert content_hash(folder) == first
    (folder / "pkg" / "b.py").write_text("y = 3\n")
    assert content_hash(folder) != first
    (folder / "pkg" / "b.py").write_text("y = 2\n")
    (folder / "pkg" / "b.py").rename(folder / "pkg" / "c.py")
    assert content_hash(folder) != first
    os.symlink("/etc/passwd", folder / "link.py")  # its target's name, never its bytes
    assert content_hash(folder) != first
    assert content_hash(folder / "a.py") != content_hash(folder)


def test_discovery_names_students_and_resolves_clashes(tmp_path):
    (tmp_path / "ann.py").write_text("")
    (tmp_path / "ann.ipynb").write_text("{}")
    (tmp_path / "out").mkdir()
    (tmp_path / "ben").mkdir()
    (tmp_path / "readme.txt").write_text("")
    (tmp_path / "__pycache__").mkdir()
    found, ignored = discover(tmp_path, exclude=[tmp_path / "out"])
    assert [(s.student, s.path.name) for s in found] == [
        ("ann.ipynb", "ann.ipynb"),
        ("ann.py", "ann.py"),
        ("ben", "ben"),
    ]
    assert ignored == []
