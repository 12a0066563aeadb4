"""A real `grader serve` for the service tests: started through the command line as a user
starts it (its own process group, a free loopback port), with tokens issued by
`grader serve tokens issue`, and stopped, killed or restarted by the test.

    server = LiveService.start(tmp_path, workers=1)
    with server.client() as http:                    # httpx, base_url set
        http.get("/api/me", headers=server.bearer("s001"))
    server.kill()                                    # SIGKILL, the whole process group
    server.restart()
    server.stop()                                    # SIGTERM, then waits
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.service_helpers import COURSE, ROSTER, write_course

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "submissions"
START_SECONDS = 60.0
TA = "tina"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def grader_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "grader", *args]


@dataclass
class LiveService:
    directory: Path
    course_file: Path
    data_dir: Path
    workers: int
    port: int = 0
    tokens: dict[str, str] = field(default_factory=dict)
    """Student id (or the TA's name, `TA`) -> token."""
    process: subprocess.Popen | None = None
    log: Path | None = None
    starts: int = 0
    args: tuple[str, ...] = ()
    """More options of `grader serve` (e.g. --broker URL)."""

    @classmethod
    def start(
        cls,
        directory: Path,
        *,
        course: str = COURSE,
        roster: str = ROSTER,
        workers: int = 1,
        args: tuple[str, ...] = (),
    ) -> LiveService:
        course_file = write_course(directory, course, roster)
        server = cls(directory, course_file, directory / "data", workers, args=args)
        server.tokens = server.issue_tokens()
        server.launch()
        return server

    def issue_tokens(self) -> dict[str, str]:
        out = self.directory / "tokens.csv"
        done = subprocess.run(
            grader_command(
                "serve",
                "tokens",
                "issue",
                "--course",
                str(self.course_file),
                "--data",
                str(self.data_dir),
                "--roster",
                "--ta",
                TA,
                "--out",
                str(out),
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        with out.open(newline="") as file:
            return {row["name"]: row["token"] for row in csv.DictReader(file)}

    def launch(self) -> None:
        """Start `grader serve` and wait until it answers (a new port each time)."""
        self.port = free_port()
        self.starts += 1
        self.log = self.directory / f"serve-{self.starts}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                grader_command(
                    "serve",
                    "--course",
                    str(self.course_file),
                    "--data",
                    str(self.data_dir),
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    *self.args,
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"grader serve exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"grader serve did not answer:\n{self.log.read_text()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **options) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **options)

    def bearer(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def kill(self) -> None:
        """SIGKILL the server and every process it started (its process group)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self.process = None

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; SIGKILL if it is still there after 60 s."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def group_alive(self, pid: int) -> bool:
        """Whether any process of the server's process group `pid` is still running."""
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def restart(self) -> None:
        self.stop()
        self.launch()

    def logs(self) -> str:
        return "".join(
            path.read_text(errors="replace") for path in sorted(self.directory.glob("serve-*.log"))
        )

    def wait_done(
        self, http: httpx.Client, submission_id: str, name: str, timeout: float = 120.0
    ) -> dict:
        """Poll until the submission is graded or failed; its JSON."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = http.get(f"/api/submissions/{submission_id}", headers=self.bearer(name))
            assert answer.status_code == 200, answer.text
            if answer.json()["status"] in ("graded", "failed"):
                return answer.json()
            time.sleep(0.2)
        raise AssertionError(f"submission {submission_id} not graded in {timeout} s")

    def upload(
        self,
        http: httpx.Client,
        name: str,
        assignment: str,
        path: Path,
        filename: str | None = None,
    ) -> httpx.Response:
        return http.post(
            "/api/submissions",
            headers=self.bearer(name),
            data={"assignment": assignment},
            files={"file": (filename or path.name, path.read_bytes())},
        )
