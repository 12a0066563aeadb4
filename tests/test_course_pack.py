"""The example pack examples/course_pack end to end: `check` grades its correct and buggy
submissions, `starter` writes its notebook, `batch` grades a folder with its exercises in
worker processes, and a Gradescope zip built with `--pack` bundles it and grades with it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import catalogue
from grader.cli import main

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "examples" / "course_pack"
CORRECT = PACK / "solutions" / "correct.py"
BUGGY = PACK / "solutions" / "buggy.py"
BASH = shutil.which("bash")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != catalogue.ENVIRONMENT}
    return {**env, "COLUMNS": "200", **extra}


def test_check_gives_full_marks_to_the_correct_submission():
    result = run("check", "--pack", PACK, CORRECT)
    assert result.exit_code == 0, result.output
    assert "6 / 6 points" in result.output.splitlines()[0]


def test_check_names_the_mistakes_of_the_buggy_submission():
    result = run("check", "--pack", PACK, BUGGY)
    assert result.exit_code == 1, result.output
    assert "known_mistake: tanh_grad_not_squared" in result.output
    assert "known_mistake: tanh2_grad_not_squared" in result.output
    assert "2 / 6 points" in result.output.splitlines()[0]


def test_starter_writes_a_notebook_for_a_pack_exercise(tmp_path):
    out = tmp_path / "tanh.ipynb"
    result = run("starter", "--pack", PACK, "tanh_activation", "-o", out)
    assert result.exit_code == 0, result.output
    notebook = json.loads(out.read_text())
    source = "".join("".join(cell["source"]) for cell in notebook["cells"])
    assert "def tanh_grad(z)" in source and "1 - tanh(z)**2" in source


def test_batch_grades_pack_exercises_in_its_worker_processes(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    shutil.copy(CORRECT, folder / "alice.py")
    shutil.copy(BUGGY, folder / "bob.py")
    done = subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(folder), "--pack", str(PACK)]
        + ["-e", "tanh_activation", "-e", "two_layer_tanh", "-o", str(tmp_path / "out")]
        + ["--workers", "2"],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    reports = tmp_path / "out" / "reports"
    alice = json.loads((reports / "alice.json").read_text())
    bob = json.loads((reports / "bob.json").read_text())
    assert (alice["score"], alice["max_score"]) == (6.0, 6.0)
    assert (bob["score"], bob["max_score"]) == (2.0, 6.0)
    mistakes = {
        c["diagnosis"]["mistake"] for e in bob["exercises"] for c in e["checks"] if c["diagnosis"]
    }
    assert mistakes == {"tanh_grad_not_squared", "tanh2_grad_not_squared"}


@pytest.mark.skipif(BASH is None, reason="bash is needed")
def test_a_gradescope_zip_bundles_the_pack_and_grades_with_it(tmp_path):
    out = tmp_path / "autograder.zip"
    result = run(
        "gradescope", "build", out, "--pack", PACK, "-e", "tanh_activation",
        "-e", "two_layer_tanh", "--isolation", "auto",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "bundled packs" in result.output
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert "packs/course_pack/two_layer_tanh.py" in names
        assert "packs/course_pack/_common.py" in names
        assert not any("__pycache__" in name for name in names)
        assert (
            'export GRADER_PACKS="$ROOT/source/packs/course_pack"'
            in archive.read("run_autograder").decode()
        )
        root = tmp_path / "autograder"
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    shutil.copy(BUGGY, root / "submission" / "hw.py")
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"email": "a@b.c"}]}))
    done = subprocess.run(
        [BASH, str(root / "run_autograder")],
        env=environment(
            AUTOGRADER_ROOT=str(root),
            GRADER_PYTHON=sys.executable,
            PYTHONPATH=str(root / "source" / "grader-src"),
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 2.0, results
    assert results["extra_data"]["max_score"] == 6.0
    failed = {t["name"] for t in results["tests"] if t["status"] == "failed"}
    assert failed == {"tanh_activation: tanh_grad", "two_layer_tanh: tanh2_backward"}
