"""`grade --gradescope/--junit`, its exit codes, and the Gradescope autograder zip.

The zip test unpacks the zip into a fake `/autograder` tree under tmp_path and runs its
`run_autograder` with bash, `AUTOGRADER_ROOT` pointing at the tree. Nothing is installed:
`setup.sh --check` only checks the bundle, `GRADER_PYTHON` is this interpreter and
`PYTHONPATH` puts the zip's own copy of the grader first, so the source shipped in the zip
is what grades.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import exercises
from exercises import derive_seed
from grader.assignment import load_assignment
from grader.cli import main
from grader.gradescope_build import AutograderConfig, build_autograder, check_submission_choice

SAMPLES = Path(__file__).resolve().parents[1] / "submissions"
CORRECT = SAMPLES / "correct.py"
MSE_SUM = SAMPLES / "bug_mse_loss_sum.py"  # mse_loss fails wherever it is graded
SYNTAX = SAMPLES / "bug_notebook_syntax_error.ipynb"  # three logistic functions missing
BASH = shutil.which("bash")


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def load_assignment_text(text: str, folder: Path):
    path = folder / "assignment-read-back.toml"
    path.write_text(text)
    return load_assignment(path)


def failed_tests(results: dict) -> dict[str, float]:
    return {t["name"]: t["max_score"] for t in results["tests"] if t["status"] == "failed"}


# ---------------------------------------------------------- grade --gradescope / --junit


def test_grade_writes_gradescope_and_junit_for_a_correct_submission(tmp_path):
    gs, junit, report = tmp_path / "out" / "results.json", tmp_path / "junit.xml", tmp_path / "r"
    result = run("grade", CORRECT, "--gradescope", gs, "--junit", junit, "--json", report)
    assert result.exit_code == 0, result.output
    results = json.loads(gs.read_text())
    assert results["score"] == sum(e.max_score for e in exercises.EXERCISES)
    assert failed_tests(results) == {}
    assert len(results["tests"]) == sum(len(e.functions) for e in exercises.EXERCISES)
    assert {t["status"] for t in results["tests"]} == {"passed"}
    assert json.loads(report.read_text())["score"] == results["score"]
    root = ET.parse(junit).getroot()
    assert (root.get("failures"), root.get("errors")) == ("0", "0")
    assert len(root.findall("testsuite")) == len(exercises.EXERCISES)


def test_grade_reports_the_failing_functions_of_a_buggy_submission(tmp_path):
    gs, junit = tmp_path / "results.json", tmp_path / "junit.xml"
    result = run(
        "grade",
        MSE_SUM,
        "-e",
        "univariate_regression",
        "-e",
        "multivariate_regression",
        "--gradescope",
        gs,
        "--junit",
        junit,
        "--gradescope-visibility",
        "after_due_date",
    )
    assert result.exit_code == 0, result.output
    results = json.loads(gs.read_text())
    assert failed_tests(results) == {
        "univariate_regression: mse_loss": 1.0,
        "multivariate_regression: mse_loss": 1.0,
    }
    assert results["score"] == 6.0
    assert results["visibility"] == "after_due_date"
    assert {t["visibility"] for t in results["tests"]} == {"after_due_date"}
    failing = next(t for t in results["tests"] if t["status"] == "failed")
    assert failing["score"] == 0.0
    assert "Hint:" in failing["output"]
    root = ET.parse(junit).getroot()
    failures = {
        f"{case.get('classname')}.{case.get('name')}": case.find("failure").get("message")
        for case in root.iter("testcase")
        if case.find("failure") is not None
    }
    assert failures == {
        "univariate_regression.mse_loss": "known_mistake",
        "multivariate_regression.mse_loss": "known_mistake",
    }


def test_grade_puts_load_errors_in_both_outputs(tmp_path):
    gs, junit = tmp_path / "results.json", tmp_path / "junit.xml"
    args = ["grade", SYNTAX, "-e", "logistic_regression", "--gradescope", gs, "--junit", junit]
    result = run(*args)
    assert result.exit_code == 0, result.output
    results = json.loads(gs.read_text())
    assert "SyntaxError" in results["output"]
    assert results["score"] == 0.0
    assert set(failed_tests(results)) == {
        "logistic_regression: logistic_forward",
        "logistic_regression: bce_loss",
        "logistic_regression: logistic_backward",
    }
    load = ET.parse(junit).getroot().find(".//testcase[@name='load']/error")
    assert "SyntaxError" in load.text


@pytest.mark.parametrize(
    ("sample", "fail_under", "code"),
    [
        (CORRECT, "100", 0),
        (MSE_SUM, "100", 1),
        (MSE_SUM, "75", 0),  # 3 / 4 is exactly 75%: not below
        (MSE_SUM, "75.1", 1),
    ],
)
def test_fail_under_exit_codes(sample, fail_under, code, tmp_path):
    junit = tmp_path / "junit.xml"
    args = ["grade", sample, "-e", "univariate_regression", "--fail-under", fail_under]
    result = run(*args, "--junit", junit)
    assert result.exit_code == code, result.output
    assert junit.exists()  # the reports are written before the verdict


@pytest.mark.parametrize(
    "extra",
    [
        ["--fail-under", "101"],
        ["--gradescope-visibility", "sometimes"],
        ["--gradescope"],
        ["--junit", "{tmp}"],  # a folder, not a file
        ["--exercise", "no_such_exercise"],
    ],
)
def test_usage_errors_exit_2(extra, tmp_path):
    args = ["grade", CORRECT, *[a.replace("{tmp}", str(tmp_path)) for a in extra]]
    assert run(*args).exit_code == 2


def test_unwritable_report_path_is_an_error_not_a_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    args = ["grade", CORRECT, "-e", "chain_rule", "--junit", blocker / "sub" / "junit.xml"]
    result = run(*args)
    assert result.exit_code == 2  # an output that cannot be written is never a verdict
    assert "Could not open file" in result.output or "junit.xml" in result.output
    assert not isinstance(result.exception, OSError)


# ------------------------------------------------------------------- gradescope build


def test_build_command_writes_a_complete_reproducible_zip(tmp_path):
    out = tmp_path / "autograder.zip"
    result = run("gradescope", "build", out, "-e", "activations", "--salt", "pepper")
    assert result.exit_code == 0, result.output
    assert "setup.sh, run_autograder" in result.output
    with zipfile.ZipFile(out) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        run_autograder = archive.read("run_autograder").decode()
        manifest = json.loads(archive.read("autograder.json"))
        assignment = archive.read("assignment.toml").decode()
    for name in ("setup.sh", "run_autograder"):
        assert infos[name].external_attr >> 16 == 0o100755
    for required in (
        "grader-src/pyproject.toml",
        "grader-src/README.md",
        "grader-src/grader/__main__.py",
        "grader-src/grader/renderers/gradescope.py",
        "grader-src/exercises/__init__.py",
        "grader-src/reference/__init__.py",
    ):
        assert required in infos
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in infos)
    assert '--assignment "$ASSIGNMENT"' in run_autograder
    assert "--gradescope-metadata" in run_autograder
    assert load_assignment_text(assignment, tmp_path).exercises == ("activations",)
    assert "GRADER_COURSE_SALT=pepper" in run_autograder
    assert manifest["exercises"] == {"activations": 4} and manifest["max_score"] == 4
    assert manifest["course_salt"] == "set"  # the salt itself stays out of the manifest
    again = tmp_path / "again.zip"
    assert run("gradescope", "build", again, "-e", "activations", "--salt", "pepper").exit_code == 0
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.parametrize(
    "extra",
    [["-e", "nope"], ["--submission", "../x.py"], ["--submission", "/etc/passwd"]],
)
def test_build_usage_errors_exit_2(extra, tmp_path):
    assert run("gradescope", "build", tmp_path / "a.zip", *extra).exit_code == 2
    assert not (tmp_path / "a.zip").exists()


def test_submission_choice_validation():
    for good in ("auto", "folder", "hw3.ipynb", "part 1/solution.py"):
        assert check_submission_choice(good) == good
    for bad in ("", "../hw.py", "/abs.py", "a\\b.py", "x\ny.py"):
        with pytest.raises(ValueError):
            check_submission_choice(bad)


# ---------------------------------------------------- run_autograder on a fake tree


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    config = AutograderConfig(
        exercises=("univariate_regression", "activations"), salt="pepper", visibility="visible"
    )
    build_autograder(out, config)
    return out


def fake_autograder(zip_path: Path, root: Path, *submissions: Path) -> Path:
    """The tree Gradescope makes: source/ (the zip), run_autograder, submission/, results/."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for sample in submissions:
        shutil.copy(sample, root / "submission" / sample.name)
    return root


