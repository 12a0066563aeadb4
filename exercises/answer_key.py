"""The answer key, imported on first use.

Declarations name reference functions in their losses, gradients and mistakes, but a
student kit ships the declarations without `reference/`: there, instances and expected
outputs come from a public file, and anything that needs the answer key is skipped.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any


class LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)


def available() -> bool:
    try:
        importlib.import_module("reference")
    except ImportError:
        return False
    return True


ref = LazyModule("reference")


def answer(name: str) -> Callable[..., Any]:
    """The answer key's function `name`, imported on its first call (a declaration's
    `solution`: a student kit loads the declarations without ever calling it)."""

    def call(*args: Any) -> Any:
        return getattr(ref, name)(*args)

    call.__name__ = call.__qualname__ = name
    return call
