"""JUnit XML from a report: what CI systems display as test results.

Layout: a `testsuites` root (with the total score as properties), one `testsuite` per
exercise, one `testcase` per checked function (`classname` the exercise, `name` the
function). A failed check has a `failure` whose `message` is the diagnosis code and whose
text is the grader's message and hint (never the expected answer). Scores are
`properties` (`score`, `max_score`) of every suite and case. When part of the submission
could not be loaded, an extra suite `submission` holds a `load` testcase with an `error`.

Built with ElementTree, which escapes `<`, `&` and quotes; characters XML 1.0 cannot
carry at all (NUL, escape sequences from a student's output...) are replaced first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.renderers.gradescope import check_feedback, diagnosis_label
from grader.report import CheckResult, ExerciseResult, Report

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    """`value` as text XML 1.0 can hold: forbidden characters become U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(value))


def junit_xml(report: Report) -> str:
    """The JUnit XML document for `report`, with an XML declaration."""
    root = ET.Element(
        "testsuites",
        name=xml_text(f"grader: {report.submission}"),
        tests=str(sum(len(e.checks) for e in report.exercises) + (1 if report.errors else 0)),
        failures=str(sum(not c.passed for e in report.exercises for c in e.checks)),
        errors=str(1 if report.errors else 0),
        time=f"{report.duration_seconds:.3f}",
    )
    add_properties(
        root,
        score=report.score,
        max_score=report.max_score,
        percent=f"{report.percent:.1f}",
        seed=report.seed,
        grader_version=report.grader_version,
        isolation=report.isolation.mode if report.isolation else "",
        isolation_reason=report.isolation.reason if report.isolation else "",
    )
    if report.errors:
        root.append(load_suite(report))
    for exercise in report.exercises:
        root.append(exercise_suite(exercise))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def exercise_suite(exercise: ExerciseResult) -> ET.Element:
    suite = ET.Element(
        "testsuite",
        name=xml_text(exercise.name),
        tests=str(len(exercise.checks)),
        failures=str(sum(not c.passed for c in exercise.checks)),
        errors="0",
        skipped="0",
    )
    add_properties(suite, score=exercise.score, max_score=exercise.max_score, title=exercise.title)
    for check in exercise.checks:
        suite.append(check_case(exercise, check))
    return suite


def check_case(exercise: ExerciseResult, check: CheckResult) -> ET.Element:
    case = ET.Element("testcase", classname=xml_text(exercise.name), name=xml_text(check.function))
    add_properties(case, score=check.score, max_score=check.max_score)
    if not check.passed:
        code = check.diagnosis.code if check.diagnosis else "failed"
        failure = ET.SubElement(
            case, "failure", message=xml_text(code), type=xml_text(diagnosis_label(check))
        )
        failure.text = xml_text(check_feedback(check))
    if check.stdout:
        ET.SubElement(case, "system-out").text = xml_text(check.stdout)
    return case


def load_suite(report: Report) -> ET.Element:
    suite = ET.Element("testsuite", name="submission", tests="1", failures="0", errors="1")
    case = ET.SubElement(suite, "testcase", classname="submission", name="load")
    error = ET.SubElement(case, "error", message="load_error", type="load_error")
    error.text = xml_text("\n".join(report.errors))
    if report.output:
        ET.SubElement(case, "system-out").text = xml_text(report.output)
    return suite


def add_properties(element: ET.Element, **values: object) -> None:
    properties = ET.SubElement(element, "properties")
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=xml_text(value))
