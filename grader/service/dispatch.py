"""The server's side of grading through Celery: hand queued submissions to the broker,
collect the workers' answers, record them. The server stays the one writer of the store.

    dispatcher = CeleryDispatcher(course, data_dir, "redis://host:6379/0").start()

One thread loops: it sends the oldest queued submissions (at most `max_in_flight` at a
time, so the broker never holds more than the workers will soon take, and a task that has
waited longer than the visibility timeout can only have been lost), reads the answers of
those in flight from the result backend in one round trip, and records them. A submission
a worker started is shown `grading`. An answer that comes twice changes nothing (results
are keyed by submission, grader version and round). If the broker is unreachable (a Redis
restart), the loop logs it once, waits and goes on; a task sent but not answered within
the visibility timeout is sent again under the same id.

On start, what a previous server had sent and not seen answered is followed again (not
resent at once: the broker keeps its tasks across a restart when it persists them).
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader import __version__
from grader.service.course import Course
from grader.service.rules import rules_fingerprint
from grader.service.store import Store, Submission
from grader.service.tasks import (
    DEFAULT_VISIBILITY_TIMEOUT,
    GRADE_TASK,
    GradeOutcome,
    GradeTask,
    make_celery,
    task_id,
    without_password,
)

log = logging.getLogger("grader.service")

CLAIMER = "celery"
DEFAULT_MAX_IN_FLIGHT = 256
WORKER_CHECK_SECONDS = 10.0


def queue_name(course: Course) -> str:
    """The course's own queue, so that one course's regrade never waits behind another's
    deadline: `grader.` and the course's name in lower case, words joined by `-`."""
    slug = re.sub(r"[^a-z0-9]+", "-", course.name.lower()).strip("-") or "course"
    return f"grader.{slug}"


@dataclass
class InFlight:
    submission_id: str
    round: int
    sent_at: float
    started: bool = False


