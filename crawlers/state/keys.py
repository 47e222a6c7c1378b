"""API keys: only a salted hash of each secret is stored; the plain key is shown once, at creation."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import RowMapping, select, update

from crawlers.state.db import Database, utcnow
from crawlers.state.errors import InvalidStateValueError, StateNotFoundError
from crawlers.state.schema import api_keys

logger = logging.getLogger(__name__)

ROLES = ("admin", "operator")
"""The roles a key is stored with; what each may do is search_api.http.auth's (its Principal and role checks)."""
KEY_PREFIX = "efk"
# efk_<12 hex id>_<43-char url-safe secret>; the id is public (logs, audit), the secret stays with its owner.
KEY_PATTERN = re.compile(r"^efk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
LAST_USED_RESOLUTION = timedelta(minutes=1)  # one write per key per minute, not one per request
PLATFORM_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


@dataclass(frozen=True)
class ApiKeyInfo:
    """A key's stored facts, without any secret."""

    id: str
    role: str
    platform: str | None
    label: str | None
    created_by: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class CreatedKey:
    """A new key: `key` is the only copy of the plain secret; hand it to its owner and forget it."""

    key: str
    info: ApiKeyInfo


def _hash(salt: str, secret: str) -> str:
    # The secret is 256 random bits, so one salted SHA-256 is enough; a slow password hash buys nothing.
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode("ascii")).hexdigest()


def _to_info(row: RowMapping) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row["id"],
        role=row["role"],
        platform=row["platform"],
        label=row["label"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


def _check_role(role: str, platform: str | None) -> None:
    if role not in ROLES:
        raise InvalidStateValueError("role", role, allowed=ROLES)
    if role == "operator" and platform is None:
        raise InvalidStateValueError("platform", platform)
    if platform is not None and not PLATFORM_PATTERN.match(platform):
        raise InvalidStateValueError("platform", platform)


class ApiKeys:
    """Create, verify, list and revoke API keys."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        *,
        role: str,
        platform: str | None = None,
        label: str | None = None,
        created_by: str | None = None,
    ) -> CreatedKey:
        """A new key for a role (operators are tied to one platform)."""
        _check_role(role, platform)
        key_id, secret, salt = secrets.token_hex(6), secrets.token_urlsafe(32), secrets.token_hex(16)
        values = {
            "id": key_id,
            "salt": salt,
            "secret_hash": _hash(salt, secret),
            "role": role,
            "platform": platform,
            "label": label[:200] if label else label,
            "created_by": created_by,
            "created_at": utcnow(),
        }
        with self._db.begin() as connection:
            connection.execute(api_keys.insert().values(**values))
            row = connection.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().one()
        logger.info("created %s key %s", role, key_id)
        return CreatedKey(key=f"{KEY_PREFIX}_{key_id}_{secret}", info=_to_info(row))

    def verify(self, key: object) -> ApiKeyInfo | None:
        """The stored facts of a valid, unrevoked key (search_api.http.auth makes its Principal); None for anything
        else (malformed, unknown, revoked)."""
        match = KEY_PATTERN.match(key) if isinstance(key, str) else None
        if match is None:
            return None
        key_id, secret = match.groups()
        now = utcnow()
        with self._db.begin() as connection:
            row = connection.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
            if row is None or row["revoked_at"] is not None:
                return None
            if not hmac.compare_digest(_hash(row["salt"], secret), row["secret_hash"]):
                return None
            if row["last_used_at"] is None or now - row["last_used_at"] >= LAST_USED_RESOLUTION:
                connection.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=now))
        return _to_info(row)

    def get(self, key_id: str) -> ApiKeyInfo:
        """One key's facts."""
        with self._db.begin() as connection:
            row = connection.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        if row is None:
            raise StateNotFoundError("api key", key_id)
        return _to_info(row)

    def find(self, *, platform: str | None = None, include_revoked: bool = False) -> list[ApiKeyInfo]:
        """Keys, oldest first, optionally one platform's; revoked ones only when asked."""
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if platform is not None:
            query = query.where(api_keys.c.platform == platform)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self._db.begin() as connection:
            return [_to_info(row) for row in connection.execute(query).mappings()]

    def revoke(self, key_id: str) -> ApiKeyInfo:
        """Revoke a key at once; revoking twice keeps the first time."""
        with self._db.begin() as connection:
            connection.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            row = connection.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        if row is None:
            raise StateNotFoundError("api key", key_id)
        logger.info("revoked key %s", key_id)
        return _to_info(row)
