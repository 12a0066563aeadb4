"""What a submitted file may be called and contain, and the safe name it is stored under."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Literal

ACCEPTED_SUFFIXES = (".py", ".ipynb")
MAX_NAME_LENGTH = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


RefusalKind = Literal[
    "name",
    "file_type",
    "too_large",
    "content",
    "unknown_assignment",
    "not_enrolled",
    "deadline",
    "limit",
]


class SubmissionRefused(ValueError):
    """A submission that is not accepted; `reason` is what a client shows the student and
    `kind` which rule refused it (the HTTP layer turns it into a status code)."""

    def __init__(self, reason: str, kind: RefusalKind = "content") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind: RefusalKind = kind


def safe_filename(filename: str) -> str:
    """The name a submission is stored under: NFKC-normalized, only ASCII letters, digits,
    `.`, `_` and `-`, no leading dot, .py or .ipynb. A name with a path in it (a separator,
    `..`), a control character, or another suffix is refused (SubmissionRefused): a browser
    or `grader submit` sends a bare file name, so anything else is not an honest upload."""
    if any(unicodedata.category(char) == "Cc" for char in filename):
        raise SubmissionRefused(
            "the file name contains a NUL byte or another control character", "name"
        )
    normalized = unicodedata.normalize("NFKC", filename)
    # format characters (right-to-left override, zero-width joiners) only disguise a name
    base = "".join(c for c in normalized if unicodedata.category(c) != "Cf").strip()
    if re.search(r"[/\\]", base) or base in {".", ".."}:
        raise SubmissionRefused(
            f"the file name {filename!r} contains a path; send the file under its own name",
            "name",
        )
    suffix = next((s for s in ACCEPTED_SUFFIXES if base.lower().endswith(s)), None)
    if suffix is None:
        raise SubmissionRefused(
            f"only .py files and .ipynb notebooks are accepted, not {filename!r}", "file_type"
        )
    stem = _UNSAFE.sub("_", base[: -len(suffix)]).strip("._-")[: MAX_NAME_LENGTH - len(suffix)]
    return (stem or "submission") + suffix


def check_content(safe_name: str, data: bytes, limit: int | None = None) -> None:
    """SubmissionRefused for an empty or oversized file, a .py file that is not UTF-8 text
    or a notebook that is not a notebook's JSON."""
    if not data:
        raise SubmissionRefused("the file is empty")
    if limit is not None and len(data) > limit:
        raise SubmissionRefused(
            f"the file is larger than the course's limit of {limit} bytes",
            "too_large",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionRefused("the file is not UTF-8 text") from None
    if safe_name.endswith(".ipynb"):
        try:
            notebook = json.loads(text)
        except ValueError:
            raise SubmissionRefused("the notebook is corrupt: it is not valid JSON") from None
        if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
            raise SubmissionRefused("the notebook is corrupt: it has no list of cells")
