"""The score report: pydantic models that every renderer (terminal, JSON, CSV, ...) reads.

Scripts depend on the JSON of these models: top-level `score`, `max_score` and
`exercises[].name/score/max_score/checks[]` with `function`, `passed`, `score`,
`max_score`, `message`. Add fields freely; rename none without bumping SCHEMA_VERSION.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

SCHEMA_VERSION = 1


class Diagnosis(BaseModel):
    """What went wrong, as a machine-readable code plus the details that apply."""

    code: str = Field(
        description="missing, exception, shape_transposed, scaled, known_mistake, ..."
    )
    factor: float | None = Field(None, description="for `scaled` and `sign`: answer / expected")
    factor_name: str | None = Field(None, description="the factor named: 2, 1/2, m, 1/m, -1")
    mistake: str | None = Field(None, description="for `known_mistake`: the catalogue code")
    hint: str | None = Field(None, description="where to look, never the expected answer")

    @property
    def label(self) -> str:
        """How reports name it: `code: mistake`, `code by factor` or `code`."""
        if self.mistake:
            return f"{self.code}: {self.mistake}"
        if self.factor_name:
            return f"{self.code} by {self.factor_name}"
        return self.code


class InstanceFailure(BaseModel):
    instance: str = Field(description="the problem instance, e.g. 'n=2, k=3, m=5'")
    message: str
    diagnosis: Diagnosis


class CheckResult(BaseModel):
    """One required function, checked on every instance of its exercise."""

    function: str
    passed: bool
    score: float
    max_score: float
    message: str
    diagnosis: Diagnosis | None = None
    instances_passed: int = 0
    instances_total: int = 0
    failures: list[InstanceFailure] = Field(default_factory=list)
    stdout: str = Field("", description="what the function printed (truncated)")


class ExerciseResult(BaseModel):
    name: str
    title: str
    score: float
    max_score: float
    checks: list[CheckResult]


class Report(BaseModel):
    schema_version: int = SCHEMA_VERSION
    grader_version: str
    submission: str
    student_id: str | None = None
    seed: int
    score: float
    max_score: float
    duration_seconds: float = 0.0
    isolation: str = Field("", description="the sandbox mode the submission ran in")
    selection: str = Field("", description="how the graded exercises were chosen")
    errors: list[str] = Field(default_factory=list, description="problems loading the submission")
    notes: list[str] = Field(default_factory=list)
    output: str = Field("", description="what the submission printed while loading (truncated)")
    exercises: list[ExerciseResult] = Field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    @property
    def all_passed(self) -> bool:
        return all(check.passed for exercise in self.exercises for check in exercise.checks)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


def report_schema() -> dict:
    return Report.model_json_schema()
