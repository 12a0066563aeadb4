"""Isolation is never weaker than the user believes.

Strong mode works wherever Python, a virtual environment or numpy live (also under /tmp,
as on CI runners and with tox); every report records the sandbox it ran in and why;
`--isolation strong` fails with one line and exit status 2 where it cannot be had, and
takes precedence over GRADER_SANDBOX.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
from click.testing import CliRunner
from rich.console import Console

from grader.batch import BatchOptions, grade_batch
from grader.cli import main
from grader.gradescope_build import AutograderConfig, run_script
from grader.renderers import gradescope_json, junit_xml
from grader.report import Report
from grader.sandbox import describe_isolation, isolation
from grader.summary import print_batch_summary

ROOT = Path(__file__).resolve().parents[1]
CORRECT = ROOT / "submissions" / "correct.py"
HOSTILE = ROOT / "tests" / "hostile" / "copies_answer_key.py"
STRONG = describe_isolation().mode == "strong"
NEEDS_STRONG = pytest.mark.skipif(
    not STRONG, reason=f"strong isolation unavailable here: {describe_isolation().reason}"
)


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def grade_json(python: str, submission: Path, env: dict | None = None) -> dict:
    """`grader grade --isolation strong --json -` run by `python` in a fresh process."""
    done = subprocess.run(
        [python, "-m", "grader", "grade", str(submission), "-e", "activations"]
        + ["--isolation", "strong", "--json", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# ------------------------------------------------------------- Python and numpy under /tmp


@pytest.fixture(scope="module")
def tmp_venv(tmp_path_factory) -> str:
    """A virtual environment under pytest's temporary folder (under /tmp), seeing the
    grader and numpy through the system site-packages, as tox and CI runners make them."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
        timeout=120,
    )
    return str(venv / "bin" / "python")


@NEEDS_STRONG
def test_strong_mode_works_with_python_in_a_venv_under_tmp(tmp_venv):
    report = grade_json(tmp_venv, CORRECT)
    assert report["isolation"]["mode"] == "strong", report["isolation"]
    assert report["score"] == report["max_score"] == 4


@NEEDS_STRONG
def test_a_hostile_submission_in_that_venv_still_cannot_read_the_answer_key(tmp_venv):
    report = grade_json(tmp_venv, HOSTILE)
    assert report["isolation"]["mode"] == "strong"
    passed = {c["function"] for c in report["exercises"][0]["checks"] if c["passed"]}
    assert passed == {"relu", "relu_grad", "sigmoid_grad"}  # not sigmoid: no answer key


@NEEDS_STRONG
def test_strong_mode_works_with_numpy_installed_under_tmp(tmp_path):
    """numpy in a folder under /tmp on PYTHONPATH, as `pip install --target` makes it."""
    site = tmp_path / "site"
    site.mkdir()
    for source in package_dirs():
        try:  # hard links: cheap, where /tmp is on the same filesystem
            shutil.copytree(source, site / source.name, copy_function=os.link)
        except OSError:
            shutil.rmtree(site / source.name, ignore_errors=True)
            shutil.copytree(source, site / source.name)
    env = {"PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import numpy; print(numpy.__file__)"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    assert where.stdout.startswith(str(site))
    report = grade_json(sys.executable, CORRECT, env)
    assert report["isolation"]["mode"] == "strong", report["isolation"]
    assert report["score"] == report["max_score"] == 4
    hostile = grade_json(sys.executable, HOSTILE, env)
    assert hostile["score"] == 3


def package_dirs() -> list[Path]:
    numpy_dir = Path(numpy.__file__).resolve().parent
    libs = numpy_dir.with_name("numpy.libs")
    return [numpy_dir] + ([libs] if libs.is_dir() else [])


def test_python_installed_straight_into_tmp_never_shows_the_whole_tmp(monkeypatch):
    monkeypatch.setattr(isolation.sys, "prefix", "/tmp")
    plan = isolation.strong_plan("/tmp/root", ("numpy",), 64)
    assert "/tmp" not in plan["binds"]


# ------------------------------------------------------------------ the report's field


def test_the_report_records_the_mode_what_was_asked_and_why():
    result = run("grade", CORRECT, "-e", "chain_rule", "--json", "-")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema_version"] == 2
    assert data["isolation"]["mode"] == describe_isolation().mode
    assert data["isolation"]["requested"] == "auto"
    assert data["isolation"]["reason"]

    forced = run("grade", CORRECT, "-e", "chain_rule", "--json", "-", "--isolation", "fallback")
    assert json.loads(forced.stdout)["isolation"] == {
        "mode": "fallback",
        "requested": "fallback",
        "reason": "fallback requested (--isolation fallback)",
    }


def test_check_says_clearly_when_it_graded_in_fallback_mode():
    fallback = run("check", CORRECT, "-e", "chain_rule", "--isolation", "fallback")
    assert fallback.exit_code == 0
    assert "isolation: FALLBACK" in fallback.output
    assert "answer key" in fallback.output
    if STRONG:
        strong = run("check", CORRECT, "-e", "chain_rule")
        assert "FALLBACK" not in strong.output


def test_renderers_carry_the_isolation():
    report = Report.model_validate_json(
        run("grade", CORRECT, "-e", "chain_rule", "--json", "-", "--isolation", "fallback").stdout
    )
    xml = junit_xml(report)
    assert '<property name="isolation" value="fallback"' in xml
    assert 'name="isolation_reason" value="fallback requested' in xml
    extra = json.loads(gradescope_json(report))["extra_data"]
    assert extra["isolation"]["mode"] == "fallback"


def test_version_1_reports_still_read():
    old = {"grader_version": "0", "submission": "x.py", "seed": 1, "score": 0, "max_score": 0}
    assert Report.model_validate({**old, "isolation": "strong"}).isolation.mode == "strong"
    assert Report.model_validate({**old, "isolation": ""}).isolation is None


# -------------------------------------------------------- asking for strong where it is not


@pytest.fixture
def no_namespaces(monkeypatch):
    """This process's strong probe fails, as it does where namespaces are unavailable."""
    monkeypatch.setattr(
        isolation, "_probe_strong", lambda packages: (False, "pretend: no namespaces", None, {})
    )
    monkeypatch.setattr(isolation, "_INFO", None)
    monkeypatch.setattr(isolation, "_PROBED", None)
    monkeypatch.setattr(isolation, "_WARNED", True)
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)


