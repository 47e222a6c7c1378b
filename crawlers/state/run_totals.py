"""Totals over the run history for /metrics, kept in step with the runs table in the transaction that changes a run.

A run counts once, under its status: `RunLog.start` adds it as running; `finish` and `abandon_unfinished` move it
to its final status and add its duration, and `finish` adds the HTTP errors it stores. Deleting a source deletes
its totals with its runs (both foreign keys cascade). Migration 0003 fills the totals from the runs a database
already holds. A scrape reads a few rows per source, however many runs are stored, and gets what summing over
the runs table would give (tests/integration/state/test_state_run_totals.py holds such a full scan):

- runs by source and status, every status, running included;
- failed requests by source and HTTP status, from each run's `http.errors_by_status`: the whole-number values of
  that JSON object (JSON integers under 10**18 in size; a count stored as 1.5, 1.0, "2", true or a list adds
  none, and a run whose `errors_by_status` is not an object adds none);
- of the runs with a finish time, by source: how many, their summed duration, how many took at most each edge
  of `DURATION_EDGES` seconds. Durations are whole microseconds (what both databases store), so the sum is exact.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from crawlers.state.db import upsert_insert
from crawlers.state.schema import DURATION_EDGES, bucket_column, run_http_errors, run_totals

MAX_COUNT = 10**18
"""An HTTP error count of this size or more is not taken as one (nor by migration 0003's backfill)."""
MICROSECOND = timedelta(microseconds=1)
COUNTERS = ("runs", "finished", "duration_us", *(bucket_column(edge) for edge in DURATION_EDGES))


@dataclass(frozen=True)
class DurationHistogram:
    """How long one source's finished runs took: `at_most` pairs each edge (seconds) with the runs within it."""

    count: int
    sum_seconds: float
    at_most: tuple[tuple[float, int], ...]


def http_error_counts(http: Any) -> dict[str, int]:
    """HTTP status -> failed requests, from one run's HTTP stats as the database stores them (JSON): the
    whole-number values of `errors_by_status`; a key written twice (e.g. 503 and "503") adds both."""
    errors = http.get("errors_by_status") if isinstance(http, dict) else None
    if not isinstance(errors, dict):
        return {}
    counts: dict[str, int] = {}
    for key, value in json.loads(json.dumps(errors), object_pairs_hook=list):  # as the JSON the run stores has it
        if type(value) is int and abs(value) < MAX_COUNT:
            counts[key] = counts.get(key, 0) + value
    return counts


class TotalsChange:
    """What one transaction does to the totals: gather the runs it starts and finishes, then `apply` it."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], dict[str, int]] = {}
        self._errors: dict[tuple[str, str], int] = {}

    def _row(self, source_id: str, status: str) -> dict[str, int]:
        return self._rows.setdefault((source_id, status), dict.fromkeys(COUNTERS, 0))

    def started(self, source_id: str) -> None:
        """A run of the source began (it counts as running)."""
        self._row(source_id, "running")["runs"] += 1

    def finished(self, source_id: str, status: str, *, started_at: datetime, finished_at: datetime) -> None:
        """A running run of the source reached a final status at `finished_at`."""
        self._row(source_id, "running")["runs"] -= 1
        row = self._row(source_id, status)
        micros = (finished_at - started_at) // MICROSECOND
        row["runs"] += 1
        row["finished"] += 1
        row["duration_us"] += micros
        seconds = micros / 1_000_000  # as timedelta.total_seconds() gives it
        for edge in DURATION_EDGES:
            if seconds <= edge:
                row[bucket_column(edge)] += 1

    def http_replaced(self, source_id: str, old: Any, new: Any) -> None:
        """A run's stored HTTP stats changed from `old` to `new`."""
        for sign, http in ((-1, old), (1, new)):
            for code, count in http_error_counts(http).items():
                self._errors[(source_id, code)] = self._errors.get((source_id, code), 0) + sign * count

    def apply(self, connection: Connection) -> None:
        """Add the gathered changes to the totals, in the caller's transaction. Rows are written in one order
        (a source's running row, which every start and finish changes, before its other totals; then the HTTP
        errors), so that two transactions on PostgreSQL wait for each other rather than deadlock."""
        for (source_id, status), counters in sorted(self._rows.items(), key=_running_first):
            self._add(connection, run_totals, {"source_id": source_id, "status": status, **counters}, COUNTERS)
        for (source_id, code), count in sorted(self._errors.items()):
            values = {"source_id": source_id, "http_status": code, "errors": count}
            self._add(connection, run_http_errors, values, ("errors",))

    @staticmethod
    def _add(connection: Connection, table: Any, values: dict[str, Any], counters: Sequence[str]) -> None:
        insert = upsert_insert(connection, table).values(**values)
        keys = [column.name for column in table.primary_key.columns]
        added = {name: table.c[name] + insert.excluded[name] for name in counters}
        connection.execute(insert.on_conflict_do_update(index_elements=keys, set_=added))


def _running_first(item: tuple[tuple[str, str], dict[str, int]]) -> tuple[str, bool, str]:
    (source_id, status), _ = item
    return source_id, status != "running", status


def count_by_status(connection: Connection) -> dict[tuple[str, str], int]:
    """(source id, status) -> runs, for every status some run of the source has."""
    query = select(run_totals.c.source_id, run_totals.c.status, run_totals.c.runs).where(run_totals.c.runs > 0)
    return {(source_id, status): int(count) for source_id, status, count in connection.execute(query)}


def http_errors_by_status(connection: Connection) -> dict[tuple[str, str], int]:
    """(source id, HTTP status) -> failed harvest requests."""
    query = select(run_http_errors.c.source_id, run_http_errors.c.http_status, run_http_errors.c.errors)
    return {(source_id, code): int(count) for source_id, code, count in connection.execute(query)}


def duration_histograms(connection: Connection, edges: Sequence[float]) -> dict[str, DurationHistogram]:
    """Source id -> its finished runs' durations, for edges among DURATION_EDGES (others raise ValueError)."""
    unknown = [edge for edge in edges if edge not in DURATION_EDGES]
    if unknown:
        raise ValueError(f"duration edges {unknown} are not counted; the counted ones are {DURATION_EDGES}")
    finished = func.sum(run_totals.c.finished)
    buckets = [func.sum(run_totals.c[bucket_column(edge)]) for edge in edges]
    query = (
        select(run_totals.c.source_id, finished, func.sum(run_totals.c.duration_us), *buckets)
        .group_by(run_totals.c.source_id)
        .having(finished > 0)
    )
    return {
        source_id: DurationHistogram(count=int(count), sum_seconds=int(total) / 1_000_000,
                                     at_most=tuple((edge, int(n)) for edge, n in zip(edges, at_most, strict=True)))
        for source_id, count, total, *at_most in connection.execute(query)
    }  # fmt: skip
