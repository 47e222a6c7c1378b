"""The keys API (admin key): issue operator and admin keys, list them, revoke them; every change audited.

A new key's secret is in the 201 answer once and nowhere else: the store keeps a salted hash, the audit
log and the logs name the key's public id only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from crawlers.state import ApiKeyInfo, InvalidStateValueError, Principal, StateNotFoundError, StateStore
from search_api.auth import require_admin, state_store
from search_api.errors import InvalidRequestError, NotFoundError, ProblemDetail
from search_api.schemas import ROLE_ERROR_RESPONSES
from search_api.source_actions import actor_of

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=ROLE_ERROR_RESPONSES)

Admin = Annotated[Principal, Depends(require_admin)]
Store = Annotated[StateStore, Depends(state_store)]


class KeyRequest(BaseModel):
    """A key to issue."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["operator", "admin"] = Field(description="operator (one platform's sources) or admin.")
    platform: str | None = Field(None, max_length=63, description="The platform an operator key acts for.")
    label: str | None = Field(None, max_length=200, description="Who holds the key, for people reading lists.")
    new_platform: bool = Field(False, description="Accept a `platform` no source has yet (a platform about to "
                               "register its first feed); without it an unknown platform is a 422 naming the known.")


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


@router.post("/keys", status_code=201)
def create_key(body: KeyRequest, admin: Admin, store: Store) -> JSONResponse:
    """Issue a key; the answer carries the secret once — store it now, it cannot be shown again. The platform
    must be one a source has, unless `new_platform` is true (422 naming the known platforms otherwise)."""
    if body.role == "operator" and not body.platform:
        raise InvalidRequestError("an operator key needs a platform",
                                  details=[ProblemDetail("platform", "required for role operator")])  # fmt: skip
    if body.platform and not body.new_platform:
        ensure_known_platform(body.platform, registered_platforms(store))
    try:
        key, info = issue_key(store, role=body.role, platform=body.platform, label=body.label,
                              actor=actor_of(admin))  # fmt: skip
    except InvalidStateValueError as exc:
        raise InvalidRequestError("invalid key request", details=[ProblemDetail(exc.field, str(exc))]) from exc
    return JSONResponse({**key_dict(info), "key": key}, status_code=201,
                        headers={"Cache-Control": "no-store"})  # fmt: skip


@router.get("/keys")
def list_keys(admin: Admin, store: Store, platform: Annotated[str | None, Query(max_length=63)] = None,
              revoked: Annotated[bool, Query()] = False) -> dict[str, Any]:  # fmt: skip
    """Keys oldest first (revoked ones with `revoked=true`), without secrets."""
    return {"items": [key_dict(k) for k in store.keys.find(platform=platform, include_revoked=revoked)]}


@router.delete("/keys/{key_id}")
def delete_key(key_id: str, admin: Admin, store: Store) -> dict[str, Any]:
    """Revoke a key at once; requests with it answer 401 from now on."""
    try:
        return key_dict(revoke_key(store, key_id[:64], actor=actor_of(admin)))
    except StateNotFoundError as exc:
        raise NotFoundError(f"no key {key_id[:64]!r}") from exc
