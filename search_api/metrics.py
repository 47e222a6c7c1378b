"""Prometheus metrics: harvest figures read from the state database at scrape time, plus this app's HTTP errors.

Harvest metrics come from the shared state database, so every process sharing it reports the same numbers
(scrape one). The counts of runs and harvest HTTP errors are totals over the stored run history.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crawlers.state import StateStore
from crawlers.state.schema import runs
from indexer.backends.base import IndexBackend

logger = logging.getLogger(__name__)

DURATION_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)


class HarvestCollector(Collector):
    """Runs by source and status, records by source, freshness, failure streaks, run durations, held deletions."""

    def __init__(self, store: StateStore, backend: IndexBackend) -> None:
        self.store = store
        self.backend = backend

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._source_metrics()
            yield from self._run_metrics()
        except Exception:  # a scrape must answer even when the database is down; the gap shows it
            logger.exception("reading harvest metrics failed")

    def _source_metrics(self) -> Iterator[Metric]:
        health = self.store.health()
        records = GaugeMetricFamily("edufed_records", "Records in the index, by source.", labels=["source"])
        fresh = GaugeMetricFamily("edufed_source_freshness_seconds",
                                  "Age of the newest data a run delivered, by source.", labels=["source"])  # fmt: skip
        streak = GaugeMetricFamily("edufed_source_consecutive_failures",
                                   "Failed or timed-out runs since the last good one.", labels=["source"])  # fmt: skip
        running = GaugeMetricFamily("edufed_source_running", "1 while a run of the source goes.", labels=["source"])
        for source_id, h in health.items():
            records.add_metric([source_id], self.backend.count(source_id))
            if h.freshness_seconds is not None:
                fresh.add_metric([source_id], h.freshness_seconds)
            streak.add_metric([source_id], h.consecutive_failures)
            running.add_metric([source_id], 1 if h.running else 0)
        held = GaugeMetricFamily("edufed_held_deletions_pending",
                                 "Held deletions waiting for an admin, by source.", labels=["source"])  # fmt: skip
        pending = Tally(hold.source_id for hold in self.store.holds.find(status="pending", limit=100_000))
        for source_id in health:
            held.add_metric([source_id], pending.get(source_id, 0))
        yield from (records, fresh, streak, running, held)

    def _run_metrics(self) -> Iterator[Metric]:
        query = select(runs.c.source_id, runs.c.status, runs.c.started_at, runs.c.finished_at, runs.c.http)
        by_status: Tally[tuple[str, str]] = Tally()
        http_errors: Tally[tuple[str, str]] = Tally()
        durations: dict[str, list[float]] = {}
        with self.store.engine.connect() as connection:
            for source_id, status, started, finished, http in connection.execute(query):
                by_status[(source_id, status)] += 1
                if finished is not None:
                    durations.setdefault(source_id, []).append((finished - started).total_seconds())
                for code, count in _errors_by_status(http).items():
                    http_errors[(source_id, code)] += count
        total = CounterMetricFamily("edufed_harvest_runs", "Harvest runs by source and status.",
                                    labels=["source", "status"])  # fmt: skip
        for (source_id, status), count in sorted(by_status.items()):
            total.add_metric([source_id, status], count)
        errors = CounterMetricFamily("edufed_harvest_http_errors", "Failed harvest requests by HTTP status.",
                                     labels=["source", "status"])  # fmt: skip
        for (source_id, code), count in sorted(http_errors.items()):
            errors.add_metric([source_id, code], count)
        yield from (total, errors, _duration_histogram(durations))


def _errors_by_status(http: Any) -> dict[str, int]:
    if not isinstance(http, dict) or not isinstance(http.get("errors_by_status"), dict):
        return {}
    return {str(code): int(count) for code, count in http["errors_by_status"].items() if isinstance(count, int)}


def _duration_histogram(durations: dict[str, list[float]]) -> HistogramMetricFamily:
    histogram = HistogramMetricFamily("edufed_harvest_run_duration_seconds", "How long finished runs took.",
                                      labels=["source"])  # fmt: skip
    for source_id, values in sorted(durations.items()):
        buckets = [(str(edge), sum(1 for v in values if v <= edge)) for edge in DURATION_BUCKETS]
        buckets.append(("+Inf", len(values)))
        histogram.add_metric([source_id], buckets, sum(values))
    return histogram


class AppMetrics:
    """The metrics registry of one app: harvest figures (with a state store) and HTTP error counts."""

    def __init__(self, *, store: StateStore | None, backend: IndexBackend) -> None:
        self.registry = CollectorRegistry()
        self.http_errors = Counter("edufed_http_errors", "Error responses of this service by HTTP status.",
                                   ["status"], registry=self.registry)  # fmt: skip
        if store is not None:
            self.registry.register(HarvestCollector(store, backend))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class ErrorCountingMiddleware:
    """Counts every response with status 400 or above, by status."""

    def __init__(self, app: ASGIApp, *, metrics: AppMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                self.metrics.http_errors.labels(status=str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counting)
