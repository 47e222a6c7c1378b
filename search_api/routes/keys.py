"""The keys API (admin key): issue operator and admin keys, list them, revoke them; every change audited.

A new key's secret is in the 201 answer once and nowhere else: the store keeps a salted hash, the audit
log and the logs name the key's public id only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from crawlers.state import InvalidStateValueError, StateNotFoundError, StateStore
from search_api.http.auth import Principal, require_admin, state_store
from search_api.http.errors import InvalidRequestError, NotFoundError, ProblemDetail
from search_api.http.schemas import ROLE_ERROR_RESPONSES
from search_api.services.api_keys import ensure_known_platform, issue_key, key_dict, registered_platforms, revoke_key
from search_api.services.source_actions import actor_of

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=ROLE_ERROR_RESPONSES)

Admin = Annotated[Principal, Depends(require_admin)]
Store = Annotated[StateStore, Depends(state_store)]


class KeyRequest(BaseModel):
    """A key to issue."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["operator", "admin"] = Field(description="operator (one platform's sources) or admin.")
    platform: str | None = Field(None, max_length=63, description="The platform an operator key acts for.")
    label: str | None = Field(None, max_length=200, description="Who holds the key, for people reading lists.")
    new_platform: bool = Field(
        False,
        description="Accept a `platform` no source has yet (a platform about to "
        "register its first feed); without it an unknown platform is a 422 naming the known.",
    )


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
