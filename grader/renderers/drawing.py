"""How a feedback page's figures are drawn: matplotlib figures rendered as small inline SVG.

The decisions behind it are in grader/renderers/plots.py's docstring; this module holds what
every figure shares (size, margins, style, SVG output, text helpers).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import LogFormatterSciNotation

from grader.figures import NOT_FINITE

STUDENT = "#d55e00"  # vermillion: the student's answer (Okabe-Ito, colour-blind safe)
REFERENCE = "#0072b2"  # blue: the reference
PROBLEM = "#cc0000"
WIDTH_IN = 6.4
NOT_A_NUMBER = NOT_FINITE / 10  # any entry this large stands for nan or inf (see figures)

RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "grader",
    "svg.image_inline": True,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "sans-serif"],
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": True,
    "legend.frameon": False,
}
SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


@dataclass(frozen=True)
class Plot:
    """One drawn figure: the inline SVG and what it shows, in words."""

    title: str
    svg: str
    description: str


@dataclass(frozen=True)
class Margins:
    """Room around the axes, in inches, so it stays the same whatever the figure's height.

    A student's figures are laid out with these fixed margins, sized for the labels each
    kind has, rather than by constrained layout, which measures every text of a figure
    several times: it was about 40 % of the time of drawing a page.
    """

    left: float = 0.8
    right: float = 0.2
    top: float = 0.4
    bottom: float = 0.55


def new_figure(height: float, margins: Margins | None) -> MplFigure:
    """A figure of the page's width; laid out by `margins`, or by constrained layout when
    there are none (the class page's figures, whose labels are function names and
    diagnoses of any length, drawn once per batch)."""
    if margins is None:
        return MplFigure(figsize=(WIDTH_IN, height), layout="constrained")
    figure = MplFigure(figsize=(WIDTH_IN, height))
    figure.subplots_adjust(
        left=margins.left / WIDTH_IN,
        right=1 - margins.right / WIDTH_IN,
        top=1 - margins.top / height,
        bottom=margins.bottom / height,
    )
    return figure


class TextLogFormatter(LogFormatterSciNotation):
    """Log-axis tick labels as plain text with Unicode superscripts ("10⁻³"), not mathtext:
    they look the same, and parsing mathtext was a fifth of the time of drawing a page."""

    def __call__(self, x, pos=None) -> str:
        return unmath(super().__call__(x, pos))


_SUPERSCRIPTS = str.maketrans("0123456789-−+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻⁺")


def unmath(label: str) -> str:
    """`$\\mathdefault{2\\times10^{-3}}$` -> "2×10⁻³" (anything else as it is)."""
    found = re.fullmatch(r"\$\\mathdefault\{(.*)\}\$", label)
    if not found:
        return label
    text = found.group(1).replace("\\times", "×").replace("\\cdot", "·").replace("\\,", "")
    text = re.sub(r"\^\{([^}]*)\}", lambda m: m.group(1).translate(_SUPERSCRIPTS), text)
    return text.replace("-", "−")


def text_log_ticks(axis) -> None:
    """An axis on a log or symlog scale, labelled by `TextLogFormatter`."""
    base = getattr(axis.get_transform(), "base", 10)
    axis.set_major_formatter(TextLogFormatter(base))
    axis.set_minor_formatter(TextLogFormatter(base, labelOnlyBase=False))


def to_svg(figure: MplFigure, title: str, prefix: str) -> str:
    """The figure as an SVG element for inline HTML: no prolog, no fixed size, unique ids,
    a <title>."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata=SVG_METADATA)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'\s(width|height)="[\d.]+pt"', "", svg, count=2)
    svg = re.sub(r'\bid="', f'id="{prefix}-', svg)
    svg = svg.replace('href="#', f'href="#{prefix}-').replace("url(#", f"url(#{prefix}-")
    svg = svg.replace("\n", " ").replace("  ", " ")
    head_end = svg.index(">") + 1
    title_element = f"<title>{xml_text(title)}</title>"
    return (
        svg[: head_end - 1]
        + ' class="plot-svg" focusable="false" preserveAspectRatio="xMidYMid meet">'
        + title_element
        + svg[head_end:]
    ).strip()


def plain(text: str) -> str:
    """Text from a report, shown as it is (a `$` would start matplotlib's mathtext)."""
    return text.replace("$", r"\$")


def xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def draw(height: float, title: str, prefix: str, paint, margins: Margins | None) -> str:
    with matplotlib.rc_context(RC):
        figure = new_figure(height, margins)
        paint(figure)
        return to_svg(figure, title, prefix)


def finite_array(values: Sequence[float | None]) -> np.ndarray:
    """Numbers with None (and anything not finite) as nan."""
    return np.array(
        [v if v is not None and math.isfinite(v) else math.nan for v in values], dtype=float
    )


def counted(n: int, word: str) -> str:
    plural = (
        word[:-1] + "ies"
        if word.endswith("y")
        else word + ("es" if word.endswith(("s", "ch")) else "s")
    )
    return f"{n} {word if n == 1 else plural}"
