"""grader: an autograder for gradient-descent and backpropagation exercises.

`from grader import check` gives the in-notebook self-check (`grader.selfcheck.check`);
`from grader import submit` hands a file in to a course's `grader serve`
(`grader.client.submit`). Both are imported on first use, so `import grader` stays cheap
(no numpy, rich or pydantic).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {"check": "grader.selfcheck", "submit": "grader.client"}

__all__ = ["__version__", "check", "submit"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'grader' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