def run_autograder(root: Path, **env: str) -> tuple[subprocess.CompletedProcess, dict]:
    environment = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "GRADER_PYTHON": sys.executable,
        "PYTHONPATH": str(root / "source" / "grader-src"),
        **env,
    }
    done = subprocess.run(
        [BASH, str(root / "run_autograder")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = root / "results" / "results.json"
    assert results.exists(), done.stdout + done.stderr
    return done, json.loads(results.read_text())


pytestmark_bash = pytest.mark.skipif(BASH is None, reason="bash is needed")


@pytestmark_bash
def test_setup_check_mode_checks_without_installing(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path / "autograder")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER_BASE_PYTHON": sys.executable}
    setup = [BASH, str(root / "source" / "setup.sh")]
    done = subprocess.run([*setup, "--check"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "nothing installed" in done.stdout
    assert not (root / "grader-venv").exists()
    assert not (root / "source" / "grader-python").exists()
    env["GRADER_SETUP_CHECK_ONLY"] = "1"
    (root / "source" / "grader-src" / "reference" / "__init__.py").unlink()
    done = subprocess.run(setup, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert "reference/__init__.py is missing" in done.stderr


@pytestmark_bash
def test_the_zipped_grader_itself_is_what_runs(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path / "autograder")
    bundle = root / "source" / "grader-src"
    code = "import grader, exercises, reference as r; print(grader.__file__, r.__file__)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(bundle)},
        cwd=root,  # as run_autograder does: the project's checkout is not on the path
        capture_output=True,
        text=True,
        check=True,
    )
    paths = done.stdout.split()
    assert len(paths) == 2
    assert all(Path(p).is_relative_to(bundle) for p in paths)


@pytestmark_bash
def test_run_autograder_grades_a_correct_submission(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path / "autograder", CORRECT)
    done, results = run_autograder(root)
    assert "grading" in done.stdout and "correct.py" in done.stdout
    assert results["score"] == 8.0
    assert results["extra_data"]["max_score"] == 8.0
    assert {t["status"] for t in results["tests"]} == {"passed"}
    assert [t["name"] for t in results["tests"]][:3] == [
        "univariate_regression: univariate_forward",
        "univariate_regression: mse_loss",
        "univariate_regression: univariate_backward",
    ]
    assert len(results["tests"]) == 7
    assert all(t["visibility"] == "visible" for t in results["tests"])


@pytestmark_bash
def test_run_autograder_grades_a_buggy_notebook_before_a_py_and_seeds_per_student(
    autograder_zip, tmp_path
):
    root = fake_autograder(autograder_zip, tmp_path / "autograder", CORRECT)
    # A notebook is preferred to a .py file: the buggy one is graded, not correct.py.
    shutil.copy(SAMPLES / "bug_mse_loss_shadowed.ipynb", root / "submission" / "hw.ipynb")
    metadata = {"users": [{"email": "ada@uni.edu", "id": 1, "name": "Ada"}]}
    (root / "submission_metadata.json").write_text(json.dumps(metadata))
    done, results = run_autograder(root)
    assert "hw.ipynb" in done.stdout
    assert failed_tests(results) == {"univariate_regression: mse_loss": 1.0}
    assert results["score"] == 7.0
    statuses = {t["name"]: t["status"] for t in results["tests"]}
    assert statuses["univariate_regression: univariate_backward"] == "passed"
    assert statuses["activations: relu_grad"] == "passed"
    assert results["extra_data"]["seed"] == derive_seed("ada@uni.edu", "pepper")
    assert "metadata" not in done.stderr


@pytestmark_bash
@pytest.mark.parametrize(
    ("metadata", "why"),
    [
        (None, "is missing"),
        ("{not json", "cannot be read"),
        (json.dumps({"users": []}), "names no student"),
        (json.dumps({"users": [{"name": "Ada"}]}), "names no student"),
    ],
)
def test_run_autograder_says_when_the_metadata_gives_no_student(
    autograder_zip, tmp_path, metadata, why
):
    root = fake_autograder(autograder_zip, tmp_path / "autograder", CORRECT)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(metadata)
    done, results = run_autograder(root)
    assert results["score"] == 8.0  # still graded
    assert f"submission metadata {root / 'submission_metadata.json'} {why}" in done.stderr
    assert why in results["output"] and "default seed" in results["output"]


def test_grade_puts_a_metadata_error_in_the_report(tmp_path):
    report = tmp_path / "report.json"
    metadata = tmp_path / "submission_metadata.json"
    args = ["grade", CORRECT, "-e", "chain_rule", "--json", report]
    result = run(*args, "--gradescope-metadata", metadata)
    assert result.exit_code == 0, result.output
    errors = json.loads(report.read_text())["errors"]
    assert len(errors) == 1 and "is missing" in errors[0]
    assert "is missing" in result.stderr
    metadata.write_text(json.dumps({"users": [{"email": "b@x"}, {"email": "a@x"}]}))
    assert run(*args, "--gradescope-metadata", metadata).exit_code == 0
    data = json.loads(report.read_text())
    assert data["errors"] == [] and data["student_id"] == "a@x+b@x"
    both = run(*args, "--gradescope-metadata", metadata, "--student", "s1")
    assert both.exit_code == 2


@pytestmark_bash
def test_run_autograder_explains_an_empty_or_wrong_submission(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path / "empty")
    (root / "submission" / "notes.txt").write_text("I did not finish")
    _, results = run_autograder(root)
    assert results["score"] == 0.0
    assert "contains no .py or .ipynb file" in results["output"]

    named = tmp_path / "named.zip"
    build_autograder(named, AutograderConfig(exercises=("activations",), submission="hw3.ipynb"))
    root = fake_autograder(named, tmp_path / "named", CORRECT)
    _, results = run_autograder(root)
    assert results["score"] == 0
    assert results["tests"] == []
    assert "No file named hw3.ipynb" in results["output"]


@pytestmark_bash
def test_run_autograder_still_writes_results_when_the_grader_cannot_run(autograder_zip, tmp_path):
    root = fake_autograder(autograder_zip, tmp_path / "autograder", CORRECT)
    done, results = run_autograder(root, GRADER_PYTHON="/bin/false")
    assert results["score"] == 0
    assert "please tell course staff" in results["output"]
    assert "the grader failed" in done.stderr
