"""Every shell command of docs/authoring.md runs, in a temporary directory where $PACK is a
copy of examples/course_pack, and exits as the doc says (0 unless `# exit status N`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grader import catalogue

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "authoring.md"
BASH = shutil.which("bash")
GRADER = shutil.which("grader")


def commands() -> list[tuple[str, int]]:
    """(command, expected exit status) of every line of the doc's ```bash blocks."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.S):
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            status = re.search(r"#\s*exit status (\d+)\s*$", line)
            found.append((line, int(status.group(1)) if status else 0))
    return found


def test_the_doc_has_commands_and_the_readme_links_it():
    assert len(commands()) >= 10
    assert "docs/authoring.md" in (ROOT / "README.md").read_text()


@pytest.mark.skipif(BASH is None or GRADER is None, reason="bash and the grader script needed")
def test_every_command_of_the_doc_runs(tmp_path):
    pack = tmp_path / "course_pack"
    shutil.copytree(
        ROOT / "examples" / "course_pack", pack, ignore=shutil.ignore_patterns("__pycache__")
    )
    env = {k: v for k, v in os.environ.items() if k != catalogue.ENVIRONMENT}
    env.update(PACK=str(pack), COLUMNS="200")
    for command, expected in commands():  # in order: later commands use earlier files
        done = subprocess.run(
            [BASH, "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == expected, f"{command}\n{done.stdout}\n{done.stderr}"
    assert (tmp_path / "tanh.ipynb").exists() and (tmp_path / "autograder.zip").exists()
    assert (tmp_path / "out" / "reports" / "bob.json").exists()
