"""What a submitted file may be called and contain, and the safe name it is stored under."""

from __future__ import annotations

import json
import re
import unicodedata

ACCEPTED_SUFFIXES = (".py", ".ipynb")
MAX_NAME_LENGTH = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class SubmissionRefused(ValueError):
    """A submission that is not accepted; `reason` is what a client shows the student."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def safe_filename(filename: str) -> str:
    """The name a submission is stored under: its last path component, NFKC-normalized,
    only ASCII letters, digits, `.`, `_` and `-`, no leading dot, .py or .ipynb
    (SubmissionRefused otherwise)."""
    if any(unicodedata.category(char) == "Cc" for char in filename):
        raise SubmissionRefused("the file name contains a NUL byte or another control character")
    normalized = unicodedata.normalize("NFKC", filename)
    # format characters (right-to-left override, zero-width joiners) only disguise a name
    normalized = "".join(c for c in normalized if unicodedata.category(c) != "Cf")
    base = re.split(r"[/\\]", normalized)[-1].strip()
    suffix = next((s for s in ACCEPTED_SUFFIXES if base.lower().endswith(s)), None)
    if suffix is None:
        raise SubmissionRefused(
            f"only .py files and .ipynb notebooks are accepted, not {filename!r}"
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
            f"the file is {len(data)} bytes, more than the course's limit of {limit} bytes"
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
