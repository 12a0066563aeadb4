"""A local pool of grading processes, each looping on `grade_next` while the pool lives.

    pool = LocalPool(course_file, data_dir, workers=2).start()
    ...                           # submissions accepted meanwhile are graded
    pool.replace_dead()           # call now and then: a dead worker's claim is queued again
    pool.stop()

Starting the pool first queues again what a crash left `grading`
(`Store.requeue_interrupted`). Each worker opens its own store and reloads the course
(packs included), then claims, grades and records one submission at a time, waiting
`poll_seconds` when nothing is queued.

A worker holds the reading end of a pipe whose writing end only the pool holds. When the
pool stops, or the process that holds it dies (even by SIGKILL), the worker reads end of
file and leaves after the submission it is grading: no orphan goes on grading behind a
dead server. `replace_dead` starts a new worker for each one that died and queues again
the submission it was grading (after `max_attempts` such deaths the submission is
`failed`, so one that kills its worker every time cannot loop forever).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from grader.service.course import load_course
from grader.service.store import Store
from grader.service.worker import grade_next
from grader.workers import as_if_interactive, worker_context

_STOP_SECONDS = 30.0


def worker_name(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}"


def _pool_gone(alive: Connection, timeout: float) -> bool:
    """Wait up to `timeout` seconds; True once the pool has closed its end (or died)."""
    if not alive.poll(timeout):
        return False
    try:
        alive.recv_bytes()
    except (EOFError, OSError):
        return True
    return False


def _work(course_file: str, data_dir: str, alive: Connection, poll_seconds: float) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool stops its workers
    course = load_course(course_file)
    name = worker_name(os.getpid())
    with Store(data_dir, course, durable=False) as store:
        while True:
            graded = grade_next(store, course, worker=name)
            if _pool_gone(alive, 0.0 if graded else poll_seconds):
                return


class LocalPool:
    def __init__(
        self,
        course_file: Path | str,
        data_dir: Path | str,
        workers: int = 2,
        *,
        poll_seconds: float = 0.2,
    ) -> None:
        self.course_file = str(course_file)
        self.data_dir = str(data_dir)
        self.workers = workers
        self.poll_seconds = poll_seconds
        self._context = worker_context()
        self._lock = threading.Lock()
        self.processes: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []

    def start(self) -> LocalPool:
        with Store(self.data_dir) as store:
            store.requeue_interrupted()
        with self._lock:
            for _ in range(self.workers):
                self.processes.append(self._start_one())
        return self

    def _start_one(self) -> tuple[multiprocessing.process.BaseProcess, Connection]:
        reader, writer = self._context.Pipe(duplex=False)
        with as_if_interactive():
            process = self._context.Process(
                target=_work,
                args=(self.course_file, self.data_dir, reader, self.poll_seconds),
                daemon=True,
            )
            process.start()
        reader.close()  # the worker has its own copy; the pool keeps only the writing end
        return process, writer

    @property
    def alive(self) -> int:
        return sum(process.is_alive() for process, _ in self.processes)

    queue_depth = None
    """Only a broker has a queue of its own; here the store's `queued` is the queue."""

    def describe(self) -> str:
        return f"grading with {self.workers} local worker processes"

    def replace_dead(self) -> list[str]:
        """Start a new worker for each dead one and queue again what it was grading;
        returns the ids queued again (or failed after too many deaths)."""
        touched: list[str] = []
        with self._lock:
            for index, (process, writer) in enumerate(self.processes):
                if process.is_alive() or process.pid is None:
                    continue
                writer.close()
                with Store(self.data_dir) as store:
                    requeued, failed = store.requeue_interrupted(worker_name(process.pid))
                touched += requeued + failed
                self.processes[index] = self._start_one()
        return touched

    def stop(self) -> None:
        """Let each worker finish the submission it is grading, then leave (terminated if
        it takes longer than 30 s: its submission is queued again at the next start)."""
        with self._lock:
            processes, self.processes = self.processes, []
        for _, writer in processes:
            writer.close()
        for process, _ in processes:
            process.join(_STOP_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join()

    def __enter__(self) -> LocalPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
