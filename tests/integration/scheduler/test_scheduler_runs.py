"""Runs the scheduler starts: recorded counts, one run per source at a time, time limits, take-overs."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable

import pytest

from config.settings import Settings
from crawlers.logcontext import LogContextFilter, install
from crawlers.schedule import HarvestScheduler, SourceBusyError
from crawlers.state import RunRecord, StateStore
from indexer.backends.sqlite import SqliteBackend
from tests.integration.scheduler.conftest import BAD_ITEMS, GOOD_ITEMS, finished_run, serve_items, wait_until
from tests.support.http_server import FixtureServer


def test_run_history_counts_match_what_the_fixture_source_served(
    scheduler: HarvestScheduler, store: StateStore, register: Callable[..., str], http_server: FixtureServer
) -> None:
    source_id = register(items=GOOD_ITEMS + BAD_ITEMS)
    started = scheduler.run_now(source_id)
    assert started.trigger == "manual" and started.status == "running"
    run = finished_run(store, started.id)
    assert run.status == "partial"
    served = len(GOOD_ITEMS) + len(BAD_ITEMS)
    assert (run.counts.fetched, run.counts.new, run.counts.rejected) == (served, len(GOOD_ITEMS), len(BAD_ITEMS))
    assert store.quarantine.page(run_id=run.id).total == len(BAD_ITEMS)
    assert len(http_server.requests_for(f"/{source_id}/items")) == 1
    index = SqliteBackend(scheduler.settings.index_path)
    try:
        assert index.count(source_id) == len(GOOD_ITEMS)
    finally:
        index.close()

    serve_items(http_server, source_id, list(reversed(GOOD_ITEMS + BAD_ITEMS)))  # other bytes: read again
    again = finished_run(store, _run_now(scheduler, source_id))
    assert (again.counts.fetched, again.counts.new, again.counts.unchanged) == (served, 0, len(GOOD_ITEMS))
    same = finished_run(store, _run_now(scheduler, source_id))  # the same bytes: nothing parsed
    assert (same.status, same.counts.fetched, same.report and same.report["scope"]) == ("succeeded", 0, "unchanged")
    wait_until(lambda: store.leases.get(source_id) is None, what="the lease to be released after the run")


def _run_now(scheduler: HarvestScheduler, source_id: str) -> str:
    run: RunRecord = wait_until(lambda: _try_run_now(scheduler, source_id), what="the lease to be free")
    return run.id


def _try_run_now(scheduler: HarvestScheduler, source_id: str) -> RunRecord | None:
    try:
        return scheduler.run_now(source_id)
    except SourceBusyError:
        return None


def test_a_source_never_runs_twice_at_once(
    scheduler: HarvestScheduler, store: StateStore, register: Callable[..., str], http_server: FixtureServer
) -> None:
    source_id = register()
    serve_items(http_server, source_id, GOOD_ITEMS, delay=3)
    first = scheduler.run_now(source_id)
    with pytest.raises(SourceBusyError) as refused:
        scheduler.run_now(source_id)
    assert refused.value.holder == first.holder
    assert scheduler.run_scheduled(source_id) is None  # a scheduled firing meanwhile is skipped
    finished_run(store, first.id)
    runs = store.runs.find(source_id=source_id)
    assert [r.id for r in runs] == [first.id]
    assert len(http_server.requests_for(f"/{source_id}/items")) == 1


def test_a_hung_run_is_stopped_and_recorded_as_timed_out(
    store: StateStore,
    register: Callable[..., str],
    http_server: FixtureServer,
    settings_factory: Callable[..., Settings],
) -> None:
    source_id = register()
    serve_items(http_server, source_id, GOOD_ITEMS, delay=120)  # the platform never answers in time
    scheduler = HarvestScheduler(settings=settings_factory(run_timeout_seconds=2.0), store=store, name="hang")
    scheduler.start()
    try:
        began = time.monotonic()
        started = scheduler.run_now(source_id)
        run = finished_run(store, started.id)
        took = time.monotonic() - began
    finally:
        scheduler.shutdown()
    assert run.status == "timed_out"
    assert run.error_type == "RunTimedOut" and "2 s" in (run.error_message or "")
    assert took < 30  # the fetch would have waited 30 s for its own timeout and 120 s for the answer
    wait_until(lambda: store.leases.get(source_id) is None, what="the lease to be released")
    assert store.health([source_id])[source_id].consecutive_failures == 1


def test_a_lease_left_by_a_dead_process_is_taken_over_after_it_lapses(
    scheduler: HarvestScheduler, store: StateStore, register: Callable[..., str]
) -> None:
    source_id = register()
    dead = "gone-host:999999:deadbeef"
    assert store.leases.try_acquire(source_id, dead, ttl=1.5)
    orphan = store.runs.start(source_id, trigger="schedule", holder=dead)
    assert scheduler.run_scheduled(source_id) is None  # held: skipped, and watched

    def retried() -> list:
        return [r for r in store.runs.find(source_id=source_id) if r.trigger == "retry" and r.status != "running"]

    retry = wait_until(retried, what="the take-over run")[0]
    assert retry.status == "succeeded" and retry.counts.new == len(GOOD_ITEMS)
    left = store.runs.get(orphan.id)
    assert left.status == "failed" and left.error_type == "RunAbandoned"
    assert left.finished_at is not None and left.finished_at <= retry.started_at


def test_log_lines_of_a_run_name_its_source_and_run(
    scheduler: HarvestScheduler, store: StateStore, register: Callable[..., str]
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    install(handler)
    watched = logging.getLogger("crawlers.schedule")
    watched.addHandler(handler)
    level = watched.level
    watched.setLevel(logging.INFO)
    try:
        source_id = register()
        run = finished_run(store, _run_now(scheduler, source_id))
        wait_until(lambda: f"run={run.id}" in stream.getvalue(), what="the run's closing log line")
    finally:
        watched.setLevel(level)
        watched.removeHandler(handler)
    closing = next(line for line in stream.getvalue().splitlines() if f"run={run.id}" in line)
    assert f"[source={source_id} run={run.id}]" in closing and "ended: succeeded" in closing
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "idle", None, None)
    assert LogContextFilter().filter(outside) and (outside.source_id, outside.run_id) == ("-", "-")
