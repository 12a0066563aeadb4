"""Fixtures shared by the sandbox tests."""

from __future__ import annotations

import os

import pytest

from grader.sandbox import describe_isolation


@pytest.fixture(params=["strong", "fallback"])
def mode(request):
    """Each isolation mode in turn; strong is skipped where this machine cannot give it."""
    info = describe_isolation()
    if request.param == "strong" and info.mode != "strong":
        pytest.skip(f"strong isolation unavailable here: {info.reason}")
    return request.param


@pytest.fixture(autouse=True)
def restore_catalogue():
    """A test that loads packs (`--pack` through CliRunner, `catalogue.use`) changes this
    process's catalogue and GRADER_PACKS: every test starts from, and leaves, the built-in
    catalogue."""
    from grader import catalogue

    os.environ.pop(catalogue.ENVIRONMENT, None)
    saved = catalogue._current
    if saved is not None and saved.extra_packs:
        saved = None
    catalogue._current = saved
    yield
    catalogue._current = saved
    os.environ.pop(catalogue.ENVIRONMENT, None)
