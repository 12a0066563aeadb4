"""The contract students read, generated from the declarations: docs/exercises.md, the
statements and conventions of starter notebooks and kits, and `grader show`."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

import exercises
from grader import catalogue
from grader.cli import main
from grader.contract import (
    DOC_PATH,
    REGENERATE,
    builtin_catalogue,
    contract_markdown,
    conventions_markdown,
    exercise_markdown,
    function_line,
    smallest_instance,
)
from grader.kit import CONTRACT_FILE, PUBLIC_SEED, write_kit
from grader.public_instances import published_outputs
from grader.starter import write_starter
from tests.test_packs import make_pack

ROOT = Path(__file__).resolve().parents[1]
ALL = exercises.EXERCISES
NAMES = [exercise.name for exercise in ALL]


def mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None


def notebook_markdown(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


# ------------------------------------------------------------------ docs/exercises.md


def test_docs_exercises_md_is_up_to_date_with_the_declarations():
    path = ROOT / DOC_PATH
    expected = contract_markdown(builtin_catalogue())
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    assert current == expected, (
        f"{DOC_PATH} is out of date with the exercise declarations; regenerate it with "
        f"`{REGENERATE}` (from the repository root) and commit it"
    )


def test_the_contract_command_writes_and_checks_the_file(tmp_path):
    out = tmp_path / "exercises.md"
    run = [sys.executable, "-m", "grader.contract", "--out", str(out)]
    stale = subprocess.run([*run, "--check"], capture_output=True, text=True, cwd=ROOT)
    assert stale.returncode == 1 and REGENERATE in stale.stdout
    assert subprocess.run(run, cwd=ROOT).returncode == 0
    assert out.read_text(encoding="utf-8") == contract_markdown(builtin_catalogue())
    assert subprocess.run([*run, "--check"], cwd=ROOT).returncode == 0


def test_the_contract_holds_conventions_signatures_points_and_restricted_instances():
    text = contract_markdown(ALL)
    for convention in exercises.CONVENTIONS:
        assert convention in text
    for exercise in ALL:
        assert f"## {exercise.number}. {exercise.title}" in text
        assert exercise.statement in text
        assert f"{exercise.max_score:g} points in total" in text
        for spec in exercise.functions:
            assert f"- `{spec.signature}` ({spec.points:g} point" in text
    section = exercise_markdown(exercises.get("activations"))
    assert "grades only `sigmoid`; `sigmoid_grad`, `relu`, `relu_grad` are not graded" in section
    assert "**50**" in text and "31 functions" in text


def test_tolerances_are_stated_only_when_not_the_default():
    spec = exercises.get("closed_form").function("normal_equation")
    assert "rtol" not in function_line(spec)
    loose = dataclasses.replace(spec, rtol=1e-4, atol=1e-8)
    assert "tolerances rtol = 0.0001, atol = 1e-8" in function_line(loose)


def test_a_pack_states_its_own_conventions(tmp_path):
    pack = make_pack(tmp_path / "rows")
    (pack / "__init__.py").write_text('CONVENTIONS = ("Here one example per **row**.",)\n')
    known = catalogue.load([str(pack)], installed=False)
    text = conventions_markdown([known.get("cube")], catalogue=known)
    assert "one example per **row**" in text
    assert exercises.CONVENTIONS[0] not in text
    assert exercises.CONVENTIONS[0] in conventions_markdown(ALL[:1], catalogue=known)


# ------------------------------------------------------------------ self-contained statements


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.name)
def test_every_statement_is_self_contained(exercise):
    for other in NAMES:
        if other != exercise.name:
            assert not mentions(exercise.statement, other), f"mentions {other}"
    assert not re.search(r"same parameters as|exercise \d|as in \d", exercise.statement, re.I)


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.name)
def test_a_starter_notebook_mentions_no_other_exercise(exercise, tmp_path):
    markdown = notebook_markdown(write_starter(tmp_path / "one.ipynb", [exercise]))
    others = [name for name in NAMES if name != exercise.name and mentions(markdown, name)]
    assert not others, f"the starter of {exercise.name} mentions {others}"
    assert exercise.statement in markdown
    for convention in exercises.CONVENTIONS:
        assert convention in markdown


def test_the_two_layer_sigmoid_starter_gives_the_shapes_of_W1_and_b1(tmp_path):
    out = tmp_path / "hw.ipynb"
    result = CliRunner().invoke(main, ["starter", "two_layer_sigmoid", "-o", str(out)])
    assert result.exit_code == 0, result.output
    markdown = notebook_markdown(out)
    assert '"W1": (k, n)' in markdown and '"b1": (k, 1)' in markdown
    assert "(1/m) * sum((y_hat - y)**2)" in markdown  # the loss, not "mean squared error"


def test_a_kit_carries_the_contract_of_its_exercises(tmp_path):
    chosen = [exercises.get("two_layer_mlp")]
    write_kit(tmp_path, chosen)
    text = (tmp_path / CONTRACT_FILE).read_text(encoding="utf-8")
    assert exercises.get("two_layer_mlp").statement in text
    assert exercises.CONVENTIONS[0] in text
    assert not any(mentions(text, name) for name in NAMES if name != "two_layer_mlp")
    markdown = notebook_markdown(tmp_path / "08_two_layer_mlp.ipynb")
    assert '"b2": (1, 1)' in markdown and exercises.CONVENTIONS[-1] in markdown


# ------------------------------------------------------------------------- grader show


def test_show_prints_the_statement_the_conventions_and_the_smallest_public_instance():
    exercise = exercises.get("two_layer_sigmoid")
    result = CliRunner().invoke(main, ["show", "two_layer_sigmoid"])
    assert result.exit_code == 0, result.output
    assert exercise_markdown(exercise) in result.output
    assert exercise_markdown(exercise) in (ROOT / DOC_PATH).read_text(encoding="utf-8")
    assert conventions_markdown([exercise]) in result.output
    instance = smallest_instance(exercise.instances(PUBLIC_SEED))
    assert instance.label == "n=1, k=1, m=1"
    assert f'Public instance "{instance.label}" (seed {PUBLIC_SEED}' in result.output
    expected = published_outputs(exercise, instance)["sigmoid2_forward"]
    assert f"sigmoid2_forward: (1, 1) array [[{expected[0, 0]:.6f}]]" in result.output
    for key in ("W1", "b1", "W2", "b2"):
        assert f"    {key}: " in result.output.split("Expected outputs:")[1]


def test_show_prefers_an_instance_that_grades_every_function():
    exercise = exercises.get("activations")
    assert smallest_instance(exercise.instances(PUBLIC_SEED)).functions is None
    result = CliRunner().invoke(main, ["show", "activations", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "(seed 3" in result.output and "relu_grad:" in result.output


def test_show_an_unknown_exercise_is_a_usage_error_listing_the_known_ones():
    result = CliRunner().invoke(main, ["show", "no_such_exercise"])
    assert result.exit_code == 2
    assert "no_such_exercise" in result.output
    assert all(name in result.output for name in NAMES)


def test_show_in_a_fresh_process():
    result = subprocess.run(
        [sys.executable, "-m", "grader", "show", "optimizers"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "## 11. Optimizers" in result.stdout and "## Conventions" in result.stdout
    assert "eps: 1e-08" in result.stdout
    assert "minibatches: no single expected output" in result.stdout


def test_show_without_the_answer_key_still_prints_the_statement_and_the_inputs():
    code = "import sys; sys.modules['reference'] = None; from grader.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "show", "chain_rule"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert exercise_markdown(exercises.get("chain_rule")) in result.stdout
    assert "  a: 1.0" in result.stdout
    assert "Expected outputs: not available (the answer key is not installed)" in result.stdout
