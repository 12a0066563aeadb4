"""`grader serve`: the course's web service on one machine, served by uvicorn, graded by a
local pool of the grader's sandboxed worker processes.

uvicorn is told to trust X-Forwarded-Proto/For only from the addresses in
`forwarded_allow_ips` (default: loopback, i.e. a reverse proxy on the same machine), so
that behind a TLS proxy the session cookie is marked Secure.
"""

from __future__ import annotations

import copy
import signal
import threading
from pathlib import Path

from grader.service.core import Grading
from grader.service.course import Course

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def default_data_dir(course_file: Path) -> Path:
    """Where a course keeps its submissions and database unless told otherwise."""
    return course_file.resolve().parent / "grader-data"


def serve(
    course: Course,
    data_dir: Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workers: int = 2,
    forwarded_allow_ips: str = "127.0.0.1",
    log_level: str = "info",
    broker: str | None = None,
    queue: str | None = None,
    visibility_timeout: float | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM): the workers finish what they grade.
    With `broker`, grading goes through Celery (`grader worker` processes, anywhere)
    instead of the local pool."""
    import uvicorn

    from grader.service.app import create_app
    from grader.service.core import Service
    from grader.service.pool import LocalPool

    assert course.path is not None
    data_dir.mkdir(parents=True, exist_ok=True)
    pool: Grading | None
    if broker is not None:
        from grader.service.dispatch import CeleryDispatcher

        options = {} if visibility_timeout is None else {"visibility_timeout": visibility_timeout}
        pool = CeleryDispatcher(course, data_dir, broker, queue=queue, **options)
    else:
        pool = LocalPool(course.path, data_dir, workers) if workers > 0 else None
    app = create_app(Service.open(course, data_dir, pool))
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=log_level,
        log_config=_log_config(log_level),
        timeout_graceful_shutdown=30,
    )


def _exit_cleanly(signum: int, frame: object) -> None:
    """SIGTERM ends the service with exit status 0. uvicorn catches it, shuts down gracefully,
    then raises it again for the handler it found: without this one (the default), the
    process would then die by the signal, which a supervisor reports as a failure."""
    raise SystemExit(0)


def _log_config(level: str) -> dict:
    """uvicorn's logging, with the service's own messages (grader.service) beside it."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["grader.service"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config
