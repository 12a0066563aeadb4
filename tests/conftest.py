"""Fixtures shared by the sandbox tests."""

from __future__ import annotations

import pytest

from grader.sandbox import describe_isolation


@pytest.fixture(params=["strong", "fallback"])
def mode(request):
    """Each isolation mode in turn; strong is skipped where this machine cannot give it."""
    info = describe_isolation()
    if request.param == "strong" and info.mode != "strong":
        pytest.skip(f"strong isolation unavailable here: {info.reason}")
    return request.param
