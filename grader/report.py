"""The score report: pydantic models that every renderer (terminal, JSON, CSV, ...) reads.

Scripts depend on the JSON of these models: top-level `score`, `max_score` and
`exercises[].name/score/max_score/checks[]` with `function`, `passed`, `score`,
`max_score`, `message`. Add fields freely; rename none without bumping SCHEMA_VERSION.

Schema version 2: `isolation` is an object, `{"mode": "strong"|"fallback", "requested":
"auto"|"strong"|"fallback", "reason": "..."}` (the sandbox the submission ran in, what was
asked for and why it got that), where version 1 had the mode as a plain string; it is null
in the report of a submission the grader failed on before running it. Version-1 reports
still read (the string becomes the mode, with no reason).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator

if TYPE_CHECKING:
    from grader.figures import Figure

SCHEMA_VERSION = 2


class Diagnosis(BaseModel):
    """What went wrong, as a machine-readable code plus the details that apply."""

    code: str = Field(
        description="missing, exception, shape_transposed, scaled, known_mistake, ..."
    )
    factor: float | None = Field(None, description="for `scaled` and `sign`: answer / expected")
    factor_name: str | None = Field(None, description="the factor named: 2, 1/2, m, 1/m, -1")
    mistake: str | None = Field(None, description="for `known_mistake`: the catalogue code")
    output: str | None = Field(
        None, description="the part of the answer it is about (dW1, db, velocity['W'])"
    )
    hint: str | None = Field(None, description="where to look, never the expected answer")

    @property
    def label(self) -> str:
        """How reports name it: `code: mistake`, `code by factor` or `code`, then the output
        it concerns when it concerns one part of the answer (`scaled by 1/m in dW1`)."""
        if self.mistake:
            text = f"{self.code}: {self.mistake}"
        elif self.factor_name:
            text = f"{self.code} by {self.factor_name}"
        else:
            text = self.code
        return f"{text} in {self.output}" if self.output else text


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
    figures: list[dict[str, Any]] = Field(
        default_factory=list,
        description="data for a feedback page's figures, only when a page was asked for: "
        "each a grader.figures model (see `figure_models`), by its `kind`",
    )

    def figure_models(self) -> list[Figure]:
        """`figures` as models. (They are kept as plain dicts so that a report, which every
        `grader check` builds, never pays for building the figure models' schemas.)"""
        from grader.figures import parse_figures

        return parse_figures(self.figures)


class ExerciseResult(BaseModel):
    name: str
    title: str
    score: float
    max_score: float
    checks: list[CheckResult]


class Isolation(BaseModel):
    """The sandbox a submission ran in (see grader/sandbox/isolation.py)."""

    mode: Literal["strong", "fallback"] = Field(
        description="strong: Linux namespaces and an allowlisted filesystem; fallback: rlimits "
        "only (student code can read the answer key and use the network)"
    )
    requested: Literal["auto", "strong", "fallback"] = Field(
        "auto", description="what was asked for (--isolation)"
    )
    reason: str = Field("", description="why this mode, e.g. why strong mode was unavailable")


class Report(BaseModel):
    schema_version: int = SCHEMA_VERSION
    grader_version: str
    submission: str
    student_id: str | None = None
    seed: int
    score: float
    max_score: float
    duration_seconds: float = 0.0
    isolation: Isolation | None = Field(
        None, description="the sandbox the submission ran in (null: it did not run)"
    )
    selection: str = Field("", description="how the graded exercises were chosen")
    errors: list[str] = Field(default_factory=list, description="problems loading the submission")
    notes: list[str] = Field(default_factory=list)
    output: str = Field("", description="what the submission printed while loading (truncated)")
    exercises: list[ExerciseResult] = Field(default_factory=list)

    @field_validator("isolation", mode="before")
    @classmethod
    def _isolation_v1(cls, value: Any) -> Any:
        """Schema 1 stored the mode as a string."""
        if isinstance(value, str):
            return {"mode": value} if value else None
        return value

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
