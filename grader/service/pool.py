"""A local pool of grading processes, each looping on `grade_next` until told to stop.

    with LocalPool(course_file, data_dir, workers=2):
        ...                       # submissions accepted meanwhile are graded

Starting the pool first queues again what a crash left `grading`
(`Store.requeue_interrupted`); each worker opens its own store and reloads the course
(packs included), then claims, grades and records one submission at a time, sleeping
`poll_seconds` when nothing is queued. Processes are started the way `grader batch` starts
its workers (a forkserver with the grader imported once). Not done yet: a worker that dies
is not replaced while the pool runs, and its submission stays `grading` until the next
start.
"""

from __future__ import annotations

import multiprocessing
import signal
from pathlib import Path

from grader.batch import _as_if_interactive, _context
from grader.service.course import load_course
from grader.service.store import Store
from grader.service.worker import grade_next

_STOP_SECONDS = 30.0


def _work(course_file: str, data_dir: str, stop, poll_seconds: float) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the pool
    course = load_course(course_file)
    with Store(data_dir, course) as store:
        while not stop.is_set():
            if not grade_next(store, course):
                stop.wait(poll_seconds)


class LocalPool:
    def __init__(
        self,
        course_file: Path | str,
        data_dir: Path | str,
        workers: int = 2,
        *,
        poll_seconds: float = 0.5,
    ) -> None:
        self.course_file = str(course_file)
        self.data_dir = str(data_dir)
        self.workers = workers
        self.poll_seconds = poll_seconds
        self._context = _context()
        self._stop = self._context.Event()
        self.processes: list[multiprocessing.process.BaseProcess] = []

    def start(self) -> LocalPool:
        with Store(self.data_dir) as store:
            store.requeue_interrupted()
        with _as_if_interactive():
            for _ in range(self.workers):
                process = self._context.Process(
                    target=_work,
                    args=(self.course_file, self.data_dir, self._stop, self.poll_seconds),
                    daemon=True,
                )
                process.start()
                self.processes.append(process)
        return self

    def stop(self) -> None:
        """Let each worker finish the submission it is grading, then leave (terminated if
        it takes longer than 30 s: its submission is queued again at the next start)."""
        self._stop.set()
        for process in self.processes:
            process.join(_STOP_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join()
        self.processes = []

    def __enter__(self) -> LocalPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
