"""Prometheus metrics: harvest figures read from the state database at scrape time, plus this app's HTTP errors.

Harvest metrics come from the shared state database, so every process sharing it reports the same numbers
(scrape one). The runs by status, harvest HTTP errors and run durations are totals over the stored run history
that the state store keeps in step with every run (crawlers/state/run_totals.py): a scrape reads a few rows per
source, so it costs the same at 10 stored runs as at millions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crawlers.state import DurationHistogram, StateStore
from indexer.backends.base import IndexBackend

logger = logging.getLogger(__name__)


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
        pending = self.store.holds.pending_by_source()
        for source_id in health:
            held.add_metric([source_id], pending.get(source_id, 0))
        yield from (records, fresh, streak, running, held)

    def _run_metrics(self) -> Iterator[Metric]:
        total = CounterMetricFamily("edufed_harvest_runs", "Harvest runs by source and status.",
                                    labels=["source", "status"])  # fmt: skip
        for (source_id, status), count in sorted(self.store.runs.count_by_status().items()):
            total.add_metric([source_id, status], count)
        errors = CounterMetricFamily("edufed_harvest_http_errors", "Failed harvest requests by HTTP status.",
                                     labels=["source", "status"])  # fmt: skip
        for (source_id, code), count in sorted(self.store.runs.http_errors_by_status().items()):
            errors.add_metric([source_id, code], count)
        yield from (total, errors, _duration_histogram(self.store.runs.duration_histograms()))


def _duration_histogram(histograms: dict[str, DurationHistogram]) -> HistogramMetricFamily:
    histogram = HistogramMetricFamily("edufed_harvest_run_duration_seconds", "How long finished runs took.",
                                      labels=["source"])  # fmt: skip
    for source_id, found in sorted(histograms.items()):
        buckets = [(str(edge), count) for edge, count in found.at_most]
        buckets.append(("+Inf", found.count))
        histogram.add_metric([source_id], buckets, found.sum_seconds)
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
