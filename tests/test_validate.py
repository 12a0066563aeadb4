"""`grader validate-pack`: the built-in and the example packs pass; a broken pack fails with
the rows that name what is wrong; a pack that cannot be loaded exits 2."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from grader.cli import main
from grader.validate import FAIL, OK, validate_pack

EXAMPLE_PACK = Path(__file__).resolve().parents[1] / "examples" / "course_pack"

BROKEN_COMMON = """
import numpy as np


def moderate(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
"""

# The reference gradient of z**2 is written z (not 2z); a mistake repeats the reference.
BROKEN_SQUARE = """
import numpy as np

from grader.spec import Exercise, FunctionSpec, GradientSpec, Instance, Mistake

from ._common import moderate


def square(z):
    return np.asarray(z, dtype=np.float64) ** 2


def square_grad(z):
    return np.asarray(z, dtype=np.float64) * 1.0  # wrong: d(z**2)/dz = 2z


def generate(rng):
    return [Instance(f"z of shape {s}", {"z": moderate(rng, s)}) for s in [(2, 3), (1, 1), (4,)]]


EXERCISE = Exercise(
    number=1,
    name="broken_square",
    title="The square",
    source="a broken test pack",
    statement="`square(z) = z**2`; `square_grad(z) = 2 z`.",
    functions=(
        FunctionSpec("square", ("z",), "array shaped like z", points=1, solution=square),
        FunctionSpec(
            "square_grad",
            ("z",),
            "array shaped like z",
            points=1,
            solution=square_grad,
            gradient=GradientSpec(
                loss=lambda a: float(np.sum(square(a["z"]))), pairs=lambda a: [((), ("z",))]
            ),
        ),
    ),
    generate=generate,
    mistakes=(
        Mistake(
            "square_as_reference",
            "square",
            "the reference itself",
            "No hint.",
            variant=lambda a: square(a["z"]),
        ),
        Mistake(
            "square_halved",
            "square",
            "half the square",
            "Check the power.",
            variant=lambda a: square(a["z"]) / 3.0,
        ),
    ),
)
"""

# A gradient-checked instance at z = 30, where tanh is saturated.
BROKEN_TANH = """
import numpy as np

from grader.spec import Exercise, FunctionSpec, GradientSpec, Instance

from ._common import moderate


def tanh(z):
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_grad(z):
    return 1.0 - tanh(z) ** 2


def generate(rng):
    return [
        Instance("moderate z", {"z": moderate(rng, (2, 3))}),
        Instance("saturated z", {"z": np.full((2, 2), 30.0)}),
    ]


EXERCISE = Exercise(
    number=2,
    name="broken_tanh",
    title="tanh",
    source="a broken test pack",
    statement="`tanh(z)`; `tanh_grad(z) = 1 - tanh(z)**2`.",
    functions=(
        FunctionSpec("tanh", ("z",), "array shaped like z", points=1, solution=tanh),
        FunctionSpec(
            "tanh_grad",
            ("z",),
            "array shaped like z",
            points=1,
            solution=tanh_grad,
            gradient=GradientSpec(
                loss=lambda a: float(np.sum(tanh(a["z"]))), pairs=lambda a: [((), ("z",))]
            ),
        ),
    ),
    generate=generate,
)
"""

# The normal equation on two nearly collinear features: cond(X X^T) ~ 1e14.
BROKEN_NORMAL = """
import numpy as np

from grader.spec import Exercise, FunctionSpec, Instance


def normal_equation(X, y):
    return np.linalg.solve(X @ X.T, X @ y.T).T


def generate(rng):
    x = rng.normal(size=(1, 20))
    near = np.vstack([x, x + 1e-7 * rng.normal(size=(1, 20))])
    fine = rng.normal(size=(2, 20))
    y = rng.normal(size=(1, 20))
    return [Instance("well conditioned", {"X": fine, "y": y}, False),
            Instance("nearly collinear", {"X": near, "y": y}, False)]


EXERCISE = Exercise(
    number=3,
    name="broken_normal_equation",
    title="The normal equation",
    source="a broken test pack",
    statement="`normal_equation(X, y)`: w (1, n) minimising the squared error of w @ X.",
    functions=(
        FunctionSpec("normal_equation", ("X", "y"), "w (1, n)", points=1, solution=normal_equation),
    ),
    generate=generate,
)
"""


def broken_pack(root: Path) -> Path:
    pack = root / "broken"
    pack.mkdir()
    (pack / "_common.py").write_text(BROKEN_COMMON)
    (pack / "square.py").write_text(BROKEN_SQUARE)
    (pack / "tanh_saturated.py").write_text(BROKEN_TANH)
    (pack / "normal_equation.py").write_text(BROKEN_NORMAL)
    return pack


def run(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args], terminal_width=200)


def statuses(validation) -> dict[tuple[str, str], str]:
    return {(row.exercise, row.check): row.status for row in validation.rows}


def test_the_built_in_pack_passes():
    result = run("validate-pack", "exercises", "--seeds", "2")
    assert result.exit_code == 0, result.output
    assert "every check passed" in result.output
    assert "deep_network" in result.output and "FAIL" not in result.output


def test_the_example_pack_passes():
    result = run("validate-pack", EXAMPLE_PACK, "--seeds", "5")
    assert result.exit_code == 0, result.output
    validation = validate_pack(str(EXAMPLE_PACK), seeds=5)
    rows = statuses(validation)
    for exercise in ("tanh_activation", "two_layer_tanh"):
        for check in ("name", "reference", "gradient steps", "outputs", "conditioning"):
            assert rows[exercise, check] == OK
    mistakes = [row for row in validation.rows if row.check.startswith("mistake ")]
    assert len(mistakes) >= 6 and {row.status for row in mistakes} == {OK}


def test_a_broken_pack_fails_with_the_right_rows(tmp_path):
    pack = broken_pack(tmp_path)
    validation = validate_pack(str(pack), seeds=3)
    rows = statuses(validation)
    messages = {(row.exercise, row.check): row.message for row in validation.rows}
    # A wrong reference gradient disagrees with finite differences of its own loss.
    assert rows["broken_square", "reference"] == FAIL
    assert "square_grad fails" in messages["broken_square", "reference"]
    assert "finite differences" in messages["broken_square", "reference"]
    # A mistake identical to the reference can never be caught; a real one is named.
    assert rows["broken_square", "mistake square_as_reference"] == FAIL
    assert "equals the reference" in messages["broken_square", "mistake square_as_reference"]
    assert rows["broken_square", "mistake square_halved"] == OK
    # Saturation: finite differences of tanh at z = 30 carry no digits.
    assert rows["broken_tanh", "gradient steps"] == FAIL
    assert "saturated" in messages["broken_tanh", "gradient steps"]
    assert rows["broken_tanh", "reference"] == OK
    # Ill-conditioning: a 1e-9 relative change of X moves the solution far more than 1e-4.
    assert rows["broken_normal_equation", "conditioning"] == FAIL
    assert "nearly collinear" in messages["broken_normal_equation", "conditioning"]
    assert rows["broken_normal_equation", "reference"] == OK
    assert rows["broken_normal_equation", "outputs"] == OK
    failed = {(row.exercise, row.check) for row in validation.failures}
    assert failed == {
        ("broken_square", "reference"),
        ("broken_square", "mistake square_as_reference"),
        ("broken_tanh", "gradient steps"),
        ("broken_normal_equation", "conditioning"),
    }
    result = run("validate-pack", pack, "--seeds", "2")
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output and "4 check(s) failed" in result.output


def test_a_kink_a_mutating_solution_and_a_name_clash_are_caught(tmp_path):
    pack = tmp_path / "more"
    pack.mkdir()
    (pack / "_common.py").write_text(BROKEN_COMMON)
    relu = (
        BROKEN_TANH.replace("np.tanh(np.asarray(z, dtype=np.float64))", "np.maximum(z, 0.0)")
        .replace("1.0 - tanh(z) ** 2", "(np.asarray(z) > 0).astype(float)")
        .replace("np.full((2, 2), 30.0)", "np.array([[1.0, 2e-5], [-1.0, 0.5]])")
    )
    (pack / "relu.py").write_text(relu)
    clash = (
        BROKEN_SQUARE.replace('name="broken_square"', 'name="activations"')
        .replace("* 1.0  # wrong:", "* 2.0  # right:")
        .replace(
            "return np.asarray(z, dtype=np.float64) ** 2",
            "out = np.asarray(z, dtype=np.float64) ** 2\n    z *= 2.0\n    return out",
        )
    )
    (pack / "clash.py").write_text(clash)
    validation = validate_pack(str(pack), seeds=2)
    rows = statuses(validation)
    messages = {(row.exercise, row.check): row.message for row in validation.rows}
    assert rows["broken_tanh", "gradient steps"] == FAIL
    assert "depends on the step" in messages["broken_tanh", "gradient steps"]
    assert rows["activations", "name"] == FAIL
    assert rows["activations", "reference"] == FAIL
    assert "modified its input" in messages["activations", "reference"]


def test_a_pack_that_cannot_be_loaded_exits_2(tmp_path):
    assert run("validate-pack", tmp_path / "nowhere").exit_code == 2
    pack = tmp_path / "empty"
    pack.mkdir()
    (pack / "notes.py").write_text("TEXT = 1\n")
    result = run("validate-pack", pack)
    assert result.exit_code == 2 and "no module declares an EXERCISE" in result.output
