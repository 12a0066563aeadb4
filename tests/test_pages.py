"""Feedback pages: the student page, the class page, the CLI and batch that write them, and
the promise that `grader check` without --html never imports matplotlib or jinja2.

No browser here (tests/test_pages_browser.py drives Chromium): the pages are parsed with
html.parser, which is enough to check structure, links, labels and escaping.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from grader.batch import BatchOptions, grade_batch
from grader.cli import main
from grader.figures import (
    ActivationCurve,
    BatchMembership,
    DirectionCheck,
    ErrorMap,
    ErrorPanel,
    LossHistory,
    OptimizerSteps,
    as_data,
)
from grader.renderers.gradescope import gradescope_results
from grader.renderers.html import class_page, html_fragment, html_page
from grader.report import CheckResult, Diagnosis, ExerciseResult, Isolation, Report
from grader.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "submissions"
LIMITS = Limits(call_seconds=2.0, submission_seconds=60.0)
SCRIPT = "<script>alert('x')</script>"

# Expected values the report's figures compare against: none may appear on the page.
SECRET_LOSSES = [0.6931471805599453, 0.5123456789, 0.4387654321, 0.3712345987]
SECRET_ACTIVATION = [0.2689414213699951, 0.5, 0.7310585786300049, 0.8807970779778823]


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class Structure(HTMLParser):
    """Elements in order, checking that every non-void element is closed where it opens."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), list(self.stack)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), list(self.stack)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] not in ("style", "script"):
            self.text.append(data)


def parse(page: str) -> Structure:
    parser = Structure()
    parser.feed(page)
    parser.close()
    assert parser.errors == [], parser.errors[:5]
    assert parser.stack == [], parser.stack
    return parser


def external_links(parser: Structure) -> list[str]:
    found = []
    for _, attrs, _ in parser.elements:
        for name in ("src", "href", "xlink:href", "action", "srcset"):
            value = (attrs.get(name) or "").strip().lower()
            if value.startswith(("http:", "https:", "//")):
                found.append(value)
    return found


def figures_of(parser: Structure) -> list[dict]:
    return [attrs for tag, attrs, _ in parser.elements if tag == "figure"]


def all_figures() -> list[dict]:
    return as_data(
        [
            ErrorMap(
                instance="n=3, m=4",
                panels=[
                    ErrorPanel(
                        output="dW1",
                        shape=[3, 4],
                        errors=[[0.0, 2.5, 1e-9, 3.0], [0.0] * 4, [1e300, 0.5, 0.5, 0.5]],
                        tolerance=1e-6,
                    ),
                    ErrorPanel(output="db", shape=[3, 1], errors=[[1.0, 2.0, 3.0]], tolerance=1e-6),
                ],
            ),
            LossHistory(
                instance="m=8",
                student=[0.7, 1.4, 2.9, None],
                reference=SECRET_LOSSES,
                diverges=True,
            ),
            OptimizerSteps(
                A=[[2.0, 0.3], [0.3, 1.0]],
                center=[1.0, -0.5],
                student=[[0.0, 0.0], [0.6, -0.1], [1.9, -0.9]],
                reference=[[0.0, 0.0], [0.4, -0.2], [0.7, -0.35]],
                stopped=None,
            ),
            BatchMembership(
                instance="m=7", m=7, batch_size=3, batches=[[2, 0, 2], [5, 1, 4], [-1]]
            ),
            ActivationCurve(
                z=[-1.0, 0.0, 1.0, 2.0], student=[0.1, 0.25, None, 0.3], reference=SECRET_ACTIVATION
            ),
            DirectionCheck(instance="n=2", analytic=[1.5, -0.5, 2.0], numeric=[-1.5, 0.5, -2.0]),
        ]
    )


