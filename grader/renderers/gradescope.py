"""Gradescope's `results.json` from a report.

The format (Gradescope autograder specification): a top-level `score`, `output`,
`visibility`, `stdout_visibility` and `tests`, one test per checked function with
`name`, `score`, `max_score`, `output`, `visibility` and `status`.

What students see here is the grader's own feedback: each function's message and hint,
which never contain the expected answer. What the submission printed while loading is
left out on purpose: on a machine where the sandbox runs in fallback mode, student code
can read the answer key, and printing it would put it on the student's results page.
"""

from __future__ import annotations

import json
import math
from typing import Any

from grader.report import CheckResult, ExerciseResult, Report

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
"""The visibility values Gradescope accepts, for the whole result and for each test."""

MAX_TEST_OUTPUT = 4000
"""Characters of feedback kept per test; a traceback longer than this is cut."""

MAX_SUMMARY_ERRORS = 10
"""Load errors listed one by one in the summary; further ones are counted."""

OUTPUT_FORMATS = ("text", "html")
"""Formats of the top-level `output` (Gradescope also knows md, simple_format and ansi)."""


def gradescope_results(
    report: Report,
    *,
    visibility: str = "visible",
    stdout_visibility: str = "hidden",
    test_visibility: str | None = None,
    output_format: str = "text",
) -> dict[str, Any]:
    """The results.json content for `report`, as a dict ready for `json.dumps`.

    Each test carries `test_visibility`, by default the same as `visibility`: Gradescope
    lets a test's own visibility override the top-level one, so tests marked "visible"
    under a top-level "after_due_date" would show before the due date.

    `output_format` "html" makes the top-level `output` an HTML summary (`summary_html`):
    the same content as the text, with no link, style, script or figure. The feedback page
    (`grader grade --html`) is a separate file: Gradescope sanitises the HTML it shows and
    places it inside its own page, where a whole document with CSS and SVG does not belong.
    """
    test_visibility = test_visibility or visibility
    for value in (visibility, stdout_visibility, test_visibility):
        if value not in VISIBILITIES:
            raise ValueError(f"unknown Gradescope visibility {value!r}; use one of {VISIBILITIES}")
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {output_format!r}; use one of {OUTPUT_FORMATS}")
    return {
        "score": report.score,
        "execution_time": math.ceil(report.duration_seconds),
        "output": summary_html(report) if output_format == "html" else summary(report),
        "output_format": output_format,
        "test_output_format": "text",
        "visibility": visibility,
        "stdout_visibility": stdout_visibility,
        "extra_data": {
            "grader_version": report.grader_version,
            "schema_version": report.schema_version,
            "max_score": report.max_score,
            "seed": report.seed,
            "isolation": report.isolation.model_dump() if report.isolation else None,
        },
        "tests": [
            test_entry(exercise, check, test_visibility)
            for exercise in report.exercises
            for check in exercise.checks
        ],
    }


