"""The data behind a feedback page's figures: plain numbers, computed in the trusted parent.

A figure shows where an answer goes wrong, never the expected answer itself: an error map
holds |answer - expected| / scale per entry, not the expected entries. Figures are made
only when a page is asked for (`GradeOptions.figures`), for failing functions only, and
travel in `CheckResult.figures` as plain dicts (`CheckResult.figure_models()` reads them
back); the renderers in `grader/renderers/` draw them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

#: Largest side of an error map panel: bigger arrays are max-pooled down to it.
MAX_PANEL_SIDE = 48
#: The error entry of an answer value that is nan or inf (JSON has neither): any entry this
#: large stands for "not a finite number".
NOT_FINITE = 1e300


class ErrorPanel(BaseModel):
    output: str = Field(description="the output it maps: dW1, db, ... ('' for the answer)")
    shape: list[int] = Field(description="the output's shape, as the contract gives it")
    errors: list[list[float]] = Field(
        description="|answer - expected| / scale per entry, as rows (a 0-d or 1-d output is "
        "one row); max-pooled to at most MAX_PANEL_SIDE a side"
    )
    pooled: bool = Field(False, description="whether entries were max-pooled")
    tolerance: float = Field(description="the largest error that passes, on the same scale")


class ErrorMap(BaseModel):
    """For a function whose array output is wrong: one heatmap panel per wrong output, on
    the first failing instance."""

    kind: Literal["error_map"] = "error_map"
    instance: str
    panels: list[ErrorPanel]


class LossHistory(BaseModel):
    """For gradient descent: the student's losses against the reference's, same instance."""

    kind: Literal["loss_history"] = "loss_history"
    instance: str
    student: list[float | None] = Field(description="None where a loss is nan or inf")
    reference: list[float]
    diverges: bool = Field(description="the student's losses grow or blow up: use a log scale")


class OptimizerSteps(BaseModel):
    """For an optimizer step: a few steps of the student's update and of the reference's on
    a 2-D quadratic loss 0.5 * (p - center)^T A (p - center), drawn over its contours."""

    kind: Literal["optimizer_steps"] = "optimizer_steps"
    A: list[list[float]]
    center: list[float]
    student: list[list[float]] = Field(description="the points p_0, p_1, ... (2 numbers each)")
    reference: list[list[float]]
    stopped: str | None = Field(None, description="why the student's path stops early")


class BatchMembership(BaseModel):
    """For minibatches: which example went into which batch (dropped or duplicated examples
    stand out)."""

    kind: Literal["batch_membership"] = "batch_membership"
    instance: str
    m: int
    batch_size: int
    batches: list[list[int]] = Field(
        description="per batch, the index in X of each of its columns (-1: a column not in X)"
    )


class ActivationCurve(BaseModel):
    """For an elementwise function of z: the student's and the reference over a range of z."""

    kind: Literal["activation"] = "activation"
    z: list[float]
    student: list[float | None] = Field(
        description="None where the student's value is not a finite number"
    )
    reference: list[float]


class DirectionCheck(BaseModel):
    """For a gradient: along each random direction u, the analytic <g, u> of the student's
    gradient against the central difference of the loss."""

    kind: Literal["gradient_directions"] = "gradient_directions"
    instance: str
    analytic: list[float]
    numeric: list[float]


Figure = Annotated[
    ErrorMap | LossHistory | OptimizerSteps | BatchMembership | ActivationCurve | DirectionCheck,
    Field(discriminator="kind"),
]
FIGURES = TypeAdapter(list[Figure])


def parse_figures(data: list[dict[str, Any]]) -> list[Figure]:
    """Figures as models, from the plain dicts a report keeps them as."""
    return FIGURES.validate_python(data)


def as_data(figures: list[Figure]) -> list[dict[str, Any]]:
    return [figure.model_dump(mode="json") for figure in figures]
