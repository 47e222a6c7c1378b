"""Leases: at most one process runs a given source at a time, even with many processes on one PostgreSQL.

A lease is a row (source_id, holder, expires_at). Taking one is a single INSERT … ON CONFLICT DO UPDATE
whose WHERE only lets the update through when the lease has expired or is already ours, so the database
itself decides the race: on PostgreSQL the conflicting inserts queue on the row lock and the loser sees
the winner's fresh expiry; on SQLite every transaction starts with BEGIN IMMEDIATE. Expiry compares
against the caller's clock, so the clocks of processes sharing a database must agree to well within a ttl.

A lease whose holder was a process of this same machine that no longer exists (crawlers.state.holders: a
harvest killed with SIGKILL, a service that crashed) is taken over at once rather than after its ttl: the
takeover is the same statement with the dead holder's id added to its WHERE, so of several processes that
saw it dead only one wins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import RowMapping, case, delete, or_, select, update

from crawlers.state.db import Database, upsert_insert, utcnow
from crawlers.state.holders import holder_gone
from crawlers.state.schema import leases

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lease:
    """Who holds a source and until when."""

    source_id: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


def _seconds(ttl: float | timedelta) -> timedelta:
    span = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
    if span <= timedelta(0):
        raise ValueError(f"a lease ttl must be positive, got {ttl!r}")
    return span


def _to_lease(row: RowMapping) -> Lease:
    return Lease(
        source_id=row["source_id"],
        holder=row["holder"],
        acquired_at=row["acquired_at"],
        expires_at=row["expires_at"],
    )


class Leases:
    """Acquire, renew and release per-source leases."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def try_acquire(self, source_id: str, holder: str, *, ttl: float | timedelta) -> bool:
        """Take the lease if it is free, expired, already ours (then extended) or held by a process that died
        on this machine; True when we hold it."""
        now = utcnow()
        with self._db.begin() as connection:
            current = connection.execute(select(leases.c.holder).where(leases.c.source_id == source_id)).scalar()
            dead = current if current is not None and current != holder and holder_gone(current) else None
            insert = upsert_insert(connection, leases)
            statement = (
                insert.values(source_id=source_id, holder=holder, acquired_at=now, expires_at=now + _seconds(ttl))
                .on_conflict_do_update(
                    index_elements=[leases.c.source_id],
                    set_={
                        "holder": insert.excluded.holder,
                        "acquired_at": case(
                            (leases.c.holder == insert.excluded.holder, leases.c.acquired_at),
                            else_=insert.excluded.acquired_at,
                        ),
                        "expires_at": insert.excluded.expires_at,
                    },
                    where=or_(
                        leases.c.expires_at < now,
                        leases.c.holder == insert.excluded.holder,
                        *([leases.c.holder == dead] if dead is not None else []),
                    ),
                )
                .returning(leases.c.holder)
            )
            won = connection.execute(statement).scalar_one_or_none() == holder
        if won and dead is not None:
            logger.warning("%s took the lease on %s over from %s, whose process is gone", holder, source_id, dead)
        elif won:
            logger.debug("%s holds the lease on %s", holder, source_id)
        return won

    def renew(self, source_id: str, holder: str, *, ttl: float | timedelta) -> bool:
        """Extend our lease; False when it is no longer ours (expired and taken over, or released)."""
        now = utcnow()
        with self._db.begin() as connection:
            count = connection.execute(
                update(leases)
                .where(leases.c.source_id == source_id, leases.c.holder == holder)
                .values(expires_at=now + _seconds(ttl))
            ).rowcount
        if not count:
            logger.warning("%s lost the lease on %s", holder, source_id)
        return bool(count)

    def release(self, source_id: str, holder: str) -> bool:
        """Give our lease back at once; False when it was not ours to give."""
        with self._db.begin() as connection:
            count = connection.execute(
                delete(leases).where(leases.c.source_id == source_id, leases.c.holder == holder)
            ).rowcount
        return bool(count)

    def get(self, source_id: str) -> Lease | None:
        """The current lease row of a source (possibly expired), or None."""
        with self._db.begin() as connection:
            row = connection.execute(select(leases).where(leases.c.source_id == source_id)).mappings().first()
        return _to_lease(row) if row else None

    def find(self, *, live_only: bool = True) -> list[Lease]:
        """Leases by source id; by default only those not yet expired."""
        query = select(leases).order_by(leases.c.source_id)
        if live_only:
            query = query.where(leases.c.expires_at >= utcnow())
        with self._db.begin() as connection:
            return [_to_lease(row) for row in connection.execute(query).mappings()]
