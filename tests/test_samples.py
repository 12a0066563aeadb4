"""Every bundled sample, graded through the command line, gets exactly its sidecar's outcome."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import catalogue
from grader.cli import main
from grader.engine import own_functions

SAMPLES = Path(__file__).resolve().parents[1] / "submissions"
SIDECARS = sorted(SAMPLES.glob("*.expected.json"))


def written_for(sample: Path) -> list[str]:
    """The exercises a sample was written for: those one of whose own functions it defines
    (so an exercise added to the catalogue later changes no sample's outcome)."""
    source = sample.read_text()
    defined = set(re.findall(r"def (\w+)\(", source))
    chosen = [e.name for e in catalogue.current().exercises if own_functions(e) & defined]
    assert chosen, f"{sample.name} defines no exercise function"
    return chosen


def sample_for(sidecar: Path) -> Path:
    stem = sidecar.name.removesuffix(".expected.json")
    (path,) = [p for p in (SAMPLES / f"{stem}.py", SAMPLES / f"{stem}.ipynb") if p.exists()]
    return path


def test_there_are_enough_samples():
    buggy = [s for s in SIDECARS if json.loads(s.read_text())["fail"]]
    assert len(buggy) >= 12
    assert {sample_for(s).suffix for s in SIDECARS} == {".py", ".ipynb"}


@pytest.mark.parametrize("sidecar", SIDECARS, ids=lambda p: p.name.removesuffix(".expected.json"))
def test_sample_gets_exactly_its_expected_outcome(sidecar, tmp_path):
    expected = json.loads(sidecar.read_text())
    out = tmp_path / "report.json"
    sample = sample_for(sidecar)
    graded = expected.get("exercises") or written_for(sample)
    args = ["grade", str(sample), "--json", str(out), "--call-timeout", "2"]
    for name in graded:
        args += ["--exercise", name]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    checks = [c for e in report["exercises"] for c in e["checks"]]
    assert [e["name"] for e in report["exercises"]] == list(graded)
    failed = {c["function"]: c["diagnosis"]["code"] for c in checks if not c["passed"]}
    assert failed == expected["fail"]
    lost = sum(c["max_score"] for c in checks if not c["passed"])
    assert report["score"] == pytest.approx(report["max_score"] - lost)
    for check in checks:
        assert check["score"] == (check["max_score"] if check["passed"] else 0)