def make_report(student_id: str | None = SCRIPT, *, figures: bool = True) -> Report:
    diagnosis = Diagnosis(
        code="scaled", factor=4.0, factor_name="m", output="dW1", hint="Divide by m <once>."
    )
    failing = CheckResult(
        function="linear2_backward",
        passed=False,
        score=0.0,
        max_score=3.0,
        message="dW1 is m times too large & <wrong>",
        diagnosis=diagnosis,
        stdout="printed by the student: 0.6931471805599453",
        figures=all_figures() if figures else [],
    )
    passing = CheckResult(
        function="linear2_forward",
        passed=True,
        score=1.0,
        max_score=1.0,
        message="correct on all 6 instances",
    )
    return Report(
        grader_version="0.1.0",
        submission="hw/student.ipynb",
        student_id=student_id,
        seed=11,
        score=1.0,
        max_score=4.0,
        isolation=Isolation(mode="fallback", requested="auto", reason="no user namespaces"),
        errors=["cell 4 has a syntax error: <here>"],
        notes=["a note for you"],
        output="loading printed 0.7310585786300049",
        exercises=[
            ExerciseResult(
                name="two_layer_linear",
                title="Two-layer linear network",
                score=1.0,
                max_score=4.0,
                checks=[passing, failing],
            )
        ],
    )


# ------------------------------------------------------------------------- the student page


@pytest.fixture(scope="module")
def page() -> str:
    return html_page(make_report())


