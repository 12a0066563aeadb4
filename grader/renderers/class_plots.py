"""The figures of the class page `grader batch` writes: the score histogram and the
failure rates per function, stacked by diagnosis."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure as MplFigure

from grader.renderers.drawing import REFERENCE, Plot, counted, draw, plain


def score_histogram(distribution: Sequence[tuple[str, int]], prefix: str = "h") -> Plot:
    """Students per score bucket (`grader.summary.summarize`'s distribution)."""
    labels = [label for label, _ in distribution]
    counts = [count for _, count in distribution]
    title = "Score distribution"

    def paint(figure: MplFigure) -> None:
        ax = figure.add_subplot()
        bars = ax.bar(range(len(counts)), counts, color=REFERENCE)
        ax.bar_label(bars, labels=[str(c) if c else "" for c in counts], fontsize=8)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel("score")
        ax.set_ylabel("students")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title(plain(title), loc="left")

    svg = draw(2.8, title, prefix, paint, None)
    words = "Histogram of the students' scores: " + (
        ", ".join(f"{counted(n, 'student')} at {label}" for label, n in distribution if n)
        or "no students"
    )
    return Plot(title=title, svg=svg, description=words + ".")


# Okabe-Ito (colour-blind safe) for up to seven diagnoses, then tab20; grey is "other".
PALETTE = ["#d55e00", "#e69f00", "#cc79a7", "#56b4e9", "#009e73", "#0072b2", "#f0e442"]
OTHER = "#999999"


def distinct_colours(count: int) -> list[str]:
    """`count` colours, no two alike (while there are at most 20)."""
    if count <= len(PALETTE):
        return PALETTE[:count]
    from matplotlib.colors import to_hex

    table = [to_hex(c) for c in matplotlib.colormaps["tab20"].colors if to_hex(c) != "#7f7f7f"]
    return [table[i % len(table)] for i in range(count)]


def failure_bars(
    rows: Sequence[tuple[str, int, int, Sequence[tuple[str, int]]]], prefix: str = "f"
) -> Plot:
    """Per function (label, failed, graded, [(diagnosis, count), ...]): the share of students
    who failed it, stacked by diagnosis (the most common ones; the rest as "other")."""
    title = "Share of students who lost points, by function and diagnosis"
    labels_seen: list[str] = []
    for _, _, _, diagnoses in rows:
        for label, _ in diagnoses:
            if label not in labels_seen and label != "other":
                labels_seen.append(label)
    colours = dict(zip(labels_seen, distinct_colours(len(labels_seen)), strict=True))
    colours["other"] = OTHER

    def paint(figure: MplFigure) -> None:
        ax = figure.add_subplot()
        used: set[str] = set()
        for y, (_, _, graded, diagnoses) in enumerate(rows):
            left = 0.0
            for label, count in diagnoses:
                share = 100.0 * count / graded if graded else 0.0
                ax.barh(
                    y,
                    share,
                    left=left,
                    color=colours[label],
                    label=None if label in used else plain(label),
                    edgecolor="white",
                    linewidth=0.5,
                )
                used.add(label)
                left += share
        ax.set_yticks(range(len(rows)), [plain(row[0]) for row in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of students")
        figure.suptitle(plain(title), x=0.01, ha="left", fontsize=11)
        if used:
            figure.legend(loc="outside lower center", ncol=2, fontsize=8)

    height = min(9.0, 1.8 + 0.32 * max(len(rows), 1) + 0.2 * len(colours))
    svg = draw(height, title, prefix, paint, None)
    parts = []
    for label, failed, graded, diagnoses in rows:
        top = ", ".join(f"{name} ({count})" for name, count in diagnoses[:3])
        parts.append(f"{label}: {failed} of {graded} failed" + (f", mostly {top}" if top else ""))
    words = "Stacked bar chart of failure rates per function. " + (
        "; ".join(parts) if parts else "No function was failed."
    )
    return Plot(title=title, svg=svg, description=words)
