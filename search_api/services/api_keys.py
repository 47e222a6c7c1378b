"""API keys as the keys API and `edufed keys` handle them: issue and revoke (each audited in the same transaction),
a key's facts without its secret, and the platforms a key may name."""

from __future__ import annotations

from typing import Any

from crawlers.state import ApiKeyInfo, StateStore
from search_api.http.errors import InvalidRequestError, ProblemDetail


def registered_platforms(store: StateStore) -> dict[str, str]:
    """Platform id -> name of every source the state database holds (the served catalogue's platforms), and
    the platforms keys were already issued for (admitted as new before their first source)."""
    names: dict[str, str] = {}
    for stored in store.sources.find():
        names.setdefault(stored.config.platform, stored.config.platform_name)
    for info in store.keys.find():
        if info.platform:
            names.setdefault(info.platform, "no source yet")
    return names


def ensure_known_platform(platform: str, known: dict[str, str]) -> None:
    """422 naming the known platforms when no source has `platform`."""
    if platform in known:
        return
    listed = ", ".join(f"{p} ({name})" for p, name in sorted(known.items())) or "(none)"
    reason = f"no source has platform {platform!r}; known platforms: {listed}; new_platform=true accepts a new one"
    raise InvalidRequestError("unknown platform", details=[ProblemDetail("platform", reason)])


def key_dict(info: ApiKeyInfo) -> dict[str, Any]:
    """A key's facts, never its secret."""

    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {"id": info.id, "role": info.role, "platform": info.platform, "label": info.label,
            "created_by": info.created_by, "created_at": iso(info.created_at), "revoked_at": iso(info.revoked_at),
            "last_used_at": iso(info.last_used_at)}  # fmt: skip


def issue_key(
    store: StateStore, *, role: str, platform: str | None, label: str | None, actor: str
) -> tuple[str, ApiKeyInfo]:
    """Create a key and its audit entry in one transaction; the plain key and its facts."""
    with store.transaction() as tx:
        created = tx.keys.create(role=role, platform=platform, label=label, created_by=actor)
        tx.audit.record(actor=actor, action="key.create", target=f"key:{created.info.id}",
                        details={"role": role, "platform": platform, "label": label})  # fmt: skip
    return created.key, created.info


def revoke_key(store: StateStore, key_id: str, *, actor: str) -> ApiKeyInfo:
    """Revoke a key and log it; StateNotFoundError when there is no such key."""
    with store.transaction() as tx:
        info = tx.keys.revoke(key_id)
        tx.audit.record(actor=actor, action="key.revoke", target=f"key:{key_id}")
    return info
