"""The figures of a student's feedback page, drawn with matplotlib as small inline SVG.

What every figure shares (style, margins, SVG output) is in drawing.py; the class page's
figures are in class_plots.py.

Each drawing returns a `Plot`: the SVG (no XML prolog, no fixed size: it scales with the
width of the page), a title and a text alternative that says in words what the figure
shows, for screen readers and for anyone who cannot see the colours.

Decisions:

- matplotlib is imported here only, and this module only when a page is asked for:
  `grader check` without `--html` never pays for it (tests/test_pages.py checks that).
- No pyplot and no `matplotlib.use`: figures are `matplotlib.figure.Figure` objects drawn
  by the SVG backend (images inside rasterised by Agg), and rcParams are set in an
  `rc_context`, so drawing a page inside a student's notebook changes neither their
  backend nor their style.
- Text stays text (`svg.fonttype: none`, a generic sans-serif font): no glyph outlines,
  which keeps a figure to a few kilobytes. Heatmaps are embedded at the resolution of
  the data (at most 48 x 48, see grader.figures.MAX_PANEL_SIDE) and scaled by the browser
  with `image-rendering: pixelated`.
- Cheap to draw, since a batch draws a page per student: a student's figures have fixed
  margins (`Margins`, sized for each kind's labels) rather than constrained layout, and
  log-scale tick labels are plain text with superscripts rather than mathtext; together
  they made a page with figures about three times cheaper. The class page's two figures
  (class_plots.py), drawn once per batch, keep constrained layout (their labels have any
  length).
- SVG element ids are prefixed per figure, so several figures (and several pages in one
  notebook) never share an id.
- Nothing here writes an expected value as text. Error maps hold |answer - expected| /
  scale only; reference curves are drawn, and their text alternatives speak of
  agreement, ratios and where the student's curve departs, never of the reference's values.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure as MplFigure

from grader.figures import (
    ActivationCurve,
    BatchMembership,
    DirectionCheck,
    ErrorMap,
    ErrorPanel,
    LossHistory,
    OptimizerSteps,
)
from grader.renderers.drawing import (
    NOT_A_NUMBER,
    PROBLEM,
    REFERENCE,
    STUDENT,
    WIDTH_IN,
    Margins,
    Plot,
    TextLogFormatter,
    counted,
    draw,
    finite_array,
    plain,
    text_log_ticks,
)

# ------------------------------------------------------------------------------ entry points


def figure_plots(figure, prefix: str = "g") -> list[Plot]:
    """The plots of one figure of `grader.figures` (an error map gives one per panel)."""
    if isinstance(figure, ErrorMap):
        return [
            error_panel_plot(panel, figure.instance, f"{prefix}p{index}")
            for index, panel in enumerate(merged_scalars(figure.panels))
        ]
    drawers = {
        LossHistory: loss_plot,
        OptimizerSteps: optimizer_plot,
        BatchMembership: batch_plot,
        ActivationCurve: activation_plot,
        DirectionCheck: directions_plot,
    }
    drawer = drawers.get(type(figure))
    return [] if drawer is None else [drawer(figure, prefix)]


# --------------------------------------------------------------------------------- error map


def shape_text(shape: Sequence[int]) -> str:
    if not shape:
        return "a scalar"
    return f"shape ({shape[0]},)" if len(shape) == 1 else f"shape {tuple(shape)}"


ERROR_MAP_BAR_GAP = 0.75
"""Inches between the heatmap and its colour bar: "tolerance" is written there."""
ERROR_MAP_BAR_WIDTH = 0.16
ERROR_MAP_MARGINS = Margins(left=0.65, right=ERROR_MAP_BAR_GAP + ERROR_MAP_BAR_WIDTH + 0.8)
"""The right margin holds the colour bar, its tick labels (10⁻¹²) and its label."""


def error_panel_plot(panel: ErrorPanel, instance: str, prefix: str) -> Plot:
    name = panel.output or "the answer"
    errors = np.array(panel.errors, dtype=float)
    if errors.ndim != 2 or errors.size == 0:
        errors = np.atleast_2d(errors.reshape(-1)) if errors.size else np.zeros((1, 1))
    tolerance = panel.tolerance if panel.tolerance > 0 else 1e-12
    finite = np.isfinite(errors) & (np.abs(errors) < NOT_A_NUMBER)
    largest = float(errors[finite].max()) if finite.any() else 0.0
    over = int(np.sum(~finite | (errors > tolerance)))
    cells = "cells" if panel.pooled else "entries"
    title = f"{name}: {shape_text(panel.shape)}"
    if panel.pooled:
        title += f", max-pooled to {errors.shape[0]} x {errors.shape[1]}"
    rows, columns = errors.shape

    def paint(figure: MplFigure) -> None:
        ax = figure.add_subplot()
        cmap = matplotlib.colormaps["Reds"].with_extremes(under="#e6e6e6", bad="#000000")
        top = max(largest, tolerance * 10)
        norm = LogNorm(vmin=tolerance, vmax=top, clip=False)
        shown = np.where(finite, np.maximum(errors, tolerance * 0.5), np.nan)
        image = ax.imshow(
            np.ma.masked_invalid(shown), cmap=cmap, norm=norm, interpolation="none", aspect="auto"
        )
        ax.set_title(plain(title), loc="left")
        ax.set_xlabel(plain(f"column of {name}") + (" (pooled)" if panel.pooled else ""))
        ax.set_ylabel("row")
        _integer_ticks(ax.xaxis, columns)
        _integer_ticks(ax.yaxis, rows)
        # The colour bar in the right margin: room for "tolerance" on its left, its tick
        # labels and its label on its right (see ERROR_MAP_MARGINS).
        box = ax.get_position()
        left = box.x1 + ERROR_MAP_BAR_GAP / WIDTH_IN
        bar_axes = figure.add_axes(
            (left, box.y0 + 0.05 * box.height, ERROR_MAP_BAR_WIDTH / WIDTH_IN, 0.9 * box.height)
        )
        bar = figure.colorbar(image, cax=bar_axes, extend="min")
        bar.formatter = TextLogFormatter()
        bar.minorformatter = TextLogFormatter(labelOnlyBase=False)
        bar.set_label("|answer - expected| / scale")
        bar.ax.axhline(tolerance, color="#222222", linewidth=2)
        bar.ax.annotate(
            "tolerance",
            xy=(0, tolerance),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=8,
        )

    height = min(4.8, max(2.2, 1.4 + 0.22 * rows))
    svg = draw(height, title, prefix, paint, ERROR_MAP_MARGINS)
    size = rows * columns
    description = (
        f"Error map of {name} ({shape_text(panel.shape)}) on instance {instance}: "
        f"{over} of {size} {cells} are outside the tolerance"
    )
    if over:
        where = np.unravel_index(np.nanargmax(np.where(finite, errors, np.inf)), errors.shape)
        description += (
            f"; the largest error is {largest:.2g} times the scale"
            if finite.all()
            else f"; {counted(int(np.sum(~finite)), 'entry')} not a finite number (black)"
        )
        description += f", at row {where[0]}, column {where[1]}"
    description += ". Grey cells are within the tolerance; darker red is further off."
    return Plot(title=title, svg=svg, description=description)


def merged_scalars(panels: Sequence[ErrorPanel], least: int = 3) -> list[ErrorPanel]:
    """Panels of one entry each (losses[0], losses[1], ...), when there are `least` or more,
    drawn as one row (a heatmap per number says little and costs a figure each). Each error
    is rescaled to the largest tolerance, so an entry is grey exactly when it passed."""
    single = [p for p in panels if np.asarray(p.errors, dtype=float).size == 1]
    if len(single) < least:
        return list(panels)
    tolerance = max(max(p.tolerance for p in single), 1e-300)
    row = [
        float(np.asarray(p.errors, dtype=float).reshape(-1)[0])
        * (tolerance / max(p.tolerance, 1e-300) if abs(p.errors[0][0]) < NOT_A_NUMBER else 1.0)
        for p in single
    ]
    merged = ErrorPanel(
        output=f"{single[0].output} ... {single[-1].output}",
        shape=[len(single)],
        errors=[row],
        pooled=False,
        tolerance=tolerance,
    )
    others = [p for p in panels if p not in single]
    return [merged, *others]


def _integer_ticks(axis, count: int) -> None:
    step = max(1, math.ceil(count / 10))
    axis.set_ticks(range(0, count, step))


# ------------------------------------------------------------------------------- loss curves


def loss_plot(figure_data: LossHistory, prefix: str) -> Plot:
    student = finite_array(figure_data.student)
    reference = finite_array(figure_data.reference)
    positive = np.all(np.nan_to_num(student, nan=1.0) > 0) and np.all(
        np.nan_to_num(reference, nan=1.0) > 0
    )
    log = figure_data.diverges
    title = f"Loss per iteration (instance {figure_data.instance})"

    def paint(figure: MplFigure) -> None:
        ax = figure.add_subplot()
        ax.plot(range(len(reference)), reference, color=REFERENCE, label="reference", lw=2)
        ax.plot(range(len(student)), student, color=STUDENT, label="your losses", lw=2, ls="--")
        bad = [i for i, v in enumerate(figure_data.student) if v is None]
        if bad:
            ax.axvline(bad[0], color=PROBLEM, lw=1, ls=":")
            ax.annotate(
                "not a finite number from here",
                xy=(bad[0], 1),
                xycoords=("data", "axes fraction"),
                xytext=(4, -12),
                textcoords="offset points",
                color=PROBLEM,
                fontsize=8,
            )
        if log:
            ax.set_yscale("log" if positive else "symlog")
            text_log_ticks(ax.yaxis)
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss" + (" (log scale)" if log else ""))
        ax.set_title(plain(title), loc="left")
        ax.legend()

    svg = draw(3.2, title, prefix, paint, Margins(left=0.95))
    return Plot(title=title, svg=svg, description=_loss_words(figure_data, student, reference))


def _loss_words(data: LossHistory, student: np.ndarray, reference: np.ndarray) -> str:
    words = (
        f"Line chart of the loss per iteration on instance {data.instance}: your "
        f"{counted(len(student), 'loss')} (dashed) against the reference's "
        f"{counted(len(reference), 'loss')} (solid)"
    )
    if data.diverges:
        words += ", on a log scale because your losses grow"
    bad = [i for i, v in enumerate(data.student) if v is None]
    if bad:
        words += f"; from iteration {bad[0]} your loss is not a finite number"
    if len(student) != len(reference):
        words += "; the two histories have different lengths"
    both = min(len(student), len(reference))
    if both:
        last = both - 1
        a, b = student[last], reference[last]
        if math.isfinite(a) and math.isfinite(b) and b != 0:
            words += f"; at iteration {last} yours is {a / b:.3g} times the reference's"
    return words + "."


# ---------------------------------------------------------------------------- optimizer path


def optimizer_plot(data: OptimizerSteps, prefix: str) -> Plot:
    A = np.array(data.A, dtype=float)
    center = np.array(data.center, dtype=float)
    student = np.array([p for p in data.student if len(p) == 2], dtype=float).reshape(-1, 2)
    reference = np.array([p for p in data.reference if len(p) == 2], dtype=float).reshape(-1, 2)
    title = "Optimizer steps on a 2-D quadratic loss"

    def paint(figure: MplFigure) -> None:
        ax = figure.add_subplot()
        points = np.vstack([center[None, :], reference, student[np.isfinite(student).all(1)]])
        low, high = points.min(0), points.max(0)
        span = np.maximum(high - low, 1e-9)
        low, high = low - 0.15 * span, high + 0.15 * span
        xs, ys = np.linspace(low[0], high[0], 80), np.linspace(low[1], high[1], 80)
        X, Y = np.meshgrid(xs, ys)
        D = np.stack([X - center[0], Y - center[1]])
        Z = 0.5 * np.einsum("i...,ij,j...->...", D, A, D)
        if np.isfinite(Z).all() and Z.max() > Z.min():
            ax.contour(X, Y, Z, levels=10, colors="#bbbbbb", linewidths=0.8)
        ax.plot(*center, marker="*", color="#222222", ms=12, ls="none", label="minimum")
        ax.plot(*reference.T, marker="o", ms=4, color=REFERENCE, label="reference steps")
        ax.plot(*student.T, marker="s", ms=4, ls="--", color=STUDENT, label="your steps")
        if len(student):
            ax.plot(*student[0], marker="o", ms=9, mfc="none", color="#222222", ls="none")
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
        ax.set_xlabel("p[0]")
        ax.set_ylabel("p[1]")
        ax.set_title(plain(title), loc="left")
        ax.legend(loc="best", fontsize=8)

    svg = draw(3.6, title, prefix, paint, Margins(left=0.95))
    words = (
        "Contour plot of the quadratic loss 0.5 (p - c)^T A (p - c) with the path of "
        f"{counted(max(len(reference) - 1, 0), 'step')} of the reference optimizer (solid) and "
        f"{counted(max(len(student) - 1, 0), 'step')} of yours (dashed) from the same start"
    )
    if len(student) and len(reference):
        both = min(len(student), len(reference)) - 1
        gap = float(np.linalg.norm(student[both] - reference[both]))
        words += f"; after step {both} your point is {gap:.2g} away from the reference's"
        dist_s = float(np.linalg.norm(student[-1] - center))
        dist_r = float(np.linalg.norm(reference[-1] - center))
        if math.isfinite(dist_s):
            closer = "closer to" if dist_s < dist_r else "further from"
            words += f" and your last point is {closer} the minimum"
    if data.stopped:
        words += f"; your path stops early: {data.stopped}"
    return Plot(title=title, svg=svg, description=words + ".")


# -------------------------------------------------------------------------- batch membership


@dataclass(frozen=True)
class Membership:
    duplicated: list[int]
    missing: list[int]
    foreign: int


def membership(data: BatchMembership) -> Membership:
    counts = Counter(i for batch in data.batches for i in batch if i >= 0)
    return Membership(
        duplicated=sorted(i for i, n in counts.items() if n > 1),
        missing=[i for i in range(data.m) if i not in counts],
        foreign=sum(1 for batch in data.batches for i in batch if i < 0),
    )


def batch_plot(data: BatchMembership, prefix: str) -> Plot:
    found = membership(data)
    title = f"Examples in each minibatch (instance {data.instance})"
    duplicated = set(found.duplicated)
    batches = len(data.batches)

    def paint(figure: MplFigure) -> None:
        ax = figure.add_subplot()
        placed = [(i, b) for b, batch in enumerate(data.batches) for i in batch if i >= 0]
        ok = [(i, b) for i, b in placed if i not in duplicated]
        twice = [(i, b) for i, b in placed if i in duplicated]
        foreign = [(-1, b) for b, batch in enumerate(data.batches) for i in batch if i < 0]
        size = 30 if data.m <= 60 else 10
        if ok:
            ax.scatter(*zip(*ok, strict=True), s=size, color=REFERENCE, label="example in batch")
        if twice:
            ax.scatter(
                *zip(*twice, strict=True),
                s=size * 1.6,
                marker="D",
                color=STUDENT,
                label="example in more than one place",
            )
        if foreign:
            ax.scatter(
                *zip(*foreign, strict=True),
                s=size * 1.6,
                marker="P",
                color=PROBLEM,
                label="column not in X",
            )
        if found.missing:
            ax.scatter(
                found.missing,
                [batches] * len(found.missing),
                s=size * 1.6,
                marker="x",
                color=PROBLEM,
                label="example in no batch",
            )
        ax.set_ylim(batches + 0.7, -0.7)
        ticks = list(range(0, batches, max(1, math.ceil(batches / 12))))
        labels = [str(t) for t in ticks]
        if found.missing:
            ticks.append(batches)
            labels.append("missing")
        ax.set_yticks(ticks, labels)
        ax.set_xlim(-1.5 if foreign else -0.7, data.m - 0.3)
        ax.set_xlabel("example index (column of X)")
        ax.set_ylabel("batch")
        ax.set_title(plain(title), loc="left")
        figure.legend(loc="lower center", ncol=2, fontsize=8)

    entries = sum(
        [any(i >= 0 for b in data.batches for i in b), bool(found.duplicated)]
        + [bool(found.foreign), bool(found.missing)]
    )
    height = min(4.8, max(2.6, 1.9 + 0.2 * batches))
    # the legend sits under the x label, in rows of two entries
    margins = Margins(left=0.85, bottom=0.6 + 0.22 * math.ceil(entries / 2))
    svg = draw(height, title, prefix, paint, margins)
    words = (
        f"Dot chart of which of the {data.m} examples went into each of your "
        f"{counted(batches, 'batch')} (batch size {data.batch_size})"
    )
    problems = []
    if found.missing:
        problems.append(
            f"{counted(len(found.missing), 'example')} in no batch ({_index_list(found.missing)})"
        )
    if found.duplicated:
        problems.append(
            f"{counted(len(found.duplicated), 'example')} in more than one place "
            f"({_index_list(found.duplicated)})"
        )
    if found.foreign:
        verb = "is" if found.foreign == 1 else "are"
        problems.append(f"{counted(found.foreign, 'column')} that {verb} not a column of X")
    words += (": " + "; ".join(problems)) if problems else ": every example appears exactly once"
    return Plot(title=title, svg=svg, description=words + ".")


def _index_list(indices: Sequence[int], limit: int = 8) -> str:
    shown = ", ".join(str(i) for i in indices[:limit])
    return shown + (f" and {len(indices) - limit} more" if len(indices) > limit else "")


# ------------------------------------------------------------------------------- activation


def activation_plot(data: ActivationCurve, prefix: str) -> Plot:
    z = np.array(data.z, dtype=float)
    student = finite_array(data.student)
    reference = finite_array(data.reference)
    title = "Your function against the reference over z"

    def paint(figure: MplFigure) -> None:
        ax = figure.add_subplot()
        ax.plot(z, reference, color=REFERENCE, lw=2, label="reference")
        ax.plot(z, student, color=STUDENT, lw=2, ls="--", label="yours")
        ax.axhline(0, color="#999999", lw=0.6)
        ax.set_xlabel("z")
        ax.set_ylabel("value")
        ax.set_title(plain(title), loc="left")
        ax.legend()

    svg = draw(3.0, title, prefix, paint, Margins(left=0.95))
    words = (
        f"Line chart over z from {z.min():.3g} to {z.max():.3g}: your function (dashed) "
        "against the reference (solid)"
        if z.size
        else "Line chart of your function against the reference (no points)"
    )
    n = min(len(z), len(student), len(reference))
    if n:
        gap = np.abs(student[:n] - reference[:n])
        bad = ~np.isfinite(student[:n])
        if bad.any():
            words += f"; yours is not a finite number at {counted(int(bad.sum()), 'point')}"
        if np.isfinite(gap).any():
            worst = int(np.nanargmax(gap))
            words += f"; the largest gap, {gap[worst]:.2g}, is at z = {z[worst]:.3g}"
            close = np.isfinite(gap) & (gap <= 1e-6 * (1 + np.abs(np.nan_to_num(reference[:n]))))
            words += f"; the curves agree at {int(close.sum())} of {n} points"
    return Plot(title=title, svg=svg, description=words + ".")


# -------------------------------------------------------------------- gradient along directions


def direction_agreement(analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    scale = np.maximum(np.abs(numeric), np.abs(analytic))
    return np.abs(analytic - numeric) <= 1e-4 * np.maximum(scale, 1e-8)


def directions_plot(data: DirectionCheck, prefix: str) -> Plot:
    analytic = finite_array(data.analytic)
    numeric = finite_array(data.numeric)
    n = min(len(analytic), len(numeric))
    analytic, numeric = analytic[:n], numeric[:n]
    title = f"Gradient along random directions (instance {data.instance})"

    def paint(figure: MplFigure) -> None:
        ax = figure.add_subplot()
        index = np.arange(n)
        ax.bar(index - 0.2, numeric, width=0.4, color=REFERENCE, label="finite difference")
        ax.bar(index + 0.2, analytic, width=0.4, color=STUDENT, label="your gradient, <g, u>")
        ax.axhline(0, color="#555555", lw=0.8)
        ax.set_xticks(index, [f"u{i + 1}" for i in index])
        ax.set_xlabel("direction")
        ax.set_ylabel("slope along u")
        ax.set_title(plain(title), loc="left")
        ax.legend(fontsize=8)

    svg = draw(3.0, title, prefix, paint, Margins(left=0.95))
    agree = direction_agreement(analytic, numeric)
    words = (
        f"Bar chart for {counted(n, 'random direction')} u: the slope of the loss along u by "
        f"finite differences next to <g, u> from your gradient g; they agree on "
        f"{int(agree.sum())} of {n}"
    )
    ratios = analytic / np.where(numeric == 0, np.nan, numeric)
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size and not agree.all():
        median = float(np.median(ratios))
        if np.allclose(ratios, median, rtol=0.05):
            words += f"; yours is consistently {median:.3g} times the finite difference"
    return Plot(title=title, svg=svg, description=words + ".")
