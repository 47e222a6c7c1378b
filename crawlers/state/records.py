"""Per-record harvest state: content hashes for change detection and missed-run counts for withdrawal."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, select, update

from crawlers.state.db import Database, chunked, upsert_insert, utcnow
from crawlers.state.schema import record_state

logger = logging.getLogger(__name__)

BATCH = 5000  # rows per executemany
IN_BATCH = 500  # uids per IN list (SQLite allows 32,766 bound values, older builds 999)


class RecordState(NamedTuple):
    """What the store remembers of one record between runs."""

    content_hash: str
    missed_complete_runs: int
    withdrawn: bool


class RecordStates:
    """Content hashes and missed-run counts per (source, uid).

    Writes are proportional to change: unchanged records are never rewritten. A record's last sighting
    follows from its count: missed_complete_runs == 0 means the source's newest complete run listed it.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self, source_id: str) -> dict[str, RecordState]:
        """Every record the source ever delivered (withdrawn ones included), by uid."""
        query = select(
            record_state.c.uid,
            record_state.c.content_hash,
            record_state.c.missed_complete_runs,
            record_state.c.withdrawn_at.is_not(None),
        ).where(record_state.c.source_id == source_id)
        with self._db.begin() as connection:
            return {uid: RecordState(h, missed, bool(gone)) for uid, h, missed, gone in connection.execute(query)}

    def observe(self, source_id: str, changed: Iterable[tuple[str, str]], *, run_id: str | None) -> int:
        """Store (uid, content_hash) of new, changed or reappearing records; returns how many.

        Each one is live again: its missed count is reset and any withdrawal cleared.
        """
        now = utcnow()
        rows = [
            {
                "source_id": source_id,
                "uid": uid,
                "content_hash": content_hash,
                "first_seen": now,
                "last_changed_run": run_id,
                "missed_complete_runs": 0,
                "withdrawn_at": None,
            }
            for uid, content_hash in changed
        ]
        if not rows:
            return 0
        with self._db.begin() as connection:
            insert = upsert_insert(connection, record_state)
            statement = insert.on_conflict_do_update(
                index_elements=[record_state.c.source_id, record_state.c.uid],
                set_={
                    "content_hash": insert.excluded.content_hash,
                    "last_changed_run": insert.excluded.last_changed_run,
                    "missed_complete_runs": 0,
                    "withdrawn_at": None,
                },
            )
            for part in chunked(rows):
                connection.execute(statement, list(part))
        return len(rows)

    def close_complete_run(self, source_id: str, *, seen: Collection[str], withdraw_after: int) -> list[str]:
        """Count one more miss for every live record a complete run did not list, and reset the rest.

        Returns the uids that have now been missing from `withdraw_after` consecutive complete runs: the
        candidates for withdrawal (not withdrawn yet; the caller applies the mass-deletion guard first).
        Call it only for a complete run: a failed or partial listing proves nothing about absence.
        """
        if withdraw_after < 1:
            raise ValueError(f"withdraw_after must be at least 1, got {withdraw_after}")
        with self._db.begin() as connection:
            live = connection.execute(
                select(record_state.c.uid, record_state.c.missed_complete_runs).where(
                    record_state.c.source_id == source_id, record_state.c.withdrawn_at.is_(None)
                )
            )
            missing: list[str] = []
            back: list[str] = []
            due: list[str] = []
            for uid, missed in live:
                if uid not in seen:
                    missing.append(uid)
                    if missed + 1 >= withdraw_after:
                        due.append(uid)
                elif missed:
                    back.append(uid)
            counter = record_state.c.missed_complete_runs
            self._update(connection, source_id, missing, {"missed_complete_runs": counter + 1})
            self._update(connection, source_id, back, {"missed_complete_runs": 0})
        return sorted(due)

    def withdraw(self, source_id: str, uids: Iterable[str], *, at: datetime | None = None) -> int:
        """Mark records withdrawn (after they left the index); returns how many were live."""
        targets = sorted(set(uids))
        with self._db.begin() as connection:
            return self._update(connection, source_id, targets, {"withdrawn_at": at or utcnow()}, only_live=True)

    def keep(self, source_id: str, uids: Iterable[str]) -> int:
        """Reset the missed counts of live records an admin chose to keep (a rejected hold); returns how many."""
        targets = sorted(set(uids))
        with self._db.begin() as connection:
            return self._update(connection, source_id, targets, {"missed_complete_runs": 0}, only_live=True)

    def live_count(self, source_id: str) -> int:
        """How many records of the source are not withdrawn (the base of the mass-deletion share)."""
        query = select(func.count()).where(record_state.c.source_id == source_id, record_state.c.withdrawn_at.is_(None))
        with self._db.begin() as connection:
            return int(connection.execute(query).scalar_one())

    def withdrawn_uids(self) -> set[str]:
        """Every withdrawn record of every source: what a rebuild of the index must never bring back."""
        query = select(record_state.c.uid).where(record_state.c.withdrawn_at.is_not(None))
        with self._db.begin() as connection:
            return {uid for (uid,) in connection.execute(query)}

    def live_among(self, source_id: str, uids: Collection[str]) -> list[str]:
        """Which of `uids` the source has live (known and not withdrawn), sorted."""
        targets = sorted(set(uids))
        query = select(record_state.c.uid).where(
            record_state.c.source_id == source_id,
            record_state.c.uid.in_(bindparam("uids", expanding=True)),
            record_state.c.withdrawn_at.is_(None),
        )
        live: list[str] = []
        with self._db.begin() as connection:
            for part in chunked(targets, IN_BATCH):
                live.extend(uid for (uid,) in connection.execute(query, {"uids": list(part)}))
        return sorted(live)

    @staticmethod
    def _update(
        connection: Connection, source_id: str, uids: list[str], values: dict[str, Any], *, only_live: bool = False
    ) -> int:
        # One keyed UPDATE per uid, sent as an executemany: each is a primary-key lookup whatever the
        # planner believes about the table (an IN list over a freshly filled table can fall back to a scan).
        if not uids:
            return 0
        query = update(record_state).where(
            record_state.c.source_id == bindparam("match_source"),
            record_state.c.uid == bindparam("match_uid"),
        )
        if only_live:
            query = query.where(record_state.c.withdrawn_at.is_(None))
        count = 0
        for part in chunked(uids, BATCH):
            params = [{"match_source": source_id, "match_uid": uid} for uid in part]
            count += connection.execute(query.values(**values), params).rowcount
        return count
