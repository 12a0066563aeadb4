"""The Gradescope and JUnit renderers, on hand-made reports (no grading, no sandbox)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from grader.renderers import VISIBILITIES, gradescope_json, gradescope_results, junit_xml
from grader.renderers.junit import xml_text
from grader.report import CheckResult, Diagnosis, ExerciseResult, InstanceFailure, Report

NASTY = "a <b> & \"c\" 'd' ]]> \x00 \x1b[31mred\x1b[0m \ud800 é ∂"


def passed(function: str, points: float = 1.0) -> CheckResult:
    return CheckResult(
        function=function,
        passed=True,
        score=points,
        max_score=points,
        message="correct on all 5 instances",
        instances_passed=5,
        instances_total=5,
    )


def failed(function: str, points: float, diagnosis: Diagnosis, message: str) -> CheckResult:
    return CheckResult(
        function=function,
        passed=False,
        score=0.0,
        max_score=points,
        message=message,
        diagnosis=diagnosis,
        instances_passed=1,
        instances_total=5,
        failures=[InstanceFailure(instance="m=2", message=message, diagnosis=diagnosis)],
        stdout="debug print 12345",
    )


MSE_HINT = "The loss is a mean over the m examples: divide by the number of columns."


def make_report(errors: list[str] | None = None, output: str = "") -> Report:
    mse = Diagnosis(code="known_mistake", mistake="mse_sum_not_mean", factor=2.0, hint=MSE_HINT)
    scaled = Diagnosis(code="scaled", factor=0.5, factor_name="1/2", hint="Check the 2.")
    exercises = [
        ExerciseResult(
            name="univariate_regression",
            title="Univariate linear regression",
            score=1.0,
            max_score=4.0,
            checks=[
                passed("univariate_forward"),
                failed("mse_loss", 1.0, mse, "the squared errors summed but not divided by m"),
                failed("univariate_backward", 2.0, scaled, "your answer is 1/2 times the answer"),
            ],
        ),
        ExerciseResult(
            name="activations",
            title="Activations",
            score=2.0,
            max_score=2.0,
            checks=[passed("sigmoid"), passed("relu")],
        ),
    ]
    return Report(
        grader_version="0.1.0",
        submission="student.ipynb",
        seed=7,
        score=3.0,
        max_score=6.0,
        duration_seconds=1.25,
        isolation="strong",
        errors=errors or [],
        output=output,
        exercises=exercises,
    )


# ------------------------------------------------------------------------- Gradescope


def test_gradescope_has_the_top_level_fields_and_one_test_per_function():
    results = gradescope_results(make_report())
    assert results["score"] == 3.0
    assert results["visibility"] == "visible"
    assert results["stdout_visibility"] == "hidden"
    assert results["execution_time"] == 2
    assert "Score: 3 / 6 (50.0%)" in results["output"]
    assert "univariate_regression: mse_loss" in results["output"]
    tests = {t["name"]: t for t in results["tests"]}
    assert list(tests) == [
        "univariate_regression: univariate_forward",
        "univariate_regression: mse_loss",
        "univariate_regression: univariate_backward",
        "activations: sigmoid",
        "activations: relu",
    ]
    for test in results["tests"]:
        assert set(test) == {"name", "score", "max_score", "output", "visibility", "status"}
        assert test["visibility"] == "visible"
    assert tests["univariate_regression: mse_loss"]["status"] == "failed"
    assert tests["univariate_regression: mse_loss"]["score"] == 0.0
    assert tests["univariate_regression: univariate_backward"]["max_score"] == 2.0
    assert tests["activations: sigmoid"]["status"] == "passed"
    assert tests["activations: sigmoid"]["output"] == "correct on all 5 instances"
    assert sum(t["score"] for t in results["tests"]) == results["score"]


def test_gradescope_test_output_is_message_hint_and_diagnosis_only():
    tests = {t["name"]: t for t in gradescope_results(make_report())["tests"]}
    output = tests["univariate_regression: mse_loss"]["output"]
    assert output.splitlines() == [
        "the squared errors summed but not divided by m",
        f"Hint: {MSE_HINT}",
        "Diagnosis: known_mistake (mse_sum_not_mean)",
    ]
    assert "(1/2)" in tests["univariate_regression: univariate_backward"]["output"]
    # What the function printed is not feedback and is left out.
    assert "12345" not in json.dumps(tests)


def test_gradescope_output_lists_load_errors_but_not_what_the_submission_printed():
    report = make_report(
        errors=["code cell 9, line 5: SyntaxError: expected ':'"], output="SECRET ANSWER"
    )
    results = gradescope_results(report)
    assert "could not be loaded" in results["output"]
    assert "code cell 9, line 5: SyntaxError" in results["output"]
    assert "SECRET ANSWER" not in json.dumps(results)


def test_gradescope_visibility_options_and_validation():
    results = gradescope_results(
        make_report(),
        visibility="after_due_date",
        stdout_visibility="visible",
        test_visibility="after_published",
    )
    assert results["visibility"] == "after_due_date"
    assert results["stdout_visibility"] == "visible"
    assert {t["visibility"] for t in results["tests"]} == {"after_published"}
    assert set(VISIBILITIES) == {"visible", "hidden", "after_due_date", "after_published"}
    hidden = gradescope_results(make_report(), visibility="hidden")
    assert {t["visibility"] for t in hidden["tests"]} == {"hidden"}  # tests follow the top
    with pytest.raises(ValueError, match="visibility"):
        gradescope_results(make_report(), visibility="sometimes")


def test_gradescope_json_round_trips_even_with_nasty_text():
    report = make_report(errors=[NASTY])
    report.exercises[0].checks[1].message = NASTY
    text = gradescope_json(report)
    assert text.endswith("\n")
    parsed = json.loads(text)
    assert parsed["tests"][1]["output"].startswith("a <b> & ")


def test_gradescope_with_nothing_graded():
    report = make_report(errors=["The folder submission contains no .py or .ipynb file."])
    report.exercises = []
    report.score = report.max_score = 0.0
    results = gradescope_results(report)
    assert results["tests"] == []
    assert results["score"] == 0.0
    assert "No function was graded." in results["output"]
    assert "contains no .py or .ipynb file" in results["output"]


def test_gradescope_cuts_very_long_feedback():
    report = make_report()
    report.exercises[0].checks[1].message = "x" * 50_000
    output = gradescope_results(report)["tests"][1]["output"]
    assert len(output) <= 4000
    assert output.endswith("(cut)")


# ------------------------------------------------------------------------------ JUnit


def test_junit_is_well_formed_with_one_suite_per_exercise():
    root = ET.fromstring(junit_xml(make_report()))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "2", "0")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["univariate_regression", "activations"]
    assert [(s.get("tests"), s.get("failures")) for s in suites] == [("3", "2"), ("2", "0")]
    props = {p.get("name"): p.get("value") for p in root.find("properties")}
    assert (props["score"], props["max_score"], props["percent"]) == ("3.0", "6.0", "50.0")
    suite_props = {p.get("name"): p.get("value") for p in suites[0].find("properties")}
    assert (suite_props["score"], suite_props["max_score"]) == ("1.0", "4.0")


def test_junit_failures_carry_the_diagnosis_code_and_message():
    root = ET.fromstring(junit_xml(make_report()))
    cases = {f"{c.get('classname')}.{c.get('name')}": c for c in root.iter("testcase")}
    assert len(cases) == 5
    mse = cases["univariate_regression.mse_loss"]
    failure = mse.find("failure")
    assert failure.get("message") == "known_mistake"
    assert failure.get("type") == "known_mistake (mse_sum_not_mean)"
    assert "summed but not divided by m" in failure.text
    assert MSE_HINT in failure.text
    assert mse.find("system-out").text == "debug print 12345"
    case_props = {p.get("name"): p.get("value") for p in mse.find("properties")}
    assert case_props == {"score": "0.0", "max_score": "1.0"}
    backward = cases["univariate_regression.univariate_backward"]
    assert backward.find("failure").get("message") == "scaled"
    sigmoid = cases["activations.sigmoid"]
    assert sigmoid.find("failure") is None and sigmoid.find("error") is None


def test_junit_load_errors_become_an_error_testcase():
    report = make_report(errors=["solution.py, line 3: SyntaxError"], output="hello")
    root = ET.fromstring(junit_xml(report))
    assert (root.get("tests"), root.get("errors")) == ("6", "1")
    load = root.find("testsuite[@name='submission']/testcase[@name='load']")
    assert load.find("error").get("message") == "load_error"
    assert "SyntaxError" in load.find("error").text
    assert load.find("system-out").text == "hello"


def test_junit_escapes_markup_and_drops_characters_xml_cannot_hold():
    report = make_report(errors=[NASTY], output=NASTY)
    report.exercises[0].checks[1].message = NASTY
    report.exercises[0].checks[1].diagnosis.hint = NASTY
    report.exercises[0].checks[1].stdout = NASTY
    report.submission = NASTY
    text = junit_xml(report)
    root = ET.fromstring(text.encode("utf-8"))  # parses: the document is well-formed
    failure = root.find(".//testcase[@name='mse_loss']/failure")
    assert failure.text.startswith("a <b> & \"c\" 'd' ]]> \ufffd \ufffd[31mred")
    assert "é ∂" in failure.text
    assert "\x00" not in text and "\x1b" not in text
    assert root.get("name") == "grader: " + xml_text(NASTY)


def test_xml_text_keeps_what_xml_allows():
    assert xml_text("tab\tnewline\nreturn\r é 😀") == "tab\tnewline\nreturn\r é 😀"
    assert xml_text("\x01\x08\x0b\x0c\ufffe") == "\ufffd" * 5
    assert xml_text(1.5) == "1.5"


def test_diagnosis_labels_name_the_mistake_or_the_factor():
    assert Diagnosis(code="known_mistake", mistake="bce_y_swapped").label == (
        "known_mistake: bce_y_swapped"
    )
    assert Diagnosis(code="scaled", factor=0.5, factor_name="1/2").label == "scaled by 1/2"
    assert Diagnosis(code="shape_transposed").label == "shape_transposed"
    assert "label" not in Diagnosis(code="shape").model_dump()
