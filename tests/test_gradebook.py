"""The SQLite gradebook and the gradebook CSV, without grading anything."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime

import pytest

import exercises
from grader.gradebook import (
    Gradebook,
    GradebookError,
    Run,
    export_csv,
    gradebook_csv,
    write_gradebook_csv,
)
from grader.report import CheckResult, ExerciseResult, Report


def make_report(student: str, scores: dict[str, float]) -> Report:
    results = []
    for name, score in scores.items():
        exercise = exercises.get(name)
        results.append(
            ExerciseResult(
                name=name,
                title=exercise.title,
                score=score,
                max_score=exercise.max_score,
                checks=[
                    CheckResult(
                        function=exercise.functions[0].name,
                        passed=score == exercise.max_score,
                        score=score,
                        max_score=exercise.max_score,
                        message="",
                    )
                ],
            )
        )
    return Report(
        grader_version="test",
        submission=f"{student}.py",
        student_id=student,
        seed=1,
        score=sum(scores.values()),
        max_score=sum(exercises.get(n).max_score for n in scores),
        exercises=results,
    )


def make_run(student: str, assignment: str = "hw1", score: float = 4.0, **changes) -> Run:
    report = make_report(student, {"activations": score})
    fields = dict(
        student=student,
        assignment=assignment,
        content_hash="h-" + student,
        seed=7,
        grader_version="test",
        selection="",
        config="{}",
        status="graded",
        score=report.score,
        max_score=report.max_score,
        report_json=report.to_json(),
        submission=f"{student}.py",
    )
    fields.update(changes)
    return Run(**fields)


def test_record_then_read_back_latest_history_and_assignments(tmp_path):
    path = tmp_path / "book.sqlite"
    with Gradebook(path) as book:
        first = book.record(make_run("ann", score=1))
        book.record(make_run("bob", score=2))
        second = book.record(make_run("ann", score=3))
        book.record(make_run("ann", assignment="hw2", score=4))
    assert first.id < second.id
    assert datetime.fromisoformat(first.graded_at).utcoffset().total_seconds() == 0

    with Gradebook(path, create=False) as book:  # survives closing and reopening
        assert book.latest("hw1", "ann").score == 3
        assert book.latest("hw1", "nobody") is None
        assert [r.score for r in book.history("ann")] == [1, 3, 4]
        assert [r.score for r in book.history("ann", "hw1")] == [1, 3]
        assert [(r.student, r.score) for r in book.latest_runs("hw1")] == [("ann", 3), ("bob", 2)]
        assert book.assignments() == ["hw1", "hw2"]
        assert book.count() == 4 and book.count("hw2") == 1
        latest = book.latest("hw1", "ann")
        assert latest.report.exercises[0].score == 3


def test_database_is_in_wal_mode_and_readable_while_a_writer_holds_it(tmp_path):
    path = tmp_path / "book.sqlite"
    with Gradebook(path) as writer:
        writer.record(make_run("ann"))
        assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        writer._db.execute("BEGIN IMMEDIATE")  # a write transaction in progress
        with Gradebook(path, create=False) as reader:
            assert reader.latest("hw1", "ann") is not None
        writer._db.rollback()


def test_missing_or_foreign_files_are_refused(tmp_path):
    with pytest.raises(GradebookError, match="no gradebook"):
        Gradebook(tmp_path / "absent.sqlite", create=False)
    assert not (tmp_path / "absent.sqlite").exists()
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database at all, just text " * 100)
    with pytest.raises(GradebookError):
        Gradebook(text)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    for create in (False, True):  # never adds its tables to someone else's database
        with pytest.raises(GradebookError, match="not a gradebook"):
            Gradebook(other, create=create)


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "book.sqlite"
    Gradebook(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(GradebookError, match="newer grader"):
        Gradebook(path)


def test_the_run_table_rejects_unknown_statuses(tmp_path):
    with Gradebook(tmp_path / "b.sqlite") as book, pytest.raises(sqlite3.IntegrityError):
        book.record(make_run("ann", status="maybe"))


def test_csv_has_catalogue_order_and_blanks_for_exercises_not_graded():
    entries = [
        ("zoe", make_report("zoe", {"gradient_descent": 3, "chain_rule": 1.5})),
        ("ann", make_report("ann", {"activations": 2})),
    ]
    rows = list(csv.reader(io.StringIO(gradebook_csv(entries))))
    assert rows[0] == ["student", "total", "max", "chain_rule", "activations", "gradient_descent"]
    assert rows[1] == ["ann", "2", "4", "", "2", ""]
    assert rows[2] == ["zoe", "4.5", "6", "1.5", "", "3"]


def test_requested_exercises_get_columns_even_when_nobody_has_them(tmp_path):
    entries = [("ann", make_report("ann", {"activations": 4}))]
    path = write_gradebook_csv(tmp_path / "deep" / "g.csv", entries, ["deep_network"])
    header = path.read_text().splitlines()[0]
    assert header == "student,total,max,activations,deep_network"


def test_export_takes_the_latest_run_and_needs_a_choice_between_assignments(tmp_path):
    with Gradebook(tmp_path / "b.sqlite") as book:
        with pytest.raises(GradebookError, match="no runs"):
            export_csv(book)
        book.record(make_run("ann", score=1))
        book.record(make_run("ann", score=4))
        assert export_csv(book)[1].splitlines()[1] == "ann,4,4,4"
        book.record(make_run("bob", assignment="hw2"))
        with pytest.raises(GradebookError, match="several assignments"):
            export_csv(book)
        with pytest.raises(GradebookError, match="no assignment 'hw9'"):
            export_csv(book, "hw9")
        assignment, text = export_csv(book, "hw2")
        assert assignment == "hw2" and text.splitlines()[1].startswith("bob,")
