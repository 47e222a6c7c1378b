"""The audit log: who did what to which target, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, insert, select

from crawlers.state.db import Database, utcnow
from crawlers.state.schema import ACTOR, UID, audit_log


@dataclass(frozen=True)
class AuditEntry:
    """One recorded action."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any] | None


def _to_entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        details=row["details"],
    )


class AuditLog:
    """Append-only record of admin and operator actions (source changes, run-now, hold decisions, keys)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self, *, actor: str, action: str, target: str | None = None, details: dict[str, Any] | None = None
    ) -> AuditEntry:
        """Append one entry; write it in the same transaction as the change it describes."""
        values = {
            "at": utcnow(),
            "actor": actor[:ACTOR],
            "action": action[:100],
            "target": target[:UID] if target else target,
            "details": details,
        }
        with self._db.begin() as connection:
            row = connection.execute(insert(audit_log).values(**values).returning(audit_log)).mappings().one()
        return _to_entry(row)

    def find(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries newest first, filtered; pass the last entry's id as `before` for the next page."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(max(1, limit))
        for column, value in (
            (audit_log.c.actor, actor),
            (audit_log.c.action, action),
            (audit_log.c.target, target),
        ):
            if value is not None:
                query = query.where(column == value)
        if before is not None:
            query = query.where(audit_log.c.id < before)
        with self._db.begin() as connection:
            return [_to_entry(row) for row in connection.execute(query).mappings()]
