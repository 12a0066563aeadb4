"""Every bundled sample, graded through the command line, gets exactly its sidecar's outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import exercises
from grader.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "submissions"
SIDECARS = sorted(SAMPLES.glob("*.expected.json"))


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
    args = ["grade", str(sample_for(sidecar)), "--json", str(out), "--call-timeout", "2"]
    for name in expected.get("exercises") or exercises.names():
        args += ["--exercise", name]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    checks = [c for e in report["exercises"] for c in e["checks"]]
    assert len(report["exercises"]) == len(expected.get("exercises") or exercises.EXERCISES)
    failed = {c["function"]: c["diagnosis"]["code"] for c in checks if not c["passed"]}
    assert failed == expected["fail"]
    lost = sum(c["max_score"] for c in checks if not c["passed"])
    assert report["score"] == pytest.approx(report["max_score"] - lost)
    for check in checks:
        assert check["score"] == (check["max_score"] if check["passed"] else 0)
