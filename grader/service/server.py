"""`grader serve`: the course's web service on one machine, served by uvicorn, graded by a
local pool of the grader's sandboxed worker processes.

uvicorn is told to trust X-Forwarded-Proto/For only from the addresses in
`forwarded_allow_ips` (default: loopback, i.e. a reverse proxy on the same machine), so
that behind a TLS proxy the session cookie is marked Secure.
"""

from __future__ import annotations

import copy
from pathlib import Path

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
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM): the workers finish what they grade."""
    import uvicorn

    from grader.service.app import create_app
    from grader.service.core import Service
    from grader.service.pool import LocalPool

    assert course.path is not None
    data_dir.mkdir(parents=True, exist_ok=True)
    pool = LocalPool(course.path, data_dir, workers) if workers > 0 else None
    app = create_app(Service.open(course, data_dir, pool))
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