class CeleryDispatcher:
    def __init__(
        self,
        course: Course,
        data_dir: Path | str,
        broker_url: str,
        *,
        queue: str | None = None,
        visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        poll_seconds: float = 0.2,
    ) -> None:
        self.course = course
        self.data_dir = Path(data_dir)
        self.broker_url = broker_url
        self.queue = queue or queue_name(course)
        self.visibility_timeout = visibility_timeout
        self.max_in_flight = max_in_flight
        self.poll_seconds = poll_seconds
        self.app = make_celery(broker_url, visibility_timeout=visibility_timeout)
        self.in_flight: dict[str, InFlight] = {}
        self.worker_nodes: int | None = None
        self.worker_processes: int | None = None
        self.queue_depth: int | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._broker_down = False

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> CeleryDispatcher:
        self.store = Store(self.data_dir, self.course, durable=False)
        self.store.requeue_interrupted(keep=CLAIMER)  # a local pool's, before this server
        now = time.monotonic()
        for submission in self.store.dispatched(CLAIMER):
            key = task_id(submission.id, submission.round)
            self.in_flight[key] = InFlight(
                submission.id, submission.round, now, submission.status == "grading"
            )
        for target in (self._loop, self._watch_workers):
            thread = threading.Thread(target=target, name=f"grader-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        self._threads = []
        self.store.close()

    @property
    def alive(self) -> int | None:
        """Worker processes answering (all machines), as last seen (None: not known yet)."""
        return self.worker_processes

    def replace_dead(self) -> list[str]:
        """Nothing to do here: Celery hands a dead worker's task to another."""
        return []

    def describe(self) -> str:
        broker = without_password(self.broker_url)
        return f"grading through Celery: broker {broker}, queue {self.queue}"

    # ----------------------------------------------------------------- the loop

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._collect()
                self._resend_lost()
                self._dispatch()
                if self._broker_down:
                    log.warning("the broker is reachable again")
                    self._broker_down = False
            except Exception as exc:  # the broker or backend unreachable: wait, go on
                if not self._broker_down:
                    log.warning("the broker cannot be reached (%s); retrying", exc)
                    self._broker_down = True
                self._stop.wait(1.0)
            self._stop.wait(self.poll_seconds)

    def _dispatch(self) -> None:
        while len(self.in_flight) < self.max_in_flight and not self._stop.is_set():
            submission = self.store.dispatch_next(CLAIMER)
            if submission is None:
                return
            key = task_id(submission.id, submission.round)
            self.in_flight[key] = InFlight(submission.id, submission.round, time.monotonic())
            self._send(submission)

    def _send(self, submission: Submission) -> None:
        rules = self.course.assignment(submission.assignment).graded
        task = GradeTask(
            submission_id=submission.id,
            round=submission.round,
            student=submission.student,
            assignment=submission.assignment,
            exercises=list(rules.exercises),
            points=dict(rules.points),
            salt=self.course.salt,
            filename=submission.safe_name,
            content_b64=base64.b64encode(self.store.path_of(submission).read_bytes()).decode(),
            grader_version=__version__,
            rules=rules_fingerprint(rules.exercises),
            max_attempts=self.store.max_attempts,
        )
        self.app.send_task(
            GRADE_TASK,
            args=[task.model_dump()],
            task_id=task_id(submission.id, submission.round),
            queue=self.queue,
        )

    def _resend_lost(self) -> None:
        """Send again (same id) a task not answered within the visibility timeout: the
        broker lost it (a restart without persistence)."""
        now = time.monotonic()
        for flight in list(self.in_flight.values()):
            if now - flight.sent_at > self.visibility_timeout + 60:
                log.warning("no answer for submission %s: sending it again", flight.submission_id)
                flight.sent_at = now
                self._send(self.store.get(flight.submission_id))

    def _collect(self) -> None:
        if not self.in_flight:
            return
        backend = self.app.backend
        keys = list(self.in_flight)
        values = backend.mget([backend.get_key_for_task(key) for key in keys])
        for key, value in zip(keys, values, strict=True):
            if value is None:
                continue
            meta = backend.decode_result(value)
            flight = self.in_flight[key]
            state = meta.get("status")
            if state == "STARTED" and not flight.started:
                flight.started = True
                self.store.mark_grading(flight.submission_id, flight.round)
            elif state == "SUCCESS":
                self._record(flight, GradeOutcome.model_validate(meta["result"]))
                self._forget(key)
            elif state == "FAILURE":
                error = meta.get("result") or {}
                message = f"{error.get('exc_type', 'error')}: {error.get('exc_message', '')}"
                self._record(
                    flight,
                    GradeOutcome(outcome="failed", error=f"the grading worker failed: {message}"),
                )
                self._forget(key)

    def _record(self, flight: InFlight, outcome: GradeOutcome) -> None:
        if outcome.outcome == "refused":
            log.error(
                "submission %s refused by worker %s: %s",
                flight.submission_id,
                outcome.worker,
                outcome.error,
            )
            if not flight.started:  # a refusal is an attempt: refused N times, it fails
                self.store.mark_grading(flight.submission_id, flight.round)
            reason = f"no worker could grade it: {outcome.error}"
            self.store.release(flight.submission_id, flight.round, reason)
            self.in_flight.pop(task_id(flight.submission_id, flight.round), None)
            return
        status = "graded" if outcome.outcome == "graded" else "failed"
        score = (
            (outcome.score, outcome.max_score)
            if outcome.score is not None and outcome.max_score is not None
            else None
        )
        self.store.record_result(
            flight.submission_id,
            __version__,
            outcome.report_json,
            status,
            error=outcome.error,
            round=flight.round,
            page_html=outcome.page_html,
            score=score,
        )

    def _forget(self, key: str) -> None:
        self.in_flight.pop(key, None)
        self.app.AsyncResult(key).forget()
        self.app.backend.client.delete(f"grader:attempts:{key}")

    # ----------------------------------------------------------------- watching

    def _watch_workers(self) -> None:
        while not self._stop.is_set():
            try:
                stats = self.app.control.inspect(timeout=1.0).stats() or {}
                self.worker_nodes = len(stats)
                self.worker_processes = sum(
                    int(node.get("pool", {}).get("max-concurrency", 0)) for node in stats.values()
                )
                with self.app.connection_for_read() as connection:
                    self.queue_depth = connection.default_channel.client.llen(self.queue)
            except Exception:  # the broker is down: the loop reports it
                self.worker_nodes = self.worker_processes = self.queue_depth = None
            self._stop.wait(WORKER_CHECK_SECONDS)