@pytest.mark.parametrize("command", ["grade", "check"])
def test_strong_where_unavailable_is_one_line_and_exit_2(no_namespaces, command):
    result = run(command, CORRECT, "-e", "chain_rule", "--isolation", "strong")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "strong isolation unavailable" in lines[0] and "pretend: no namespaces" in lines[0]
    assert "Traceback" not in result.output


def test_batch_with_strong_where_unavailable_grades_nothing(no_namespaces, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(CORRECT, folder / "ann.py")
    result = run("batch", folder, "--out", tmp_path / "out", "-j", "0", "--isolation", "strong")
    assert result.exit_code == 2, result.output
    assert "strong isolation unavailable" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "reports" / "ann.json").exists()


def test_auto_where_unavailable_falls_back_and_the_report_says_why(no_namespaces):
    result = run("grade", CORRECT, "-e", "chain_rule", "--json", "-")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["isolation"]
    assert found["mode"] == "fallback"
    assert "pretend: no namespaces" in found["reason"]


def test_the_option_takes_precedence_over_grader_sandbox(monkeypatch):
    monkeypatch.setattr(isolation, "_INFO", None)
    monkeypatch.setattr(isolation, "_PROBED", None)
    monkeypatch.setenv("GRADER_SANDBOX", "fallback")
    result = run("grade", CORRECT, "-e", "chain_rule", "--json", "-", "--isolation", "strong")
    if STRONG:
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["isolation"]["mode"] == "strong"
    else:
        assert result.exit_code == 2
    monkeypatch.setenv("GRADER_SANDBOX", "strong")
    result = run("grade", CORRECT, "-e", "chain_rule", "--json", "-", "--isolation", "fallback")
    assert json.loads(result.stdout)["isolation"]["mode"] == "fallback"


# ------------------------------------------------------------------- batch and Gradescope


@NEEDS_STRONG
def test_batch_shows_the_isolation_and_never_reuses_a_weaker_report(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(CORRECT, folder / "ann.py")
    weak = grade_batch(
        folder,
        tmp_path / "out",
        BatchOptions(exercises=("chain_rule",), workers=0, isolation="fallback"),
    )
    assert weak.outcome("ann").report.isolation.mode == "fallback"
    console = Console(file=io.StringIO(), width=200)
    print_batch_summary(weak, console)
    assert "isolation: fallback for 1: FALLBACK" in console.file.getvalue()

    strong = grade_batch(
        folder,
        tmp_path / "out",
        BatchOptions(exercises=("chain_rule",), workers=1, isolation="strong"),
    )
    assert strong.outcome("ann").status == "graded"  # not the stored fallback report
    assert strong.outcome("ann").report.isolation.mode == "strong"
    console = Console(file=io.StringIO(), width=200)
    print_batch_summary(strong, console)
    assert "isolation: strong (Linux namespaces" in console.file.getvalue()


def test_the_gradescope_autograder_asks_for_strong_isolation():
    assert '--isolation "$ISOLATION"' in run_script(AutograderConfig())
    assert "ISOLATION=strong\n" in run_script(AutograderConfig())
    assert "ISOLATION=auto\n" in run_script(AutograderConfig(isolation="auto"))
    with pytest.raises(ValueError):
        AutograderConfig(isolation="none")