def test_page_is_well_formed_and_self_contained(page):
    assert page.startswith("<!DOCTYPE html>")
    parsed = parse(page)
    tags = {tag for tag, _, _ in parsed.elements}
    assert {"html", "head", "body", "style", "svg", "figure", "figcaption"} <= tags
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert external_links(parsed) == []
    assert "<!DOCTYPE svg" not in page and "<?xml" not in page
    assert 'name="viewport"' in page and "@media print" in page and "@media (max-width" in page
    ids = [attrs["id"] for _, attrs, _ in parsed.elements if attrs.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"


def test_every_figure_is_an_image_with_a_label_an_svg_and_a_caption(page):
    parsed = parse(page)
    figures = figures_of(parsed)
    # one per error map panel (2), then loss, optimizer, batches, activation, directions
    assert len(figures) == 7
    for attrs in figures:
        assert attrs.get("class") == "plot" and attrs.get("role") == "img"
        assert len(attrs.get("aria-label") or "") > 40
    inside = [stack for tag, _, stack in parsed.elements if tag in ("svg", "figcaption")]
    assert len(inside) == 14 and all("figure" in stack for stack in inside)
    assert page.count("<title>") == 1 + 7  # the page's and one per SVG
    assert "Error map of dW1 (shape (3, 4))" in page and "Error map of db" in page


def test_page_says_what_grader_check_says(page):
    from grader.renderers.html import shown_name
    from grader.renderers.text import hint_text, report_text

    report = make_report()
    text = " ".join(" ".join(parse(page).text).split())
    named = report.model_copy(update={"submission": shown_name(report)})  # not the path
    for line in report_text(named).splitlines():
        if "FAIL" in line or "ok " in line:
            continue  # the marks are separate elements on the page, checked below
        if line.strip():
            assert " ".join(line.split()).rstrip(":").lower() in text.lower(), line
    failing = report.exercises[0].checks[1]
    assert hint_text(failing) in text and "[scaled by m in dW1]" in text
    assert "FAIL linear2_backward 0/3 [scaled by m in dW1] dW1 is m times too large" in text
    assert "ok linear2_forward 1/1 correct on all 6 instances" in text
    assert "FALLBACK" in text and "cell 4 has a syntax error: <here>" in text


def test_page_never_shows_expected_values_or_what_the_student_printed(page):
    secrets = [*SECRET_LOSSES, SECRET_ACTIVATION[0], *SECRET_ACTIVATION[2:]]
    for value in secrets:
        for shown in (repr(value), f"{value:.6g}", f"{value:.4g}"):
            assert shown not in page, shown
    assert "printed by the student" not in page and "loading printed" not in page


def test_text_from_the_report_is_escaped(page):
    assert SCRIPT not in page
    assert "&lt;script&gt;" in page
    assert "<wrong>" not in page and "&lt;wrong&gt;" in page


def test_figures_only_for_failing_functions_and_a_passing_page_is_short():
    report = make_report()
    report.exercises[0].checks[0].figures = all_figures()  # a passing check: never drawn
    assert len(figures_of(parse(html_page(report)))) == 7
    passing = make_report(figures=False)
    passing.exercises[0].checks = passing.exercises[0].checks[:1]
    fragment = html_fragment(passing)
    assert fragment.startswith('<div class="grader-page">') and "<figure" not in fragment
    assert "<html" not in fragment and "<body" not in fragment
    assert len(fragment) < 20_000


def test_a_figure_that_cannot_be_read_is_left_out():
    report = make_report()
    report.exercises[0].checks[1].figures = [{"kind": "from_the_future", "x": 1}]
    assert "<figure" not in html_page(report)


# ------------------------------------------------------------------------------ class page


def test_log_tick_labels_are_plain_text_with_superscripts():
    from grader.renderers.drawing import TextLogFormatter, unmath

    assert unmath(r"$\mathdefault{10^{-3}}$") == "10⁻³"
    assert unmath(r"$\mathdefault{2\times10^{-6}}$") == "2×10⁻⁶"
    assert unmath(r"$\mathdefault{-10^{12}}$") == "−10¹²"
    assert unmath("0.5") == "0.5"
    formatter = TextLogFormatter()
    formatter.create_dummy_axis()
    formatter.axis.set_view_interval(1e-6, 1.0)
    assert formatter(1e-4) == "10⁻⁴" and "$" not in formatter(1.0)


def test_class_page_links_sorts_and_escapes():
    reports = [make_report(SCRIPT), make_report("bob", figures=False)]
    reports[1].score = 4.0
    page = class_page(
        reports,
        title="hw3 <draft>",
        students=[SCRIPT, "bob"],
        pages={SCRIPT: "pages/%3Cscript%3E.html", "bob": "pages/bob.html"},
        files=[("CSV gradebook", "gradebook.csv"), ("SQLite gradebook", "gradebook.sqlite")],
    )
    parsed = parse(page)
    assert SCRIPT not in page and "hw3 <draft>" not in page
    assert external_links(parsed) == []
    table = [attrs for tag, attrs, _ in parsed.elements if tag == "table" and attrs.get("id")]
    assert {"students", "failure-rates"} <= {attrs["id"] for attrs in table}
    hrefs = [attrs["href"] for tag, attrs, _ in parsed.elements if tag == "a"]
    assert hrefs == [
        "gradebook.csv",
        "gradebook.sqlite",
        "pages/%3Cscript%3E.html",
        "pages/bob.html",
    ]
    scripts = [stack for tag, _, stack in parsed.elements if tag == "script"]
    assert len(scripts) == 1 and "src=" not in page.split("<script>")[1]
    assert len(figures_of(parsed)) == 2  # histogram, failure rates
    assert all(f.get("role") == "img" and f.get("aria-label") for f in figures_of(parsed))
    assert "isolation: fallback for 2" in page


# ----------------------------------------------------------------------------- Gradescope


def test_gradescope_html_output_is_an_escaped_link_free_summary():
    results = gradescope_results(make_report(), output_format="html")
    assert results["output_format"] == "html"
    output = results["output"]
    parsed = parse(output)
    assert {tag for tag, _, _ in parsed.elements} <= {"p", "strong", "ul", "li", "code", "em", "br"}
    assert "&lt;wrong&gt;" in output and "[scaled by m in dW1]" in output
    assert gradescope_results(make_report())["output_format"] == "text"
    with pytest.raises(ValueError):
        gradescope_results(make_report(), output_format="pdf")


# --------------------------------------------------------------------- command line, batch


def test_check_and_grade_write_the_page(tmp_path):
    runner = CliRunner()
    sample = str(SAMPLES / "bug_linear2_dW1_transposed.py")
    out = tmp_path / "check.html"
    result = runner.invoke(main, ["check", sample, "-e", "two_layer_linear", "--html", str(out)])
    assert result.exit_code == 1, result.output
    page = out.read_text()
    parsed = parse(page)
    assert figures_of(parsed), "a failing function gets its figures"
    assert "linear2_backward" in page and external_links(parsed) == []

    results, graded = tmp_path / "results.json", tmp_path / "grade.html"
    result = runner.invoke(
        main,
        [
            "grade", sample, "-e", "two_layer_linear", "--gradescope", str(results),
            "--gradescope-output", "html", "--html", str(graded),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(results.read_text())["output_format"] == "html"
    assert figures_of(parse(graded.read_text()))

    result = runner.invoke(main, ["check", sample, "--open"])
    assert result.exit_code == 2 and "--html" in result.output


def test_open_uses_the_web_browser(tmp_path, monkeypatch):
    import webbrowser

    opened = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    out = tmp_path / "p.html"
    sample = str(SAMPLES / "correct.py")
    args = ["check", sample, "-e", "activations", "--html", str(out), "--open"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert opened == [out.resolve().as_uri()]


def test_check_without_html_imports_neither_matplotlib_nor_jinja2():
    args = [sys.executable, "-X", "importtime", "-m", "grader", "check"]
    args += [str(SAMPLES / "bug_sigmoid_overflow.py"), "-e", "activations"]
    result = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "sigmoid" in result.stdout
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert {"numpy", "grader.engine", "grader.renderers.text"} <= imported  # it did import
    heavy = {n for n in imported if n.split(".")[0] in ("matplotlib", "jinja2", "markupsafe")}
    assert heavy == set()
    assert "grader.renderers.html" not in imported and "grader.renderers.plots" not in imported


def test_batch_writes_a_class_page_and_a_page_per_student(tmp_path):
    folder = tmp_path / "hw"
    folder.mkdir()
    shutil.copy(SAMPLES / "correct.py", folder / "alice.py")
    shutil.copy(SAMPLES / "bug_sigmoid_overflow.py", folder / "bob #2.py")
    (folder / "erin.py").write_text("def sigmoid(z)\n    return z\n")
    out = tmp_path / "out"
    options = BatchOptions(exercises=("activations",), workers=0, limits=LIMITS)
    result = grade_batch(folder, out, options)
    assert result.index_path == out / "index.html" and result.page_errors == []
    pages = sorted(p.name for p in (out / "pages").iterdir())
    assert pages == ["alice.html", "bob #2.html", "erin.html"]
    index = (out / "index.html").read_text()
    parsed = parse(index)
    assert external_links(parsed) == []
    hrefs = [attrs["href"] for tag, attrs, _ in parsed.elements if tag == "a"]
    assert "gradebook.csv" in hrefs and "gradebook.sqlite" in hrefs
    student_links = [h for h in hrefs if h.startswith("pages/")]
    assert len(student_links) == 3
    for href in hrefs:
        assert (out / unquote(href)).exists(), href
    bob = (out / "pages" / "bob #2.html").read_text()
    assert figures_of(parse(bob)) and 'href="../index.html"' in bob
    assert not figures_of(parse((out / "pages" / "alice.html").read_text()))
    assert re.search(r'<table id="students">', index)
    reports = json.loads((out / "reports" / "bob #2.json").read_text())
    assert any(check["figures"] for e in reports["exercises"] for check in e["checks"])

    # A rerun reuses every report and keeps the pages; without pages it reuses them too.
    before = (out / "pages" / "bob #2.html").stat().st_mtime_ns
    again = grade_batch(folder, out, options)
    assert again.skipped == 3 and (out / "pages" / "bob #2.html").stat().st_mtime_ns == before
    assert grade_batch(folder, out, replace(options, pages=False)).skipped == 3
    plain = grade_batch(folder, tmp_path / "plain", replace(options, pages=False))
    assert plain.index_path is None and not (tmp_path / "plain" / "pages").exists()
    assert not (tmp_path / "plain" / "index.html").exists()


def test_batch_no_pages_flag(tmp_path):
    folder = tmp_path / "hw"
    folder.mkdir()
    shutil.copy(SAMPLES / "correct.py", folder / "alice.py")
    out = tmp_path / "out"
    args = ["batch", str(folder), "--out", str(out), "-e", "activations", "--workers", "0"]
    result = CliRunner().invoke(main, [*args, "--no-pages"])
    assert result.exit_code == 0, result.output
    assert not (out / "index.html").exists() and not (out / "pages").exists()
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file() and (out / "pages" / "alice.html").is_file()
    assert "pages:" in result.output


def test_a_page_names_the_student_or_the_file_never_the_graders_path(tmp_path):
    from grader.engine import GradeOptions, grade

    report = grade(SAMPLES / "correct.py", GradeOptions(exercises=("chain_rule",), seed=1))
    page = html_page(report)
    assert str(SAMPLES) not in page and "correct.py" in page
    named = html_page(report.model_copy(update={"student_id": "s123"}))
    assert "Feedback: s123" in named and str(SAMPLES) not in named