def summary_html(report: Report) -> str:
    """`summary` as an HTML fragment: the score, each function that needs work with its
    diagnosis, message and hint, load errors and notes. Everything is escaped; there is no
    link, image, style or script, so Gradescope's sanitiser keeps it as it is."""
    from html import escape

    parts = [
        f"<p><strong>Score: {report.score:g} / {report.max_score:g} "
        f"({report.percent:.1f}%)</strong></p>"
    ]
    failing = [
        (exercise, check)
        for exercise in report.exercises
        for check in exercise.checks
        if not check.passed
    ]
    checks = sum(len(exercise.checks) for exercise in report.exercises)
    if not checks:
        parts.append("<p>No function was graded.</p>")
    elif not failing:
        parts.append(f"<p>All {checks} functions passed.</p>")
    else:
        parts.append(f"<p>{len(failing)} of {checks} functions need work:</p><ul>")
        for exercise, check in failing:
            item = f"<li><code>{escape(test_name(exercise, check))}</code>"
            if check.diagnosis is not None:
                item += f" <em>[{escape(check.diagnosis.label)}]</em>"
            item += f"<br>{escape(clip(check.message, MAX_TEST_OUTPUT))}"
            hint = check.diagnosis.hint if check.diagnosis is not None else None
            if hint and hint not in check.message:
                item += f"<br>Hint: {escape(hint)}"
            parts.append(item + "</li>")
        parts.append("</ul>")
    for title, items in (
        ("Parts of your submission could not be loaded:", report.errors),
        ("Notes:", report.notes),
    ):
        if items:
            parts.append(f"<p>{title}</p><ul>")
            parts += [f"<li>{escape(clip(item, 500))}</li>" for item in items[:MAX_SUMMARY_ERRORS]]
            if len(items) > MAX_SUMMARY_ERRORS:
                parts.append(f"<li>... and {len(items) - MAX_SUMMARY_ERRORS} more</li>")
            parts.append("</ul>")
    return "\n".join(parts)


def gradescope_json(report: Report, **options: str) -> str:
    """`gradescope_results` serialised (keyword options as there)."""
    return json.dumps(gradescope_results(report, **options), indent=2) + "\n"


def test_name(exercise: ExerciseResult, check: CheckResult) -> str:
    return f"{exercise.name}: {check.function}"


def test_entry(exercise: ExerciseResult, check: CheckResult, visibility: str) -> dict[str, Any]:
    return {
        "name": test_name(exercise, check),
        "score": check.score,
        "max_score": check.max_score,
        "status": "passed" if check.passed else "failed",
        "output": check_feedback(check),
        "visibility": visibility,
    }


def check_feedback(check: CheckResult) -> str:
    """The check's message and, when it failed, the diagnosis hint (never the answer)."""
    lines = [check.message]
    diagnosis = check.diagnosis
    if not check.passed and diagnosis is not None:
        if diagnosis.hint and diagnosis.hint not in check.message:
            lines.append(f"Hint: {diagnosis.hint}")
        lines.append(f"Diagnosis: {diagnosis_label(check)}")
    return clip("\n".join(lines), MAX_TEST_OUTPUT)


def diagnosis_label(check: CheckResult) -> str:
    """`code`, or `code (mistake)`, or `code (factor)`: a short machine-readable label."""
    diagnosis = check.diagnosis
    if diagnosis is None:
        return "passed" if check.passed else "failed"
    detail = diagnosis.mistake or diagnosis.factor_name
    return f"{diagnosis.code} ({detail})" if detail else diagnosis.code


def summary(report: Report) -> str:
    """The text shown above the tests: score, what failed, and load problems."""
    checks = [check for exercise in report.exercises for check in exercise.checks]
    failed = [
        test_name(exercise, check)
        for exercise in report.exercises
        for check in exercise.checks
        if not check.passed
    ]
    lines = [f"Score: {report.score:g} / {report.max_score:g} ({report.percent:.1f}%)."]
    if not checks:
        lines.append("No function was graded.")
    elif failed:
        lines.append(
            f"{len(failed)} of {len(checks)} functions need work: " + ", ".join(failed) + "."
        )
    else:
        lines.append(f"All {len(checks)} functions passed.")
    if report.errors:
        lines.append("")
        lines.append("Parts of your submission could not be loaded:")
        lines += [f"- {clip(error, 500)}" for error in report.errors[:MAX_SUMMARY_ERRORS]]
        if len(report.errors) > MAX_SUMMARY_ERRORS:
            lines.append(f"- ... and {len(report.errors) - MAX_SUMMARY_ERRORS} more")
    if report.notes:
        lines.append("")
        lines.append("Notes:")
        lines += [f"- {clip(note, 500)}" for note in report.notes[:MAX_SUMMARY_ERRORS]]
    return "\n".join(lines)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 15].rstrip() + " ... (cut)"
