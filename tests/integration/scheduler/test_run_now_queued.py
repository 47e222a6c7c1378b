"""A run asked for now is recorded before `run_now` returns; its child takes that row over, and a run whose child
never begins it is finished as failed with the reason (the child dies first, the service stops), never left
running."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.settings import Settings
from crawlers.schedule import HarvestScheduler, SchedulerError
from crawlers.state import RunRecord, StateStore
from tests.integration.scheduler.conftest import GOOD_ITEMS, finished_run, make_settings, wait_until
from tests.support.http_server import FixtureServer, LoggedRequest, Reply


@pytest.fixture
def gate(http_server: FixtureServer) -> Iterator[threading.Event]:
    """Set it to let the stalled platform answer (set at the end in any case)."""
    opened = threading.Event()
    yield opened
    opened.set()


def stall(http_server: FixtureServer, source_id: str, gate: threading.Event) -> None:
    """The source's platform answers only once `gate` is set: its run holds a run slot until then. (The fixture
    server answers under its lock: ask it for its request log only once the gate is open.)"""

    def answer(request: LoggedRequest) -> Reply:
        gate.wait(60)
        return Reply(body=b'{"data": {"items": []}}', headers={"Content-Type": "application/json"})

    http_server.route(f"/{source_id}/items", responder=answer)


@dataclass
class OneSlot:
    """A scheduler with one run slot, held by `first` (stalled on its platform until the gate is set), and `waiting`
    asked for after it: recorded, queued for the slot."""

    scheduler: HarvestScheduler
    stalled: str
    waiting: str
    first: RunRecord
    run: RunRecord


@pytest.fixture
def one_slot(
    store: StateStore,
    register: Callable[..., str],
    http_server: FixtureServer,
    gate: threading.Event,
    settings_factory: Callable[..., Settings],
) -> Iterator[OneSlot]:
    stalled, waiting = register("stalled_feed"), register("waiting_feed")
    stall(http_server, stalled, gate)
    scheduler = HarvestScheduler(settings=settings_factory(max_concurrent_runs=1), store=store, name="one-slot")
    scheduler.start()
    try:
        first = scheduler.run_now(stalled)
        wait_until(lambda: not store.runs.get(first.id).queued, what="the stalled run to hold the only slot")
        yield OneSlot(scheduler, stalled, waiting, first, scheduler.run_now(waiting))
    finally:
        scheduler.shutdown()  # a second shutdown (after a test's own) does nothing
        gate.set()


def test_a_run_waiting_for_a_slot_is_recorded_at_once_and_its_child_takes_that_row_over(
    store: StateStore, one_slot: OneSlot, gate: threading.Event
) -> None:
    run = one_slot.run
    assert (run.status, run.trigger, run.queued) == ("running", "manual", True)
    assert store.runs.get(run.id).queued  # recorded, though its child has not even been started
    gate.set()
    done = finished_run(store, run.id)
    assert finished_run(store, one_slot.first.id).status == "succeeded"
    one_slot.scheduler.shutdown()
    assert (done.status, done.counts.new, done.holder) == ("succeeded", len(GOOD_ITEMS), run.holder)
    assert done.started_at >= run.started_at and done.report and "progress" not in done.report
    assert [r.id for r in store.runs.find(source_id=one_slot.waiting)] == [run.id]  # the child adopted it: one row
    assert store.runs.count_by_status() == {(one_slot.stalled, "succeeded"): 1, (one_slot.waiting, "succeeded"): 1}


def test_a_child_that_dies_before_beginning_its_run_leaves_it_failed_with_the_reason(
    store: StateStore, register: Callable[..., str], tmp_path: Path, state_url: str
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the data directory should be: the child cannot open the index")
    source_id = register()
    scheduler = HarvestScheduler(settings=make_settings(blocked / "data", state_url), store=store, name="dies")
    scheduler.start()
    try:
        run = scheduler.run_now(source_id)
        assert run.queued
        ended = finished_run(store, run.id)
        wait_until(lambda: store.leases.get(source_id) is None, what="the lease to be released")
    finally:
        scheduler.shutdown()
    assert (ended.status, ended.error_type) == ("failed", "HarvestProcessDied")
    assert "exited with code 1" in (ended.error_message or "") and "never began" in (ended.error_message or "")
    assert [r.id for r in store.runs.find(source_id=source_id)] == [run.id]
    assert store.runs.count_by_status() == {(source_id, "failed"): 1}


def test_runs_still_waiting_when_the_service_stops_are_failed_as_never_begun(
    store: StateStore, one_slot: OneSlot, http_server: FixtureServer, gate: threading.Event
) -> None:
    stalled, waiting = one_slot.stalled, one_slot.waiting
    one_slot.scheduler.shutdown()
    gate.set()
    interrupted, never = store.runs.get(one_slot.first.id), store.runs.get(one_slot.run.id)
    assert (interrupted.status, interrupted.error_type) == ("failed", "RunInterrupted")
    assert (never.status, never.error_type) == ("failed", "RunInterrupted") and not never.queued
    assert never.error_message == "the service stopped before the run began"
    assert store.leases.get(waiting) is None and store.leases.get(stalled) is None
    assert not http_server.requests_for(f"/{waiting}/items")
    assert store.runs.count_by_status() == {(stalled, "failed"): 1, (waiting, "failed"): 1}


def test_run_now_on_a_stopped_scheduler_records_nothing(
    store: StateStore, register: Callable[..., str], settings: Settings
) -> None:
    source_id = register()
    scheduler = HarvestScheduler(settings=settings, store=store, name="stopped")
    scheduler.start()
    scheduler.shutdown()
    with pytest.raises(SchedulerError):  # its job would never run: no run left waiting for it
        scheduler.run_now(source_id)
    assert store.runs.find(source_id=source_id) == [] and store.leases.get(source_id) is None
