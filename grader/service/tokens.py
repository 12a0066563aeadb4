"""Who is asking: bearer tokens for students and TAs, stored only as SHA-256 hashes.

    tokens = issue_tokens(store, course.students)   # {student id: token}, shown once
    principal = authenticate(store, token)          # Principal, or None

A token is `secrets.token_urlsafe(32)` (256 random bits), handed out once and never
stored: the store keeps its SHA-256, so a copy of the database gives no token. Issuing a
student a new token replaces the old one; `revoke` removes one. The hash is looked up
through an index and then compared in constant time (`hmac.compare_digest`); since the
hash of a 256-bit random secret is what is looked up, the lookup's timing tells an attacker
nothing about any token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from grader.service.course import check_student_id
from grader.service.store import Store, utc_now

Role = Literal["student", "ta"]


@dataclass(frozen=True)
class Principal:
    """Whom a token belongs to: a student (`student_id`) or a TA (`name`)."""

    role: Role
    name: str

    @property
    def student_id(self) -> str | None:
        return self.name if self.role == "student" else None

    @property
    def is_ta(self) -> bool:
        return self.role == "ta"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _issue(store: Store, role: Role, subjects: Iterable[str]) -> dict[str, str]:
    issued: dict[str, str] = {}
    with store.write() as db:
        for subject in subjects:
            problem = check_student_id(subject)
            if problem:
                raise ValueError(problem.replace("student id", "name"))
            token = secrets.token_urlsafe(32)
            db.execute("DELETE FROM tokens WHERE role = ? AND subject = ?", (role, subject))
            db.execute(
                "INSERT INTO tokens (hash, role, subject, issued_at) VALUES (?, ?, ?, ?)",
                (token_hash(token), role, subject, utc_now().isoformat()),
            )
            issued[subject] = token
    return issued


def issue_tokens(store: Store, student_ids: Iterable[str]) -> dict[str, str]:
    """A new token for each student (replacing any old one): {student id: token}. The tokens
    exist only in what this returns."""
    return _issue(store, "student", student_ids)


def issue_ta_token(store: Store, name: str) -> str:
    """A new TA token for `name` (replacing that TA's old one)."""
    return _issue(store, "ta", [name])[name]


def revoke(store: Store, token: str) -> bool:
    """Remove a token; False if it was not a valid token."""
    with store.write() as db:
        return bool(db.execute("DELETE FROM tokens WHERE hash = ?", (token_hash(token),)).rowcount)


def authenticate(store: Store, token: str | None) -> Principal | None:
    """The principal a token belongs to, or None for a missing, wrong or revoked token."""
    if not token or not isinstance(token, str):
        return None
    wanted = token_hash(token)
    rows = store.read("SELECT hash, role, subject FROM tokens WHERE hash = ?", wanted)
    if not rows or not hmac.compare_digest(rows[0]["hash"], wanted):
        return None
    return Principal(role=rows[0]["role"], name=rows[0]["subject"])
