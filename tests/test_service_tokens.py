"""Tokens: random, stored only hashed, replaced on re-issue, revocable, with a role."""

from __future__ import annotations

import pytest

from grader.service.store import Store
from grader.service.tokens import (
    authenticate,
    issue_ta_token,
    issue_tokens,
    revoke,
    token_hash,
)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "data") as store:
        yield store


def _stored_bytes(store: Store) -> bytes:
    """Everything the store wrote: the database, its WAL and shared-memory files."""
    return b"".join(path.read_bytes() for path in store.data_dir.glob("store.sqlite*"))


def test_tokens_are_stored_only_as_hashes(store):
    tokens = issue_tokens(store, ["s001", "s002"])
    ta = issue_ta_token(store, "grace")
    everything = _stored_bytes(store)
    for token in [*tokens.values(), ta]:
        assert len(token) >= 43
        assert token.encode() not in everything
        assert token_hash(token).encode() in everything
    assert len({*tokens.values(), ta}) == 3


def test_authenticate_right_wrong_and_roles(store):
    tokens = issue_tokens(store, ["s001", "s002"])
    ta = issue_ta_token(store, "grace")
    ada = authenticate(store, tokens["s001"])
    assert (ada.role, ada.student_id, ada.is_ta) == ("student", "s001", False)
    assert authenticate(store, tokens["s002"]).student_id == "s002"
    grace = authenticate(store, ta)
    assert (grace.role, grace.name, grace.student_id, grace.is_ta) == ("ta", "grace", None, True)
    for wrong in ["", None, "x", tokens["s001"] + "x", tokens["s001"][:-1], token_hash(ta)]:
        assert authenticate(store, wrong) is None


def test_reissue_replaces_and_revoke_removes(store):
    old = issue_tokens(store, ["s001", "s002"])
    new = issue_tokens(store, ["s001"])
    assert authenticate(store, old["s001"]) is None
    assert authenticate(store, new["s001"]).student_id == "s001"
    assert authenticate(store, old["s002"]).student_id == "s002"  # untouched
    assert revoke(store, old["s002"])
    assert authenticate(store, old["s002"]) is None
    assert not revoke(store, old["s002"])
    old_ta = issue_ta_token(store, "grace")
    new_ta = issue_ta_token(store, "grace")
    assert authenticate(store, old_ta) is None
    assert authenticate(store, new_ta).is_ta


def test_tokens_survive_a_new_store(store):
    token = issue_tokens(store, ["s001"])["s001"]
    with Store(store.data_dir) as again:
        assert authenticate(again, token).student_id == "s001"


def test_bad_names_are_refused(store):
    with pytest.raises(ValueError, match="path separator"):
        issue_tokens(store, ["../s1"])
    with pytest.raises(ValueError, match="empty"):
        issue_ta_token(store, "")
