"""Per-source health from the run history: last success, freshness and the current failure streak.

Each figure is an index look-up whose cost does not grow with the history (issue 14, item 3), in a constant number
of statements however many sources are asked for:

- the last run: the newest of the source's runs by (started_at, id), a seek on ix_runs_source_started;
- the newest run that delivered data, by finish (last success, freshness) and by start (where the failure streak
  begins): per status of DATA_STATUSES, the largest finished_at / started_at, a seek each on
  ix_runs_source_status_finished / ix_runs_source_status_started (migration 0004);
- the failure streak: the failed and timed-out runs started after that start, an index range as long as the
  streak itself; a source with no data-delivering run at all counts all its failures, read from the run totals;
- running: whether any run of the source is running, a seek.

It gives what ranking and scanning every run gave (tests/integration/state/test_state_health.py holds that
implementation and compares the two over a varied history on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, String, exists, func, literal, select, union_all

from crawlers.state.db import Database, utcnow
from crawlers.state.runs import RunRecord, to_run
from crawlers.state.schema import run_totals, runs, sources

# A run in one of these states delivered data (a held run wrote everything but its withdrawals).
DATA_STATUSES = ("succeeded", "partial", "held")
FAILURE_STATUSES = ("failed", "timed_out")
UNION_TERMS = 200  # failure streaks counted per statement (SQLite allows 500 terms in one compound SELECT)


@dataclass(frozen=True)
class SourceHealth:
    """How one source is doing, as admins see it on the sources table."""

    source_id: str
    last_run: RunRecord | None
    last_success_at: datetime | None  # end of the newest run that delivered data
    freshness_seconds: float | None  # age of that data; None when no run ever delivered any
    consecutive_failures: int  # failed or timed-out runs since the newest run that delivered data
    running: bool


def _newest(column: ColumnElement[datetime], status: str) -> ColumnElement[datetime]:
    """The largest `column` among the outer source's runs in `status` (one seek on a (source, status, column) index)."""
    return select(func.max(column)).where(runs.c.source_id == sources.c.id, runs.c.status == status).scalar_subquery()


def _look_ups(ids: Sequence[str]) -> Select[Any]:
    latest = (
        select(runs.c.id)
        .where(runs.c.source_id == sources.c.id)
        .order_by(runs.c.started_at.desc(), runs.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    running = exists().where(runs.c.source_id == sources.c.id, runs.c.status == "running")
    return select(
        sources.c.id,
        latest.label("latest"),
        running.label("running"),
        *(_newest(runs.c.finished_at, status).label(f"finished_{status}") for status in DATA_STATUSES),
        *(_newest(runs.c.started_at, status).label(f"started_{status}") for status in DATA_STATUSES),
    ).where(sources.c.id.in_(ids))


def _newest_of(values: Sequence[datetime | None]) -> datetime | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


def _streaks(connection: Connection, since: dict[str, datetime], never: Sequence[str]) -> dict[str, int]:
    """Failed and timed-out runs by source: started after `since[source]`, or all of them for the sources in
    `never` (no run of theirs delivered data), which the run totals count."""
    found: dict[str, int] = {}
    terms = [
        select(literal(source_id, String).label("source_id"), func.count().label("failures")).where(
            runs.c.source_id == source_id, runs.c.status.in_(FAILURE_STATUSES), runs.c.started_at > started
        )
        for source_id, started in since.items()
    ]
    for first in range(0, len(terms), UNION_TERMS):
        chunk = terms[first : first + UNION_TERMS]
        query = chunk[0] if len(chunk) == 1 else union_all(*chunk)
        found.update({source_id: int(count) for source_id, count in connection.execute(query)})
    if never:
        totals = (
            select(run_totals.c.source_id, func.sum(run_totals.c.runs))
            .where(run_totals.c.source_id.in_(never), run_totals.c.status.in_(FAILURE_STATUSES))
            .group_by(run_totals.c.source_id)
        )
        found.update({source_id: int(count) for source_id, count in connection.execute(totals)})
    return found


def _read(connection: Connection, ids: Sequence[str], now: datetime) -> dict[str, SourceHealth]:
    rows = {row["id"]: row for row in connection.execute(_look_ups(ids)).mappings()}
    latest_ids = [row["latest"] for row in rows.values() if row["latest"] is not None]
    latest = {}
    if latest_ids:
        latest = {row["source_id"]: to_run(row) for row in connection.execute(
            select(runs).where(runs.c.id.in_(latest_ids))).mappings()}  # fmt: skip
    success: dict[str, datetime] = {}
    since: dict[str, datetime] = {}
    never: list[str] = []
    for source_id, row in rows.items():
        if row["latest"] is None:
            continue  # never ran: no success, no failures
        finished = _newest_of([row[f"finished_{status}"] for status in DATA_STATUSES])
        started = _newest_of([row[f"started_{status}"] for status in DATA_STATUSES])
        if finished is not None:
            success[source_id] = finished
        if started is not None:
            since[source_id] = started
        else:
            never.append(source_id)
    streaks = _streaks(connection, since, never)
    health = {}
    for source_id in ids:
        looked_up = rows.get(source_id)
        last_success = success.get(source_id)
        health[source_id] = SourceHealth(
            source_id=source_id,
            last_run=latest.get(source_id),
            last_success_at=last_success,
            freshness_seconds=(now - last_success).total_seconds() if last_success else None,
            consecutive_failures=streaks.get(source_id, 0),
            running=bool(looked_up["running"]) if looked_up is not None else False,
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
