"""Who is asking, how often, and whether a form post comes from our own page.

- The JSON API takes a token only as `Authorization: Bearer <token>`. A browser never adds
  that header by itself, so API calls cannot be forged from another site.
- The pages take it from an HttpOnly, SameSite=Strict cookie set by the login form (the
  token is never in a URL, so never in an access log or a browser's history). Every form
  post carries a CSRF field: an HMAC of the session's token hash under the service's
  secret, checked in constant time, and a cross-site Origin header is refused outright.
  The login form, which has no session yet, is protected the same way by a random
  double-submit cookie.
- Every token (valid or not) has a budget of requests per minute (`[limits]` in the
  course file); a flood gets 429 with Retry-After. Failed logins count against the
  client's address too, so guessing tokens is slowed down.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

from grader.service.tokens import Principal, token_hash

SESSION_COOKIE = "grader_session"
LOGIN_COOKIE = "grader_login"
SECRET_FILE = "secret"
WINDOW_SECONDS = 60.0


def load_secret(data_dir: Path) -> bytes:
    """The service's own secret (CSRF tokens), made once and kept in the data directory
    (mode 0600), so that forms stay valid across a restart."""
    path = data_dir / SECRET_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        secret = secrets.token_bytes(32)
        path.touch(mode=0o600)
        path.write_text(secret.hex())
        return secret


def csrf_token(secret: bytes, token: str) -> str:
    """The CSRF field of the forms shown to the holder of `token`."""
    return hmac.new(secret, b"csrf:" + token_hash(token).encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, token: str, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(csrf_token(secret, token), str(submitted))


def cross_site(origin: str | None, host: str | None) -> bool:
    """True for a request whose Origin header names another site than the Host it was sent
    to. A missing Origin (older clients, command-line tools) is judged by the CSRF field
    alone. Behind a reverse proxy, the proxy must pass the Host header on."""
    if origin is None:
        return False
    return host is None or urlsplit(origin).netloc != host


class RateLimiter:
    """At most `limit` requests per key in any 60-second window (a sliding log)."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str, limit: int, now: float | None = None) -> int | None:
        """Count a request; None if it is allowed, else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - WINDOW_SECONDS:
                seen.popleft()
            if len(seen) >= limit:
                return max(1, math.ceil(seen[0] + WINDOW_SECONDS - now))
            seen.append(now)
            if len(self._seen) > 100_000:  # forget idle keys rather than grow without bound
                self._forget_idle(now)
            return None

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._seen.items() if not v or v[-1] <= now - WINDOW_SECONDS]:
            del self._seen[key]


def rate_key(token: str | None, client: str | None) -> str:
    """What a request is counted against: its token (hashed, so no token sits in memory
    longer than the request), else the client's address."""
    return f"token:{token_hash(token)}" if token else f"client:{client or '?'}"


def limit_for(principal: Principal | None, student_limit: int, ta_limit: int) -> int:
    return ta_limit if principal is not None and principal.is_ta else student_limit
