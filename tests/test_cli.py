"""The command line through click's CliRunner and a real subprocess."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import exercises
import grader.engine
from grader.cli import main
from grader.report import Report

SAMPLES = Path(__file__).resolve().parents[1] / "submissions"
CORRECT = str(SAMPLES / "correct.py")
BUGGY = str(SAMPLES / "bug_logistic_backward_sign.py")
TOTAL = sum(exercise.max_score for exercise in exercises.EXERCISES)
ONE_FUNCTION = "def chain_forward(a, b, c):\n    return float(3 * (a + b * c))\n"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_list_shows_every_exercise_and_the_total():
    result = run("list")
    assert result.exit_code == 0
    for name in ("chain_rule", "deep_network", "gradient_descent", "sigmoid2_backward"):
        assert name in result.output
    assert "50" in result.output


def test_check_exits_zero_when_everything_passes_and_one_otherwise():
    good = run("check", CORRECT, "-e", "logistic_regression")
    bad = run("check", BUGGY, "-e", "logistic_regression")
    assert good.exit_code == 0, good.output
    assert bad.exit_code == 1
    assert "logistic_backward" in bad.output and "sign" in bad.output
    assert "hint" in bad.output


def test_grade_writes_the_json_scripts_depend_on(tmp_path):
    out = tmp_path / "nested" / "report.json"
    result = run("grade", BUGGY, "--student", "s1", "--json", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    Report.model_validate(data)
    assert {"score", "max_score", "exercises", "seed", "schema_version"} <= data.keys()
    exercise = data["exercises"][0]
    assert {"name", "score", "max_score", "checks"} <= exercise.keys()
    assert {"function", "passed", "score", "max_score", "message"} <= exercise["checks"][0].keys()
    assert data["score"] == data["max_score"] - 2
    assert data["student_id"] == "s1"


def test_grade_to_stdout_is_pure_json():
    result = run("grade", CORRECT, "-e", "chain_rule", "--json", "-")
    assert json.loads(result.output)["score"] == 3


def test_fail_under_and_usage_errors():
    assert run("grade", BUGGY, "--fail-under", "99").exit_code == 1
    assert run("grade", BUGGY, "--fail-under", "90").exit_code == 0
    unknown = run("grade", BUGGY, "--exercise", "nope")
    assert unknown.exit_code == 2 and "unknown exercise" in unknown.output
    assert run("grade", "/no/such/file.py").exit_code == 2
    assert run("grade", BUGGY, "--fail-under", "150").exit_code == 2


def test_schema_is_the_report_json_schema():
    result = run("schema")
    schema = json.loads(result.output)
    assert schema["title"] == "Report"
    assert "exercises" in schema["properties"]


def test_doctor_names_the_isolation_mode():
    result = run("doctor")
    assert result.exit_code == 0
    assert "isolation mode:" in result.output


def test_python_dash_m_grader_runs_in_a_subprocess():
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "check", CORRECT, "-e", "chain_rule"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "chain_backward" in completed.stdout


def test_any_sandbox_limit_can_be_overridden(tmp_path):
    chatty = tmp_path / "chatty.py"
    chatty.write_text(
        "print('x' * 10_000)\n\ndef chain_forward(a, b, c):\n    return 3 * (a + b * c)\n"
    )
    default = json.loads(run("grade", str(chatty), "-e", "chain_rule", "--json", "-").output)
    limited = run(
        "grade", str(chatty), "-e", "chain_rule", "--json", "-", "--limit", "output_bytes=100"
    )
    assert len(default["output"]) >= 2000
    assert len(json.loads(limited.output)["output"]) <= 200
    assert run("grade", str(chatty), "--limit", "nope=1").exit_code == 2
    assert run("grade", str(chatty), "--limit", "memory_mb=abc").exit_code == 2
    assert run("grade", str(chatty), "--limit", "memory_mb=10").exit_code == 2


def test_check_prints_plain_lines_when_its_output_is_not_a_terminal():
    result = run("check", BUGGY, "-e", "logistic_regression")
    lines = result.output.splitlines()
    assert lines[0].endswith("2 / 4 points (50%)")
    failed = next(line for line in lines if line.lstrip().startswith("FAIL"))
    assert failed.split()[:3] == ["FAIL", "logistic_backward", "0/2"]
    assert "[known_mistake: bce_y_swapped]" in failed
    hint = lines[lines.index(failed) + 1]
    assert hint.strip().startswith("hint: ") and hint.index("hint") == failed.index("[known")
    assert not set("│┃━─╭") & set(result.output)


def shown_in_terminal(*args: str, **environ: str) -> tuple[int, str]:
    """Run the grader with a pseudo-terminal as its output: (exit code, what it showed)."""
    leader, follower = pty.openpty()
    completed = subprocess.run(
        [sys.executable, "-m", "grader", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        timeout=120,
        env=dict(os.environ, **environ),
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO once the terminal is drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert completed.returncode in (0, 1), completed.stderr
    return completed.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_check_colours_and_wraps_its_lines_for_a_terminal():
    code, shown = shown_in_terminal("check", BUGGY, "-e", "logistic_regression", COLUMNS="72")
    assert code == 1
    assert "\x1b[" in shown  # colours
    visible = re.sub(r"\x1b\[[0-9;]*m", "", shown).splitlines()
    assert any(line.lstrip().startswith("FAIL logistic_backward") for line in visible)
    assert any(line.lstrip().startswith("hint: ") for line in visible)
    function_lines = [line for line in visible if line.startswith("  ")]
    assert len(function_lines) > 4 and max(map(len, function_lines)) <= 72


def test_no_color_turns_the_colours_off():
    _, shown = shown_in_terminal("check", BUGGY, "-e", "logistic_regression", NO_COLOR="1")
    assert "logistic_backward" in shown and "\x1b[" not in shown


# --------------------------------------------------------------- the same total for everyone


def test_grade_is_out_of_every_exercise_whatever_the_submission_attempts(tmp_path):
    one = tmp_path / "one.py"
    one.write_text(ONE_FUNCTION)
    report = tmp_path / "report.json"
    result = run("grade", str(one), "--json", str(report), "--fail-under", "60")
    assert result.exit_code == 1, result.output
    data = json.loads(report.read_text())
    assert (data["score"], data["max_score"]) == (1, TOTAL)
    assert [e["name"] for e in data["exercises"]] == list(exercises.names())
    assert "whatever the submission attempts" in data["selection"]


def test_check_grades_what_was_attempted_and_says_so(tmp_path):
    one = tmp_path / "one.py"
    one.write_text(ONE_FUNCTION)
    result = run("check", str(one))
    assert result.exit_code == 1
    assert result.output.splitlines()[0].endswith("1 / 3 points (33%)")
    assert "graded only what you attempted" in result.output


# --------------------------------------------------------------- exit codes


def raise_inside_the_grader(*args, **kwargs):
    raise ValueError("a grader bug\nover two lines")


def test_an_internal_error_exits_3_with_one_line_and_a_log_file(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(grader.engine, "instances_for", raise_inside_the_grader)
    result = run("grade", CORRECT, "-e", "chain_rule", "--fail-under", "50")
    assert result.exit_code == 3
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        "grader: internal error (ValueError: a grader bug over two lines); "
        "please report it with the file "
    )
    assert line.endswith(" to the course staff (the grader's maintainers)")
    (log,) = tmp_path.glob("grader-error-*.log")
    assert str(log) in line
    assert "Traceback" in log.read_text() and "raise_inside_the_grader" in log.read_text()
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("exception", "code"), [(KeyboardInterrupt, 130), (SystemExit(4), 4)])
def test_interrupts_and_exits_are_not_internal_errors(monkeypatch, exception, code):
    def fail(*args, **kwargs):
        raise exception

    monkeypatch.setattr(grader.engine, "instances_for", fail)
    result = run("check", CORRECT, "-e", "chain_rule")
    assert result.exit_code == code
    assert "internal error" not in result.output
