"""Hand in to a course's `grader serve` from Python or a notebook (standard library only).

    from grader import submit
    submit("hw1.ipynb", "hw1", url="https://grader.example.edu", token="...")

The URL and token may also come from the environment (GRADER_URL, GRADER_TOKEN), which
keeps the token out of a notebook that may be shared. `submit` uploads the file, then
(unless wait=False) waits for the grade and returns it; the feedback page is at
`Submitted.page_url` (log in with the same token in the browser).
"""

from __future__ import annotations

import json
import mimetypes
import os
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_POLL_SECONDS = 3.0
"""How often the status is asked for while waiting: well inside the course's request
budget (30 a minute by default)."""
DEFAULT_WAIT_SECONDS = 600.0


class SubmitError(Exception):
    """The submission was not accepted (or its status could not be read): `status` is the
    HTTP status (0: the server could not be reached), the message says why."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Submitted:
    id: str
    assignment: str
    status: str
    page_url: str
    score: float | None = None
    max_score: float | None = None
    late: bool = False
    error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def done(self) -> bool:
        return self.status in ("graded", "failed")

    def summary(self) -> str:
        late = " (late)" if self.late else ""
        if self.status == "graded":
            return (
                f"{self.assignment}: graded{late}, {self.score:g} / {self.max_score:g} points."
                f" Feedback: {self.page_url}"
            )
        if self.status == "failed":
            return f"{self.assignment}: grading failed{late}: {self.error}"
        return f"{self.assignment}: {self.status}{late}. Follow it at {self.page_url}"

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from html import escape

        return (
            f"<p>{escape(self.summary().rsplit(' ', 1)[0])} "
            f'<a href="{escape(self.page_url)}" target="_blank">{escape(self.page_url)}</a></p>'
        )


def submit(
    path: str | os.PathLike[str],
    assignment: str,
    *,
    url: str | None = None,
    token: str | None = None,
    wait: bool = True,
    timeout: float = DEFAULT_WAIT_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
) -> Submitted:
    """Upload `path` as a submission of `assignment`; wait for its grade unless wait=False.
    SubmitError says why a submission was refused."""
    base, token = _where(url, token)
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SubmitError(f"cannot read {path}: {exc.strerror}") from None
    body, content_type = _multipart({"assignment": assignment}, "file", path.name, data)
    answer = _request(base, "POST", "/api/submissions", token, body=body, content_type=content_type)
    submitted = _submitted(base, answer)
    deadline = time.monotonic() + timeout
    while wait and not submitted.done and time.monotonic() < deadline:
        time.sleep(poll_seconds)
        submitted = status(submitted.id, url=base, token=token)
    return submitted


def status(submission_id: str, *, url: str | None = None, token: str | None = None) -> Submitted:
    """Where a submission stands now."""
    base, token = _where(url, token)
    quoted = urllib.parse.quote(submission_id, safe="")
    return _submitted(base, _request(base, "GET", f"/api/submissions/{quoted}", token))


def _where(url: str | None, token: str | None) -> tuple[str, str]:
    url = url or os.environ.get("GRADER_URL")
    token = token or os.environ.get("GRADER_TOKEN")
    if not url:
        raise SubmitError("no server: pass url=... (or set GRADER_URL)")
    if not token:
        raise SubmitError("no token: pass token=... (or set GRADER_TOKEN)")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise SubmitError(f"{url!r} is not an http:// or https:// address")
    return url.rstrip("/"), token.strip()


def _submitted(base: str, answer: dict[str, Any]) -> Submitted:
    return Submitted(
        id=answer["id"],
        assignment=answer["assignment"],
        status=answer["status"],
        page_url=base + answer["page_url"],
        score=answer.get("score"),
        max_score=answer.get("max_score"),
        late=bool(answer.get("late")),
        error=answer.get("error"),
        raw=answer,
    )


def _multipart(
    fields: dict[str, str], file_field: str, filename: str, data: bytes
) -> tuple[bytes, str]:
    boundary = "grader-" + secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    quoted = filename.replace("\\", "_").replace('"', "_").replace("\r", "").replace("\n", "")
    kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}";'
        f' filename="{quoted}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _request(
    base: str,
    method: str,
    path: str,
    token: str,
    *,
    body: bytes | None = None,
    content_type: str | None = None,
    retries: int = 3,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    for attempt in range(retries + 1):
        request = urllib.request.Request(base + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = _detail(exc)
            if exc.code == 429 and attempt < retries:
                time.sleep(float(exc.headers.get("Retry-After") or 5))
                continue
            raise SubmitError(f"the server said {exc.code}: {detail}", exc.code) from None
        except urllib.error.URLError as exc:
            raise SubmitError(f"cannot reach {base}: {exc.reason}") from None
    raise AssertionError("unreachable")


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read())["detail"])
    except (ValueError, KeyError, TypeError, OSError):
        return exc.reason or "no detail"
