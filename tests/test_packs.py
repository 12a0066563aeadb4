"""Exercise packs: loaded from a directory, a module, GRADER_PACKS or an installed package's
entry point; a name clash or a broken pack is a clear error, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import catalogue
from grader.cli import main

CUBE = """
import numpy as np

from grader.spec import Exercise, FunctionSpec, GradientSpec, Instance

from ._common import moderate


def cube(z):
    return np.asarray(z, dtype=np.float64) ** 3


def cube_grad(z):
    return 3.0 * np.asarray(z, dtype=np.float64) ** 2


def generate(rng):
    return [Instance(f"z of shape {s}", {"z": moderate(rng, s)}) for s in [(2, 3), (1, 1), (4,)]]


EXERCISE = Exercise(
    number=1,
    name="NAME",
    title="The cube and its derivative",
    source="a test pack",
    statement="`cube(z) = z**3` elementwise; `cube_grad(z) = 3 z**2`.",
    functions=(
        FunctionSpec("cube", ("z",), "array shaped like z", points=1, solution=cube),
        FunctionSpec(
            "cube_grad",
            ("z",),
            "array shaped like z",
            points=2,
            solution=cube_grad,
            gradient=GradientSpec(
                loss=lambda a: float(np.sum(cube(a["z"]))), pairs=lambda a: [((), ("z",))]
            ),
        ),
    ),
    generate=generate,
)
"""
COMMON = """
def moderate(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
"""
ANSWER = """import numpy as np


def cube(z):
    return z ** 3


def cube_grad(z):
    return 3 * z * z
"""


def make_pack(directory: Path, name: str = "cube") -> Path:
    directory.mkdir(parents=True)
    (directory / "_common.py").write_text(COMMON)
    (directory / f"{name}.py").write_text(CUBE.replace("NAME", name))
    return directory


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_directory_pack_is_listed_and_graded(tmp_path):
    pack = make_pack(tmp_path / "course")
    answer = tmp_path / "answer.py"
    answer.write_text(ANSWER)
    listed = run("list", "--pack", pack)
    assert listed.exit_code == 0, listed.output
    assert "cube_grad(z)" in listed.output and "course" in listed.output
    checked = run("check", "--pack", pack, answer)
    assert checked.exit_code == 0, checked.output
    assert "3 / 3 points" in checked.output.splitlines()[0]
    graded = run("grade", "--pack", pack, answer, "-e", "cube", "--json", "-")
    assert graded.exit_code == 0, graded.output
    assert '"max_score": 3.0' in graded.output


def test_a_pack_adds_to_the_built_in_exercises_and_to_grader_packs(tmp_path):
    pack = make_pack(tmp_path / "course")
    known = catalogue.use([str(pack)])
    assert known.names()[-1] == "cube" and "deep_network" in known
    assert [p.name for p in known.packs] == ["built-in", "course"]
    assert os.environ[catalogue.ENVIRONMENT] == str(pack.resolve())
    assert known.pack_of("cube").directory == pack.resolve()


def test_two_exercises_of_one_name_are_a_clear_error(tmp_path):
    first, second = make_pack(tmp_path / "a"), make_pack(tmp_path / "b")
    clash = run("list", "--pack", first, "--pack", second)
    assert clash.exit_code == 2
    assert "'cube' is declared by two packs" in clash.output
    builtin = make_pack(tmp_path / "c", name="activations")
    again = run("list", "--pack", builtin)
    assert again.exit_code == 2 and "built-in" in again.output
    assert "Traceback" not in again.output


def test_a_broken_pack_names_itself(tmp_path):
    pack = make_pack(tmp_path / "broken")
    (pack / "cube.py").write_text("import numpy as np\nraise RuntimeError('half-written')\n")
    result = run("list", "--pack", pack)
    assert result.exit_code == 2
    assert "RuntimeError: half-written" in result.output and str(pack) in result.output
    missing = run("list", "--pack", tmp_path / "nowhere" / "pack")
    assert missing.exit_code == 2 and "no such pack directory" in missing.output


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != catalogue.ENVIRONMENT}
    env.update(extra)
    return env


def test_grader_packs_in_the_environment(tmp_path):
    pack = make_pack(tmp_path / "course")
    done = subprocess.run(
        [sys.executable, "-m", "grader", "list"],
        capture_output=True,
        text=True,
        env=subprocess_env(GRADER_PACKS=str(pack), COLUMNS="200"),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "cube_grad" in done.stdout
    broken = subprocess.run(
        [sys.executable, "-m", "grader", "list"],
        capture_output=True,
        text=True,
        env=subprocess_env(GRADER_PACKS=str(tmp_path / "gone")),
        timeout=60,
    )
    assert broken.returncode == 2 and "no such pack directory" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_an_installed_course_package_is_found_through_its_entry_point(tmp_path):
    """What `pip install my-course` leaves behind: the package and a dist-info whose
    entry_points.txt names it in the grader.packs group."""
    site = tmp_path / "site"
    make_pack(site / "mycourse")
    (site / "mycourse" / "__init__.py").write_text("")
    info = site / "mycourse-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mycourse\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[grader.packs]\nmycourse = mycourse\n")
    python_path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "grader", "list"],
        capture_output=True,
        text=True,
        env=subprocess_env(PYTHONPATH=python_path, COLUMNS="200"),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "cube_grad" in done.stdout and "mycourse" in done.stdout


def test_a_pack_module_without_an_exercise_is_a_helper_and_a_wrong_one_is_an_error(tmp_path):
    pack = make_pack(tmp_path / "course")
    (pack / "notes.py").write_text("TEXT = 'not an exercise'\n")
    assert "cube" in catalogue.use([str(pack)])
    (pack / "bad.py").write_text("EXERCISE = 'cube'\n")
    with pytest.raises(catalogue.PackError, match="not a grader.spec.Exercise"):
        catalogue.load([str(pack)])
