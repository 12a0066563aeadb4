"""Renderers that turn a `Report` into formats other systems read.

Each renderer is a pure function of the report (no I/O, no click): the command line
writes what they return. `gradescope` makes Gradescope's `results.json`; `junit` makes
JUnit XML, which CI systems (GitHub Actions, GitLab, Jenkins) display as test results;
`text` is the report `grader check` prints, a line per function.
"""

from __future__ import annotations

from typing import Any

from grader.renderers.gradescope import VISIBILITIES, gradescope_json, gradescope_results


def __getattr__(name: str) -> Any:
    """`junit_xml` is imported on first use: xml.etree costs `grader check` 5 ms otherwise."""
    if name == "junit_xml":
        from grader.renderers.junit import junit_xml

        return junit_xml
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["VISIBILITIES", "gradescope_json", "gradescope_results", "junit_xml"]
