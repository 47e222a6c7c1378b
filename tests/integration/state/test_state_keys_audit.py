"""API keys (hashed, shown once, revocable) and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crawlers.state import ApiKeyInfo
from crawlers.state.errors import InvalidStateValueError, StateNotFoundError
from crawlers.state.keys import ROLES
from crawlers.state.schema import api_keys
from search_api.http.auth import ADMIN, OPERATOR, Principal


def _stored_text(store) -> str:
    with store.engine.connect() as connection:
        rows = connection.execute(select(api_keys)).mappings().all()
    return " ".join(str(value) for row in rows for value in row.values())


def test_a_created_key_verifies_to_its_stored_facts(store):
    created = store.keys.create(role="operator", platform="ouchn", label="国开平台运维", created_by="key:root")
    verified = store.keys.verify(created.key)
    assert verified is not None
    assert (verified.id, verified.role, verified.platform, verified.label) == (created.info.id, "operator", "ouchn",
                                                                              "国开平台运维")  # fmt: skip
    assert verified.revoked_at is None
    admin = store.keys.create(role="admin")
    assert (store.keys.verify(admin.key).id, store.keys.verify(admin.key).platform) == (admin.info.id, None)


def test_the_stored_roles_are_the_roles_auth_checks():
    assert set(ROLES) == {ADMIN, OPERATOR}
    assert Principal.of(_info("k1", OPERATOR, "ouchn")) == Principal(key_id="k1", role=OPERATOR, platform="ouchn")


def _info(key_id: str, role: str, platform: str | None) -> ApiKeyInfo:
    return ApiKeyInfo(id=key_id, role=role, platform=platform, label=None, created_by=None,
                      created_at=datetime.now(UTC), revoked_at=None, last_used_at=None)  # fmt: skip


def test_the_plain_key_and_secret_are_never_stored(store):
    created = store.keys.create(role="admin", label="值班管理员")
    secret = created.key.split("_", 2)[2]  # efk_<id>_<secret>
    stored = _stored_text(store)
    assert created.info.id in stored
    assert created.key not in stored
    assert secret not in stored


def test_revoked_unknown_tampered_and_malformed_keys_do_not_verify(store):
    created = store.keys.create(role="admin")
    other = store.keys.create(role="admin")
    prefix, key_id, secret = created.key.split("_", 2)
    tampered = f"{prefix}_{key_id}_{'A' if secret[0] != 'A' else 'B'}{secret[1:]}"
    swapped = f"{prefix}_{other.info.id}_{secret}"
    for bad in (tampered, swapped, "", "efk_", "Bearer " + created.key, created.key + "x", None, 42):
        assert store.keys.verify(bad) is None
    store.keys.revoke(created.info.id)
    assert store.keys.verify(created.key) is None
    assert store.keys.verify(other.key) is not None


def test_revoking_keeps_the_first_revocation_time_and_hides_the_key_from_lists(store):
    created = store.keys.create(role="operator", platform="shequ")
    first = store.keys.revoke(created.info.id)
    assert store.keys.revoke(created.info.id).revoked_at == first.revoked_at
    assert store.keys.find(platform="shequ") == []
    assert [k.id for k in store.keys.find(platform="shequ", include_revoked=True)] == [created.info.id]
    with pytest.raises(StateNotFoundError):
        store.keys.revoke("000000000000")


def test_verifying_records_last_use(store):
    created = store.keys.create(role="admin")
    assert store.keys.get(created.info.id).last_used_at is None
    store.keys.verify(created.key)
    used = store.keys.get(created.info.id).last_used_at
    assert used is not None and used >= created.info.created_at


def test_bad_roles_and_operator_keys_without_platform_are_refused(store):
    with pytest.raises(InvalidStateValueError) as caught:
        store.keys.create(role="root")
    assert caught.value.field == "role"
    with pytest.raises(InvalidStateValueError) as caught:
        store.keys.create(role="operator")
    assert caught.value.field == "platform"
    with pytest.raises(InvalidStateValueError):
        store.keys.create(role="operator", platform="Bad Platform")
    assert store.keys.find(include_revoked=True) == []


def test_audit_entries_are_listed_newest_first_and_filtered(store):
    first = store.audit.record(actor="key:admin1", action="source.pause", target="elder_news")
    second = store.audit.record(
        actor="key:admin1", action="hold.approve", target="elder_news", details={"hold_id": 3, "uids": 12}
    )
    third = store.audit.record(actor="cli:root", action="key.create", target="key:abc", details={"role": "admin"})
    assert [e.id for e in store.audit.find()] == [third.id, second.id, first.id]
    assert [e.id for e in store.audit.find(target="elder_news")] == [second.id, first.id]
    assert [e.id for e in store.audit.find(actor="cli:root")] == [third.id]
    assert [e.id for e in store.audit.find(action="source.pause")] == [first.id]
    assert [e.id for e in store.audit.find(before=second.id)] == [first.id]
    assert second.details == {"hold_id": 3, "uids": 12} and second.at >= first.at


def test_an_audited_change_and_its_entry_commit_or_fail_together(store):
    created = store.keys.create(role="operator", platform="shequ")
    with pytest.raises(StateNotFoundError), store.transaction() as tx:
        tx.keys.revoke(created.info.id)
        tx.audit.record(actor="key:admin1", action="key.revoke", target=f"key:{created.info.id}")
        tx.holds.get(424242)  # a later step fails: nothing above may stay
    assert store.keys.verify(created.key) is not None
    assert store.audit.find() == []
