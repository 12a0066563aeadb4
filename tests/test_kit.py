"""The student kit: starter notebooks plus public instances, graded without the answer key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner

import exercises
from grader.checks import expected_output
from grader.cli import main
from grader.kit import INSTANCES_FILE, write_kit
from grader.public_instances import read_instances

SAMPLES = Path(__file__).resolve().parents[1] / "submissions"
WITHOUT_ANSWER_KEY = (
    "import sys; sys.modules['reference'] = None; from grader.cli import main; main()"
)


def same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def test_public_instances_round_trip_exactly(tmp_path):
    chosen = [exercises.get("optimizers"), exercises.get("two_layer_mlp")]
    write_kit(tmp_path, chosen, seed=11)
    published = read_instances(tmp_path / INSTANCES_FILE)
    for exercise in chosen:
        for original, loaded in zip(exercise.instances(11), published[exercise.name], strict=True):
            assert loaded.label == original.label
            assert same(loaded.args, original.args)
            for spec in exercise.functions:
                if spec.check == "values":
                    assert same(loaded.expected[spec.name], expected_output(spec, original))


def run_without_answer_key(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_ANSWER_KEY, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_kit_grades_without_the_answer_key(tmp_path):
    result = CliRunner().invoke(main, ["kit", str(tmp_path), "-e", "two_layer_sigmoid"])
    assert result.exit_code == 0, result.output
    notebook = tmp_path / "06_two_layer_sigmoid.ipynb"
    assert INSTANCES_FILE in notebook.read_text()
    instances = str(tmp_path / INSTANCES_FILE)
    good = run_without_answer_key(
        "grade", str(SAMPLES / "correct.py"), "--instances", instances, "--json", "-"
    )
    assert good.returncode == 0, good.stderr
    report = json.loads(good.stdout)
    assert [e["name"] for e in report["exercises"]] == ["two_layer_sigmoid"]
    assert report["score"] == report["max_score"] == 4
    bad = run_without_answer_key(
        "check",
        str(SAMPLES / "bug_sigmoid2_backward_sigmoid_not_derivative.ipynb"),
        "--instances",
        instances,
    )
    assert bad.returncode == 1, bad.stderr
    assert "sigmoid2_backward" in bad.stdout and "0/3" in bad.stdout
    starter = run_without_answer_key("check", str(notebook), "--instances", instances)
    assert starter.returncode == 1 and "NotImplementedError" in starter.stdout


def test_a_broken_instance_file_is_a_usage_error(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "something else"}')
    result = CliRunner().invoke(
        main, ["check", str(SAMPLES / "correct.py"), "--instances", str(broken)]
    )
    assert result.exit_code == 2
    assert "not a public instance file" in result.output


def test_kit_refuses_to_overwrite_without_force(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["kit", str(tmp_path), "-e", "chain_rule"]).exit_code == 0
    again = runner.invoke(main, ["kit", str(tmp_path), "-e", "chain_rule"])
    assert again.exit_code == 1 and "--force" in again.output
    assert runner.invoke(main, ["kit", str(tmp_path), "-e", "chain_rule", "--force"]).exit_code == 0
