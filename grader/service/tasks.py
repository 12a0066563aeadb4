"""Grading through Celery: the task a remote worker runs, and the Celery application both
sides share. Only JSON crosses the broker (`accept_content=["json"]`): the task carries
the submission's id, its bytes (base64, once) and what to grade it on; the result is the
report's JSON and the feedback page. The server stays the one writer of the store.

    app = make_celery("redis://localhost:6379/0")
    app.worker_main(["worker", "-Q", "grader.dl101", ...])   # what `grader worker` runs

Delivery rules, and why:

- `task_acks_late` and `task_reject_on_worker_lost`: a task is acknowledged only once
  graded, so one whose worker process dies goes back to the queue, for another worker.
- The broker's visibility timeout (default 15 minutes) is far longer than a submission's
  grading budget, so a slow grading is never handed to a second worker while the first is
  still at it; a task whose whole worker machine vanished is handed out again after it.
- Prefetch 1 (and the fair scheduling option): a worker process reserves one task at a
  time, so a long submission holds up nobody else's.
- Each delivery is counted in Redis; a submission whose grading killed its worker
  `max_attempts` times is answered `failed` without grading it again.
- A worker whose grader version or packs differ from the server's (`rules_fingerprint`)
  refuses the task, logging why, and grades nothing.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from grader import __version__

log = logging.getLogger("grader.worker")

GRADE_TASK = "grader.grade_submission"
DEFAULT_VISIBILITY_TIMEOUT = 15 * 60.0
DEFAULT_MAX_ATTEMPTS = 3
ATTEMPTS_KEY = "grader:attempts:{task_id}"
ATTEMPTS_TTL_SECONDS = 7 * 24 * 3600


class GradeTask(BaseModel):
    """What the server sends: everything a worker needs, as plain JSON."""

    submission_id: str
    round: int
    student: str
    assignment: str
    exercises: list[str]
    points: dict[str, float]
    salt: str
    filename: str
    content_b64: str
    grader_version: str
    rules: str
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


class GradeOutcome(BaseModel):
    """What a worker answers: graded (with the report and page), failed, or refused."""

    outcome: str
    report_json: str | None = None
    page_html: str | None = None
    score: float | None = None
    max_score: float | None = None
    error: str | None = None
    worker: str = ""


def task_id(submission_id: str, round: int) -> str:
    """One task id per submission and regrade round: sent twice, it is the same task."""
    return f"{submission_id}-{round}"


def without_password(url: str) -> str:
    """The broker URL as logs may show it: its password, if any, masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def make_celery(broker_url: str, *, visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT):
    from celery import Celery

    app = Celery("grader", broker=broker_url, backend=broker_url, set_as_current=False)
    transport = {"visibility_timeout": visibility_timeout}
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,
        task_track_started=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        result_expires=7 * 24 * 3600,
        broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    app.task(name=GRADE_TASK, bind=True)(_grade_task)
    return app


def run_worker(
    broker_url: str,
    queues: list[str],
    *,
    concurrency: int,
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT,
    loglevel: str = "INFO",
) -> None:
    """Run a Celery worker that grades the queues' tasks until it is stopped (SIGTERM:
    it finishes the tasks in hand first)."""
    from celery.signals import after_setup_logger

    @after_setup_logger.connect(weak=False)
    def quiet_results(*args: Any, **kwargs: Any) -> None:
        # Celery logs each task's return value: a whole report and page. Ours says less.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)

    app = make_celery(broker_url, visibility_timeout=visibility_timeout)
    app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(queues),
            "--concurrency",
            str(concurrency),
            "--prefetch-multiplier",
            "1",
            "-O",
            "fair",
            "--loglevel",
            loglevel,
            "--hostname",
            f"grader-{os.getpid()}@{socket.gethostname()}",
            "--without-mingle",
            "--without-gossip",
        ]
    )


def _grade_task(self, payload: dict[str, Any]) -> dict[str, Any]:
    task = GradeTask.model_validate(payload)
    attempt = _count_attempt(self.app, self.request.id)
    log.info(
        "grading submission %s (round %d, attempt %d) in process %d",
        task.submission_id,
        task.round,
        attempt,
        os.getpid(),
    )
    started = time.monotonic()
    outcome = grade_task(task, attempt)
    log.info(
        "submission %s: %s%s in %.2f s",
        task.submission_id,
        outcome.outcome,
        f" {outcome.score:g}/{outcome.max_score:g}" if outcome.score is not None else "",
        time.monotonic() - started,
    )
    return outcome.model_dump()


def _count_attempt(app, request_id: str | None) -> int:
    if request_id is None:
        return 1
    client = app.backend.client
    key = ATTEMPTS_KEY.format(task_id=request_id)
    attempt = int(client.incr(key))
    client.expire(key, ATTEMPTS_TTL_SECONDS)
    return attempt


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def refusal(task: GradeTask) -> str | None:
    """Why this worker must not grade the task (None: it may)."""
    from grader import catalogue
    from grader.service.rules import rules_fingerprint

    if task.grader_version != __version__:
        return f"the server runs grader {task.grader_version}, this worker grader {__version__}"
    missing = [name for name in task.exercises if name not in catalogue.current().names()]
    if missing:
        return f"this worker has no pack declaring {', '.join(missing)}"
    mine = rules_fingerprint(task.exercises)
    if mine != task.rules:
        return (
            f"this worker's packs differ from the server's (rules {mine}, server {task.rules}):"
            " install the same pack versions on both"
        )
    return None


def grade_task(task: GradeTask, attempt: int) -> GradeOutcome:
    """Grade one task here (in a Celery worker process)."""
    reason = refusal(task)
    if reason is not None:
        log.error("refusing submission %s: %s", task.submission_id, reason)
        return GradeOutcome(outcome="refused", error=reason, worker=worker_name())
    if attempt > task.max_attempts:
        message = (
            f"grading was interrupted {attempt - 1} times (the grading process was killed),"
            " so it is not tried again; a TA can regrade it"
        )
        log.error("giving up on submission %s: %s", task.submission_id, message)
        return GradeOutcome(outcome="failed", error=message, worker=worker_name())
    from grader.assignment import Assignment
    from grader.engine import GradeOptions, grade
    from grader.service.filenames import safe_filename
    from grader.service.worker import feedback_page

    options = GradeOptions(
        assignment=Assignment(tuple(task.exercises), task.points, task.assignment),
        student_id=task.student,
        course_salt=task.salt,
        figures=True,
    )
    with tempfile.TemporaryDirectory(prefix="grader-task-") as directory:
        path = Path(directory) / safe_filename(task.filename)
        path.write_bytes(base64.b64decode(task.content_b64))
        try:
            report = grade(path, options)
            page = feedback_page(report)
        except Exception as exc:  # the grader's own failure: answered, never retried
            log.exception("the grader failed on submission %s", task.submission_id)
            return GradeOutcome(
                outcome="failed",
                error=f"the grader failed on this submission: {type(exc).__name__}: {exc}",
                worker=worker_name(),
            )
    return GradeOutcome(
        outcome="graded",
        report_json=report.model_dump_json(),
        page_html=page,
        score=report.score,
        max_score=report.max_score,
        worker=worker_name(),
    )
