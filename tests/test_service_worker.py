"""The local grading loop grades real submissions into the store."""

from __future__ import annotations

import json
import time
from pathlib import Path

from grader import __version__
from grader.report import Report
from grader.service.pool import LocalPool
from grader.service.store import Store
from grader.service.worker import grade_all, grade_next
from tests.service_helpers import make_course

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "submissions"


def test_grade_next_grades_a_correct_and_a_buggy_submission(tmp_path):
    course = make_course(tmp_path / "course")
    max_score = course.assignment("hw1").graded.max_score  # chain_rule 3 + activations 4
    assert max_score == 7
    with Store(tmp_path / "data", course) as store:
        correct = store.accept("s001", "hw1", "correct.py", (SAMPLES / "correct.py").read_bytes())
        buggy = store.accept(
            "s002", "hw1", "hw.py", (SAMPLES / "bug_chain_backward_db.py").read_bytes()
        )
        assert grade_next(store, course)
        assert grade_next(store, course)
        assert not grade_next(store, course)
        reports = {}
        for submission in (correct, buggy):
            state = store.get(submission.id)
            assert (state.status, state.attempts) == ("graded", 1)
            [result] = store.results(submission.id)
            assert result.grader_version == __version__
            reports[submission.student] = Report.model_validate_json(result.report_json)
        ada, alan = reports["s001"], reports["s002"]
        assert ada.max_score == alan.max_score == max_score
        assert ada.score == max_score
        assert 0 < alan.score < max_score
        assert [e.name for e in alan.exercises] == ["chain_rule", "activations"]
        assert ada.student_id == "s001" and alan.student_id == "s002"
        assert ada.seed != alan.seed  # seeded per student with the course salt
        assert store.counted("s001", "hw1").id == correct.id
        failing = [c for e in alan.exercises for c in e.checks if not c.passed]
        assert failing and any(c.figures for c in failing)  # figures=True: pages can be drawn


def test_a_grader_that_raises_records_failed_and_goes_on(tmp_path):
    course = make_course(tmp_path / "course")

    def broken(path, options):
        raise RuntimeError("the answer key is on fire")

    with Store(tmp_path / "data", course) as store:
        first = store.accept("s001", "hw1", "a.py", b"x = 1\n")
        second = store.accept("s002", "hw1", "b.ipynb", json.dumps({"cells": []}).encode())
        assert grade_next(store, course, grade_function=broken)
        state = store.get(first.id)
        assert state.status == "failed"
        assert "RuntimeError: the answer key is on fire" in state.error
        assert store.results(first.id)[0].report_json is None
        assert grade_all(store, course) == 1
        assert store.get(second.id).status == "graded"


def test_a_local_pool_grades_everything_once(tmp_path):
    course_file = tmp_path / "course" / "course.toml"
    course = make_course(tmp_path / "course")
    data_dir = tmp_path / "data"
    body = (SAMPLES / "correct.py").read_bytes()
    with Store(data_dir, course) as store:
        ids = [store.accept(f"s00{1 + i % 2}", "hw1", f"{i}.py", body).id for i in range(6)]
        interrupted = store.claim_next()  # as if a worker had died grading it
        assert interrupted.id == ids[0]
        with LocalPool(course_file, data_dir, workers=2, poll_seconds=0.05):
            deadline = time.monotonic() + 300  # a safety net, not a timing assertion
            while time.monotonic() < deadline:
                if all(store.get(i).status == "graded" for i in ids):
                    break
                time.sleep(0.1)
        for submission_id in ids:
            assert store.get(submission_id).status == "graded"
            assert len(store.results(submission_id)) == 1
        assert store.get(ids[0]).attempts == 2
