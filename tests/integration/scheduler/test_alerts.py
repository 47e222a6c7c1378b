"""The alert hook: one POST per failure streak or stale spell, received by a local HTTP server."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from config.settings import Settings
from crawlers.alerts import AlertHook
from crawlers.schedule import HarvestScheduler, SourceBusyError
from crawlers.state import RunOutcome, RunRecord, StateStore
from tests.integration.scheduler.conftest import GOOD_ITEMS, finished_run, serve_items, wait_until
from tests.support.http_server import FixtureServer


def _run(scheduler: HarvestScheduler, store: StateStore, source_id: str) -> str:
    def start() -> RunRecord | None:
        try:
            return scheduler.run_now(source_id)
        except SourceBusyError:
            return None

    run = wait_until(start, what="the lease to be free")
    status = finished_run(store, run.id).status
    wait_until(lambda: store.leases.get(source_id) is None, what="the run's end")
    return status


def test_a_failure_streak_posts_one_alert_until_the_source_recovers(
    store: StateStore, register: Callable[..., str], http_server: FixtureServer,
    settings_factory: Callable[..., Settings],
) -> None:  # fmt: skip
    http_server.route("/alerts", status=204)
    settings = settings_factory(alert_url=http_server.url("/alerts"), alert_after_failures=2)
    source_id = register()
    serve_items(http_server, source_id, [], status=500)
    scheduler = HarvestScheduler(settings=settings, store=store, name="alerts")
    scheduler.start()
    try:
        assert _run(scheduler, store, source_id) == "failed"
        assert http_server.requests_for("/alerts") == []  # one failure is no streak yet
        for _ in range(2):
            assert _run(scheduler, store, source_id) == "failed"
        received = http_server.requests_for("/alerts")
        assert len(received) == 1  # the third failure belongs to the same streak
        body = json.loads(received[0].body)
        assert (body["kind"], body["source_id"], body["consecutive_failures"]) == ("failing", source_id, 2)
        assert received[0].header("Content-Type") == "application/json"

        serve_items(http_server, source_id, GOOD_ITEMS)
        assert _run(scheduler, store, source_id) == "succeeded"
        serve_items(http_server, source_id, [], status=500)
        for _ in range(2):
            _run(scheduler, store, source_id)
    finally:
        scheduler.shutdown()
    assert len(http_server.requests_for("/alerts")) == 2  # a new streak after the success


def test_a_stale_source_is_alerted_once(
    store: StateStore, register: Callable[..., str], http_server: FixtureServer,
    settings_factory: Callable[..., Settings],
) -> None:  # fmt: skip
    http_server.route("/alerts", status=200)
    settings = settings_factory(alert_url=http_server.url("/alerts"), stale_after_hours=24)
    source_id = register()
    run = store.runs.start(source_id, trigger="schedule", started_at=_days_ago(3))
    store.runs.finish(run.id, RunOutcome(status="succeeded"), finished_at=_days_ago(3))
    hook = AlertHook(store, settings=settings.scheduler)
    sent = hook.check()
    assert [(a.kind, a.source_id) for a in sent] == [("stale", source_id)]
    assert hook.check() == []
    body = json.loads(http_server.requests_for("/alerts")[0].body)
    assert body["kind"] == "stale" and body["freshness_seconds"] > 2 * 86400


def test_an_unreachable_alert_url_is_retried_at_the_next_check(
    store: StateStore, register: Callable[..., str], http_server: FixtureServer,
    settings_factory: Callable[..., Settings],
) -> None:  # fmt: skip
    http_server.route("/alerts", status=503)
    settings = settings_factory(alert_url=http_server.url("/alerts"), alert_after_failures=1)
    source_id = register()
    failed = store.runs.start(source_id, trigger="schedule")
    store.runs.finish(failed.id, RunOutcome(status="failed", error_type="FetchError", error_message="HTTP 500"))
    hook = AlertHook(store, settings=settings.scheduler)
    assert hook.check() == []
    http_server.route("/alerts", status=200)
    assert [a.kind for a in hook.check()] == ["failing"]
    assert len(http_server.requests_for("/alerts")) == 2


def _days_ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
