"""Per-source health from the run history: last success, freshness and the current failure streak."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Select, and_, func, or_, select

from crawlers.state.db import Database, utcnow
from crawlers.state.runs import RunRecord, to_run
from crawlers.state.schema import runs, sources

# A run in one of these states delivered data (a held run wrote everything but its withdrawals).
DATA_STATUSES = ("succeeded", "partial", "held")
FAILURE_STATUSES = ("failed", "timed_out")


@dataclass(frozen=True)
class SourceHealth:
    """How one source is doing, as admins see it on the sources table."""

    source_id: str
    last_run: RunRecord | None
    last_success_at: datetime | None  # end of the newest run that delivered data
    freshness_seconds: float | None  # age of that data; None when no run ever delivered any
    consecutive_failures: int  # failed or timed-out runs since the newest run that delivered data
    running: bool


def _latest_runs(ids: Sequence[str]) -> Select:
    ranked = (
        select(
            runs,
            func.row_number()
            .over(partition_by=runs.c.source_id, order_by=(runs.c.started_at.desc(), runs.c.id.desc()))
            .label("rank"),
        )
        .where(runs.c.source_id.in_(ids))
        .subquery()
    )
    return select(ranked).where(ranked.c.rank == 1)


def _failure_streaks(ids: Sequence[str]) -> Select:
    good = (
        select(runs.c.source_id, func.max(runs.c.started_at).label("since"))
        .where(runs.c.status.in_(DATA_STATUSES), runs.c.source_id.in_(ids))
        .group_by(runs.c.source_id)
        .subquery()
    )
    return (
        select(runs.c.source_id, func.count().label("failures"))
        .select_from(runs.outerjoin(good, good.c.source_id == runs.c.source_id))
        .where(
            runs.c.source_id.in_(ids),
            runs.c.status.in_(FAILURE_STATUSES),
            or_(good.c.since.is_(None), and_(runs.c.started_at > good.c.since)),
        )
        .group_by(runs.c.source_id)
    )


def _read(connection: Connection, ids: Sequence[str], now: datetime) -> dict[str, SourceHealth]:
    latest = {row["source_id"]: to_run(row) for row in connection.execute(_latest_runs(ids)).mappings()}
    last_data = (
        select(runs.c.source_id, func.max(runs.c.finished_at))
        .where(runs.c.status.in_(DATA_STATUSES), runs.c.source_id.in_(ids))
        .group_by(runs.c.source_id)
    )
    success = {source_id: at for source_id, at in connection.execute(last_data)}
    streaks = {source_id: count for source_id, count in connection.execute(_failure_streaks(ids))}
    running = set(
        connection.execute(
            select(runs.c.source_id).where(runs.c.status == "running", runs.c.source_id.in_(ids)).distinct()
        ).scalars()
    )
    health = {}
    for source_id in ids:
        last_success = success.get(source_id)
        health[source_id] = SourceHealth(
            source_id=source_id,
            last_run=latest.get(source_id),
            last_success_at=last_success,
            freshness_seconds=(now - last_success).total_seconds() if last_success else None,
            consecutive_failures=streaks.get(source_id, 0),
            running=source_id in running,
        )
    return health


def read_health(
    db: Database, *, source_ids: Sequence[str] | None = None, now: datetime | None = None
) -> dict[str, SourceHealth]:
    """Health of the given sources (default: every registered source), keyed by source id."""
    with db.begin() as connection:
        if source_ids is None:
            source_ids = list(connection.execute(select(sources.c.id).order_by(sources.c.id)).scalars())
        if not source_ids:
            return {}
        return _read(connection, list(source_ids), now or utcnow())
