"""Held deletions: withdrawals a run kept back (mass-deletion guard) until an admin decides on them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from crawlers.state.db import Database, utcnow
from crawlers.state.errors import HoldAlreadyDecidedError, InvalidStateValueError, StateNotFoundError
from crawlers.state.schema import held_deletions

HOLD_STATUSES = ("pending", "approved", "rejected")


@dataclass(frozen=True)
class HeldDeletion:
    """A run's withheld withdrawals and the admin's decision on them."""

    id: int
    run_id: str
    source_id: str
    uids: list[str]
    reason: str
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None


def _to_hold(row: RowMapping) -> HeldDeletion:
    return HeldDeletion(
        id=row["id"],
        run_id=row["run_id"],
        source_id=row["source_id"],
        uids=list(row["uids"]),
        reason=row["reason"],
        status=row["status"],
        created_at=row["created_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
    )


class HeldDeletions:
    """Create holds, list them, and decide them exactly once.

    After `approve`, the caller withdraws the uids from the index and then calls `RecordStates.withdraw`;
    both are idempotent, so a crash in between is repaired by applying the approved hold again.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def _row(self, connection: Connection, hold_id: int) -> RowMapping:
        row = connection.execute(select(held_deletions).where(held_deletions.c.id == hold_id)).mappings().first()
        if row is None:
            raise StateNotFoundError("held deletion", hold_id)
        return row

    def create(self, source_id: str, uids: Sequence[str], *, run_id: str, reason: str) -> HeldDeletion:
        """Hold back a run's withdrawals, pending an admin's decision."""
        values = {
            "run_id": run_id,
            "source_id": source_id,
            "uids": sorted(set(uids)),
            "uid_count": len(set(uids)),
            "reason": reason,
            "status": "pending",
            "created_at": utcnow(),
        }
        with self._db.begin() as connection:
            inserted = insert(held_deletions).values(**values).returning(held_deletions.c.id)
            hold_id = connection.execute(inserted).scalar_one()
            return _to_hold(self._row(connection, hold_id))

    def get(self, hold_id: int) -> HeldDeletion:
        """One held deletion."""
        with self._db.begin() as connection:
            return _to_hold(self._row(connection, hold_id))

    def find(self, *, source_id: str | None = None, status: str | None = None, limit: int = 100) -> list[HeldDeletion]:
        """Held deletions newest first, by source and/or status."""
        query = select(held_deletions).order_by(held_deletions.c.id.desc()).limit(max(1, limit))
        if source_id is not None:
            query = query.where(held_deletions.c.source_id == source_id)
        if status is not None:
            if status not in HOLD_STATUSES:
                raise InvalidStateValueError("status", status, allowed=HOLD_STATUSES)
            query = query.where(held_deletions.c.status == status)
        with self._db.begin() as connection:
            return [_to_hold(row) for row in connection.execute(query).mappings()]

    def pending_by_source(self) -> dict[str, int]:
        """Source id -> how many of its holds wait for an admin (sources with none are left out): counted in SQL."""
        query = (
            select(held_deletions.c.source_id, func.count())
            .where(held_deletions.c.status == "pending")
            .group_by(held_deletions.c.source_id)
        )
        with self._db.begin() as connection:
            return {source_id: count for source_id, count in connection.execute(query)}

    def release(
        self, source_id: str, alive: Collection[str], *, by: str, unless_reason: str
    ) -> list[tuple[HeldDeletion, int]]:
        """Take records a later run listed alive out of the source's pending holds, but those whose reason
        starts with `unless_reason`.

        Returns (hold as it is now, how many records left it) for each hold that changed. A hold left with no
        records is closed as rejected by `by`: there is nothing for an admin to decide any more.
        """
        if not alive:
            return []
        changed: list[tuple[HeldDeletion, int]] = []
        pending = (
            select(held_deletions)
            .where(held_deletions.c.source_id == source_id, held_deletions.c.status == "pending")
            .order_by(held_deletions.c.id)
        )
        with self._db.begin() as connection:
            for row in connection.execute(pending).mappings().all():
                if row["reason"].startswith(unless_reason):
                    continue
                remaining = [uid for uid in row["uids"] if uid not in alive]
                if len(remaining) == len(row["uids"]):
                    continue
                values: dict[str, Any] = {"uids": remaining, "uid_count": len(remaining)}
                if not remaining:
                    values.update(status="rejected", decided_by=by, decided_at=utcnow())
                connection.execute(
                    update(held_deletions)
                    .where(held_deletions.c.id == row["id"], held_deletions.c.status == "pending")
                    .values(**values)
                )
                changed.append((_to_hold(self._row(connection, row["id"])), len(row["uids"]) - len(remaining)))
        return changed

    def approve(self, hold_id: int, *, by: str) -> HeldDeletion:
        """Approve a pending hold: its uids may now be withdrawn."""
        return self._decide(hold_id, status="approved", by=by)

    def reject(self, hold_id: int, *, by: str) -> HeldDeletion:
        """Reject a pending hold: its records stay."""
        return self._decide(hold_id, status="rejected", by=by)

    def _decide(self, hold_id: int, *, status: str, by: str) -> HeldDeletion:
        with self._db.begin() as connection:
            decided = connection.execute(
                update(held_deletions)
                .where(held_deletions.c.id == hold_id, held_deletions.c.status == "pending")
                .values(status=status, decided_by=by, decided_at=utcnow())
            )
            row = self._row(connection, hold_id)
            if decided.rowcount != 1:
                raise HoldAlreadyDecidedError(hold_id, status=row["status"])
            return _to_hold(row)
