"""Starting the grader's worker processes (`grader batch`, the service's pool).

Workers come from a forkserver that has imported numpy, the exercises and the engine once
(each worker starts in milliseconds with them already imported, and inherits no thread of
the parent), else from spawn where there is no forkserver.
"""

from __future__ import annotations

import multiprocessing
import sys
from contextlib import contextmanager

PRELOAD = ["numpy", "exercises", "grader.engine", "grader.batch"]


def worker_context() -> multiprocessing.context.BaseContext:
    """Forkserver (imports done once, no parent threads inherited), else spawn."""
    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:  # no forkserver on this platform
        return multiprocessing.get_context("spawn")
    context.set_forkserver_preload(PRELOAD)
    return context


@contextmanager
def as_if_interactive():
    """Start workers as from an interactive session, so they never re-run the caller's script.

    multiprocessing re-imports the parent's `__main__` in every worker; a TA's script that
    calls `grade_batch` without an `if __name__ == "__main__":` guard would then start a
    batch in every worker. Workers only need the grader, so they are started as if
    `__main__` had no file (as in Jupyter).
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {
        name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__
    }
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)
