"""Who is calling: bearer API keys checked against the state store, and the role checks routes depend on.

Roles: `admin` (everything), `operator` (the sources of one platform), anonymous callers (search only).
Keys are stored only as salted hashes (crawlers.state.keys, a table behind the state store); who a verified key
speaks for, its `Principal`, and what each role may do live here. A key never appears in logs or error bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crawlers.state import ApiKeyInfo, StateStore
from search_api.http.errors import ApiError, ForbiddenError, UnauthorizedError

ADMIN = "admin"
OPERATOR = "operator"


@dataclass(frozen=True)
class Principal:
    """Who a verified key speaks for."""

    key_id: str
    role: str
    platform: str | None

    @classmethod
    def of(cls, key: ApiKeyInfo) -> Principal:
        """The principal of a key the state store verified."""
        return cls(key_id=key.id, role=key.role, platform=key.platform)


def verified(store: StateStore, key: str) -> Principal | None:
    """The principal of a live key; None for a malformed, unknown or revoked one."""
    info = store.keys.verify(key)
    return None if info is None else Principal.of(info)


BEARER = HTTPBearer(
    scheme_name="apiKey",
    bearerFormat="edufed key",
    description="An operator or admin key: `Authorization: Bearer <key>` (issued by `edufed keys create` or "
    "POST /api/v1/keys).",
    auto_error=False,  # a missing key is our own 401 in the shared error body
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
"""The bearer key of a request as the routes needing a role declare it, so OpenAPI shows the security scheme."""


def state_store(request: Request) -> StateStore:
    """The app's state database; 503 when the service runs without one."""
    store: StateStore | None = getattr(request.app.state, "store", None)
    if store is None:
        raise ApiError(503, "state_unavailable", "this service runs without a state database")
    return store


def bearer_key(request: Request) -> str | None:
    """The key from `Authorization: Bearer <key>`, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def current_principal(request: Request, credentials: HTTPAuthorizationCredentials | None = None) -> Principal:
    """The verified caller (by the key of `credentials`, else of the Authorization header); 401 for a missing,
    unknown or revoked key."""
    key = credentials.credentials.strip() if credentials is not None else bearer_key(request)
    if not key:
        raise UnauthorizedError()
    principal = verified(state_store(request), key)
    if principal is None:
        raise UnauthorizedError("the API key is unknown or revoked")
    request.state.principal = principal
    return principal


def require_admin(request: Request, credentials: Credentials) -> Principal:
    """FastAPI dependency: an admin key."""
    principal = current_principal(request, credentials)
    if principal.role != ADMIN:
        raise ForbiddenError("this needs an admin key")
    return principal


def require_operator(request: Request, credentials: Credentials) -> Principal:
    """FastAPI dependency: an operator or admin key (check the platform with `ensure_platform`)."""
    principal = current_principal(request, credentials)
    if principal.role not in (ADMIN, OPERATOR):
        raise ForbiddenError("this needs an operator or admin key")
    return principal


def ensure_platform(principal: Principal, platform: str) -> None:
    """403 unless the caller is an admin or an operator of `platform`."""
    if principal.role == ADMIN:
        return
    if principal.platform != platform:
        raise ForbiddenError(f"this key may only act for platform {principal.platform!r}")
