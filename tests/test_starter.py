"""Starter notebooks and scripts: derived from the declarations, loadable, gradable, and
matching the contract closely enough that the answer key poured into the stubs scores full marks."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

import exercises as catalogue
import reference
from grader.cli import main
from grader.engine import GradeOptions, grade
from grader.loading import load_submission
from grader.sandbox import Limits
from grader.starter import starter_cells, starter_text, write_starter

FAST = Limits(call_seconds=2.0, submission_seconds=60.0)
ALL = catalogue.EXERCISES
TOTAL = sum(exercise.max_score for exercise in ALL)


@pytest.fixture(scope="module")
def notebook(tmp_path_factory) -> Path:
    return write_starter(tmp_path_factory.mktemp("starter") / "starter.ipynb", ALL)


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    return write_starter(tmp_path_factory.mktemp("starter") / "starter.py", ALL)


# ------------------------------------------------------------------ the answer key poured in


def reference_cell() -> str:
    """A code cell defining `_REFERENCE`, a dict holding every answer-key function."""
    sources = []
    for path in sorted(Path(reference.__file__).parent.glob("*.py")):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text())
        tree.body = [
            node
            for node in tree.body
            if not (
                isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reference")
            )
        ]
        sources.append(ast.unparse(tree))
    return f"_REFERENCE = {{}}\nfor _source in {sources!r}:\n    exec(_source, _REFERENCE)\n"


def filled(code: str) -> str:
    """`code` with each stub's `raise NotImplementedError` replaced by a call of the answer
    key, passing the stub's own parameters: it passes only if the starter's contract does."""
    lines = code.split("\n")
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.FunctionDef) and isinstance(node.body[-1], ast.Raise):
            raise_node = node.body[-1]
            assert ast.unparse(raise_node.exc) == "NotImplementedError"
            params = ", ".join(arg.arg for arg in node.args.args)
            indent = " " * raise_node.col_offset
            lines[raise_node.lineno - 1] = f'{indent}return _REFERENCE["{node.name}"]({params})'
    return "\n".join(lines)


def fill_notebook(path: Path, out: Path) -> Path:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = filled(cell.source)
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells.insert(first_code, nbformat.v4.new_code_cell(reference_cell()))
    nbformat.write(notebook, out)
    return out


def fill_script(path: Path, out: Path) -> Path:
    out.write_text(reference_cell() + "\n\n" + filled(path.read_text()))
    return out


def all_checks(report):
    return [check for exercise in report.exercises for check in exercise.checks]


# ------------------------------------------------------------------------------ contents


def code_cells(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_starter_notebook_is_valid_and_derived_from_the_declarations(notebook):
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for exercise in ALL:
        assert exercise.title in markdown and exercise.statement in markdown
        for spec in exercise.functions:
            assert f"`{spec.signature}`" in markdown
    stubs = {}
    for source in code_cells(notebook)[:-1]:
        assert source.startswith("import numpy as np\n")
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                assert node.name not in stubs, f"{node.name} stubbed twice"
                stubs[node.name] = node
    contract = {spec.name: spec for exercise in ALL for spec in exercise.functions}
    assert set(stubs) == set(contract)
    for name, node in stubs.items():
        assert tuple(arg.arg for arg in node.args.args) == contract[name].params
        assert contract[name].returns in ast.get_docstring(node)
        assert ast.unparse(node.body[-1]) == "raise NotImplementedError"
    last = code_cells(notebook)[-1]
    assert "from grader import check" in last
    assert all(f'"{exercise.name}"' in last for exercise in ALL)


def test_a_function_shared_by_two_exercises_is_stubbed_once_and_never_overwritten():
    pair = [catalogue.get("univariate_regression"), catalogue.get("multivariate_regression")]
    cells = [c for c in starter_cells(pair) if c.kind == "code"]
    assert "def mse_loss(" in cells[0].source
    assert "def mse_loss(" not in cells[1].source and "mse_loss" in cells[1].source


def test_a_kit_starter_checks_against_its_public_instance_file():
    cells = starter_cells(ALL[:1], "kit.ipynb", instances="public.json")
    assert 'check("chain_rule", instances="public.json")' in cells[-1].source
    assert "grader check --instances public.json kit.ipynb" in cells[-2].source


def test_starter_is_deterministic(tmp_path):
    one = starter_text(ALL, tmp_path / "a.ipynb")
    assert one == starter_text(ALL, tmp_path / "a.ipynb")
    assert [c["id"] for c in json.loads(one)["cells"]][:2] == ["title", "chain_rule-md"]


def test_write_starter_refuses_to_replace_a_file(tmp_path):
    path = tmp_path / "mine.ipynb"
    path.write_text("student work")
    with pytest.raises(FileExistsError):
        write_starter(path, ALL[:1])
    assert path.read_text() == "student work"
    with pytest.raises(ValueError):
        write_starter(tmp_path / "starter.txt", ALL[:1])


# ----------------------------------------------------------------------- loading and grading


@pytest.mark.parametrize("which", ["notebook", "script"])
def test_starter_loads_and_every_chunk_compiles(which, request):
    source = load_submission(request.getfixturevalue(which))
    assert source.problems == ()
    # A notebook has one code cell per exercise, then the check; a script is one chunk.
    assert len(source.chunks) == (len(ALL) + 1 if which == "notebook" else 1)
    for chunk in source.chunks:
        compile(chunk.code, chunk.filename, "exec")


def test_the_empty_starter_grades_to_zero_with_every_function_raising(notebook):
    report = grade(notebook, GradeOptions(limits=FAST))
    assert report.errors == []
    assert report.score == 0 and report.max_score == TOTAL
    assert [e.name for e in report.exercises] == list(catalogue.names())
    checks = all_checks(report)
    assert len(checks) == sum(len(e.functions) for e in ALL)
    for check in checks:
        assert not check.passed
        assert check.diagnosis.code == "exception", (check.function, check.message)
        assert "NotImplementedError" in check.message


@pytest.mark.parametrize("which", ["notebook", "script"])
def test_the_answer_key_in_the_stubs_gets_full_marks(which, request, tmp_path):
    path = request.getfixturevalue(which)
    fill = fill_notebook if which == "notebook" else fill_script
    report = grade(fill(path, tmp_path / f"filled{path.suffix}"), GradeOptions(limits=FAST))
    assert report.errors == []
    failed = {c.function: c.message for c in all_checks(report) if not c.passed}
    assert failed == {}
    assert report.score == report.max_score == TOTAL


def test_a_one_exercise_starter_is_graded_on_that_exercise_only(tmp_path):
    path = write_starter(tmp_path / "sig.ipynb", [catalogue.get("two_layer_sigmoid")])
    report = grade(fill_notebook(path, tmp_path / "filled.ipynb"), GradeOptions(limits=FAST))
    assert [e.name for e in report.exercises] == ["two_layer_sigmoid"]
    assert report.score == report.max_score == 4


# ------------------------------------------------------------------------------- command


def test_cli_writes_a_notebook_and_a_script(tmp_path):
    runner = CliRunner()
    out = tmp_path / "two.ipynb"
    result = runner.invoke(main, ["starter", "two_layer_sigmoid", "chain_rule", "-o", str(out)])
    assert result.exit_code == 0, result.output
    cells = code_cells(out)
    assert "def sigmoid2_forward(X, params):" in cells[0]
    assert "def chain_forward(a, b, c):" in cells[1]
    assert 'check("two_layer_sigmoid", "chain_rule")' in cells[2]

    script = tmp_path / "all.py"
    result = runner.invoke(main, ["starter", "--output", str(script)])
    assert result.exit_code == 0, result.output
    assert f"{len(ALL)} exercise(s)" in result.output
    text = script.read_text()
    assert text.startswith("# %% [markdown]\n")
    assert text.count("    raise NotImplementedError") == len(
        {spec.name for exercise in ALL for spec in exercise.functions}
    )
    compile(text, str(script), "exec")


def test_cli_defaults_refusals_and_force(tmp_path):
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        assert runner.invoke(main, ["starter", "closed_form"]).exit_code == 0
        assert Path("closed_form.ipynb").exists()
        again = runner.invoke(main, ["starter", "closed_form"])
        assert again.exit_code == 1 and "--force" in again.output
        assert runner.invoke(main, ["starter", "closed_form", "--force"]).exit_code == 0
        assert runner.invoke(main, ["starter", "-o", "x.txt"]).exit_code == 2
        assert runner.invoke(main, ["starter", "no_such_exercise"]).exit_code == 2
