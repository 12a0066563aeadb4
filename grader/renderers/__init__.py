"""Renderers that turn a `Report` into formats other systems read.

Each renderer is a pure function of the report (no I/O, no click): the command line
writes what they return. `gradescope` makes Gradescope's `results.json`; `junit` makes
JUnit XML, which CI systems (GitHub Actions, GitLab, Jenkins) display as test results.
"""

from __future__ import annotations

from grader.renderers.gradescope import VISIBILITIES, gradescope_json, gradescope_results
from grader.renderers.junit import junit_xml

__all__ = ["VISIBILITIES", "gradescope_json", "gradescope_results", "junit_xml"]
