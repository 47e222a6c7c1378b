"""Quarantined records: items a run rejected, with the reason and the raw payload, browsable page by page."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, func, select

from crawlers.state.db import Database, chunked, utcnow
from crawlers.state.errors import StateNotFoundError
from crawlers.state.schema import UID, quarantine

MAX_REASON_CHARS = 2000
MAX_PAYLOAD_CHARS = 200_000  # a payload is third-party data: keep enough to debug, never unbounded


@dataclass(frozen=True)
class QuarantineItem:
    """One rejected item as a run hands it over: the platform's id (when known), why, and the raw payload."""

    item_id: str | None
    reason: str
    payload: Any = None


@dataclass(frozen=True)
class QuarantinedRecord:
    """One stored rejection."""

    id: int
    run_id: str | None
    source_id: str
    item_id: str | None
    reason: str
    payload: Any
    created_at: datetime


@dataclass(frozen=True)
class QuarantinePage:
    """One page of rejections, newest first; pass `next_before` back for the following page."""

    items: list[QuarantinedRecord]
    total: int
    next_before: int | None


def storable_payload(payload: Any) -> Any:
    """The payload as JSON data, size-capped; anything JSON cannot hold is kept as its text form."""
    try:
        text = json.dumps(payload, ensure_ascii=False)
    except (TypeError, ValueError):
        payload = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else repr(payload)
        text = json.dumps(payload, ensure_ascii=False)
    if len(text) <= MAX_PAYLOAD_CHARS:
        return payload
    return {"truncated": True, "original_chars": len(text), "text": text[:MAX_PAYLOAD_CHARS]}


def _to_record(row: RowMapping) -> QuarantinedRecord:
    return QuarantinedRecord(
        id=row["id"],
        run_id=row["run_id"],
        source_id=row["source_id"],
        item_id=row["item_id"],
        reason=row["reason"],
        payload=row["payload"],
        created_at=row["created_at"],
    )


class Quarantine:
    """Rejected records by source and run."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, source_id: str, items: Sequence[QuarantineItem], *, run_id: str | None) -> int:
        """Store a batch of rejections of one run; returns how many."""
        now = utcnow()
        rows = [
            {
                "run_id": run_id,
                "source_id": source_id,
                "item_id": item.item_id[:UID] if item.item_id else item.item_id,
                "reason": item.reason[:MAX_REASON_CHARS],
                "payload": storable_payload(item.payload),
                "created_at": now,
            }
            for item in items
        ]
        with self._db.begin() as connection:
            for part in chunked(rows):
                connection.execute(quarantine.insert(), list(part))
        return len(rows)

    def get(self, entry_id: int) -> QuarantinedRecord:
        """One rejection with its payload."""
        with self._db.begin() as connection:
            row = connection.execute(select(quarantine).where(quarantine.c.id == entry_id)).mappings().first()
        if row is None:
            raise StateNotFoundError("quarantined record", entry_id)
        return _to_record(row)

    def page(
        self,
        *,
        source_id: str | None = None,
        run_id: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> QuarantinePage:
        """Rejections newest first, filtered by source and/or run."""
        limit = max(1, limit)
        filters = []
        if source_id is not None:
            filters.append(quarantine.c.source_id == source_id)
        if run_id is not None:
            filters.append(quarantine.c.run_id == run_id)
        query = select(quarantine).where(*filters).order_by(quarantine.c.id.desc()).limit(limit + 1)
        if before is not None:
            query = query.where(quarantine.c.id < before)
        with self._db.begin() as connection:
            total = connection.execute(select(func.count()).select_from(quarantine).where(*filters)).scalar_one()
            rows = list(connection.execute(query).mappings())
        items = [_to_record(row) for row in rows[:limit]]
        next_before = items[-1].id if len(rows) > limit else None
        return QuarantinePage(items=items, total=int(total), next_before=next_before)
