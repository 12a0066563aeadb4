"""A real redis-server and real `grader worker` (Celery) processes for the scale-out
tests, started on loopback and torn down by the test.

    redis = RedisServer.start(tmp_path)              # append-only, fsync on every write
    workers = [CeleryWorker.start(tmp_path, redis.url, QUEUE) for _ in range(2)]
    ...
    redis.restart()                                  # SIGKILL, then the same port and files
    workers[0].kill_grading(submission_id)           # SIGKILL the process grading it

Without redis-server on the PATH the tests that use these are skipped, unless
GRADER_REQUIRE_REDIS is set (CI sets it), in which case they fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live_service import free_port

REDIS = shutil.which("redis-server")
START_SECONDS = 60.0


def require_redis() -> None:
    if REDIS is None:
        if os.environ.get("GRADER_REQUIRE_REDIS"):
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")


@dataclass
class RedisServer:
    directory: Path
    port: int
    process: subprocess.Popen | None = None

    @classmethod
    def start(cls, directory: Path) -> RedisServer:
        require_redis()
        directory.mkdir(parents=True, exist_ok=True)
        server = cls(directory, free_port())
        server.launch()
        return server

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def launch(self) -> None:
        assert REDIS is not None
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                REDIS,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.ping():
                return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def client(self):
        import redis

        return redis.Redis(port=self.port)

    def kill(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
            self.process = None

    def restart(self, down_seconds: float = 1.0) -> None:
        """Kill it (no chance to save anything) and start it again on the same files."""
        self.kill()
        time.sleep(down_seconds)
        self.launch()


@dataclass
class CeleryWorker:
    directory: Path
    log: Path
    process: subprocess.Popen | None = None

    @classmethod
    def start(
        cls,
        directory: Path,
        broker: str,
        queue: str,
        *,
        concurrency: int = 1,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> CeleryWorker:
        directory.mkdir(parents=True, exist_ok=True)
        index = len(list(directory.glob("worker-*.log")))
        log_path = directory / f"worker-{index}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "grader",
                    "worker",
                    "--broker",
                    broker,
                    "--queue",
                    queue,
                    "--concurrency",
                    str(concurrency),
                    *args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=directory,  # not the project's folder, which `python -m` would import
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            )
        worker = cls(directory, log_path, process)
        worker.wait_ready()
        return worker

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if "ready." in self.text():
                return
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"grader worker exited:\n{self.text()}")
            time.sleep(0.1)
        raise AssertionError(f"grader worker not ready:\n{self.text()}")

    def grading_pid(self, submission_id: str, attempt: int | None = None) -> int | None:
        """The process grading `submission_id` (its latest attempt, or `attempt`), from the
        worker's log line "grading submission ID (round R, attempt A) in process PID"."""
        pattern = re.compile(
            rf"grading submission {submission_id} \(round \d+, attempt (\d+)\) in process (\d+)"
        )
        found = [(int(m.group(1)), int(m.group(2))) for m in pattern.finditer(self.text())]
        found = [item for item in found if attempt is None or item[0] == attempt]
        return found[-1][1] if found else None

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self.process = None
