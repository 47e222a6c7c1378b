"""The scheduler's jobs: persisted across restarts, kept in step with sources, paused and resumed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.settings import Settings
from config.source_models import Schedule
from crawlers.schedule import TIMEZONE, HarvestScheduler, ScheduleInvalidError, build_trigger, job_id
from crawlers.state import StateStore
from tests.integration.scheduler.conftest import api_source
from tests.support.http_server import FixtureServer


def _restart(settings: Settings, store: StateStore) -> HarvestScheduler:
    again = HarvestScheduler(settings=settings, store=store, name="test")
    again.start()
    return again


def test_schedules_and_next_run_times_survive_a_restart(
    settings: Settings, store: StateStore, register: Callable[..., str]
) -> None:
    daily = register("daily_feed", schedule={"interval_minutes": 1440, "jitter_seconds": 600})
    nightly = register("nightly_feed", schedule={"cron": "30 2 * * 1-5", "jitter_seconds": 0})
    first = _restart(settings, store)
    try:
        planned = {source_id: first.next_run_time(source_id) for source_id in (daily, nightly)}
    finally:
        first.shutdown()
    assert all(planned.values())
    second = _restart(settings, store)  # a new scheduler object on the same database
    try:
        kept = {source_id: second.next_run_time(source_id) for source_id in (daily, nightly)}
        nightly_job = second.scheduler.get_job(job_id(nightly))
    finally:
        second.shutdown()
    assert kept == planned
    assert nightly_job is not None and str(nightly_job.trigger.timezone) == TIMEZONE
    night = kept[nightly]
    assert night is not None and (night.hour, night.minute) == (2, 30) and night.weekday() < 5


def test_a_changed_schedule_replaces_the_job_on_restart(
    settings: Settings, store: StateStore, register: Callable[..., str], http_server: FixtureServer
) -> None:
    source_id = register(schedule={"interval_minutes": 600, "jitter_seconds": 0})
    first = _restart(settings, store)
    before = first.next_run_time(source_id)
    first.shutdown()
    store.sources.replace(api_source(http_server, source_id, schedule={"interval_minutes": 5, "jitter_seconds": 0}))
    second = _restart(settings, store)
    try:
        after = second.next_run_time(source_id)
    finally:
        second.shutdown()
    assert before is not None and after is not None
    assert after < before - timedelta(hours=9)


def test_pausing_a_source_pauses_its_job_and_resuming_restarts_it(
    scheduler: HarvestScheduler, store: StateStore, register: Callable[..., str]
) -> None:
    source_id = register()
    scheduler.sync()  # sources registered after the start are picked up by the periodic sync
    assert scheduler.next_run_time(source_id) is not None
    paused = scheduler.pause(source_id)
    assert paused.paused and store.sources.get(source_id).paused
    assert scheduler.next_run_time(source_id) is None
    assert scheduler.run_scheduled(source_id) is None  # a firing that slipped through is skipped
    assert store.runs.find(source_id=source_id) == []
    resumed = scheduler.resume(source_id)
    assert not resumed.paused and not store.sources.get(source_id).paused
    assert scheduler.next_run_time(source_id) is not None


def test_a_paused_source_stays_paused_after_a_restart(
    settings: Settings, store: StateStore, register: Callable[..., str]
) -> None:
    source_id = register()
    first = _restart(settings, store)
    first.pause(source_id)
    first.shutdown()
    second = _restart(settings, store)
    try:
        assert second.next_run_time(source_id) is None
    finally:
        second.shutdown()


def test_disabled_and_removed_sources_have_no_job(
    scheduler: HarvestScheduler, store: StateStore, register: Callable[..., str], http_server: FixtureServer
) -> None:
    kept, disabled = register("kept_feed"), register("off_feed")
    scheduler.sync()
    store.sources.replace(api_source(http_server, disabled, enabled=False))
    scheduler.sync()
    assert scheduler.next_run_time(kept) is not None
    assert scheduler.scheduler.get_job(job_id(disabled)) is None
    store.sources.remove(kept)
    scheduler.sync()
    assert scheduler.scheduler.get_job(job_id(kept)) is None


@pytest.mark.parametrize(
    ("cron", "reason"), [("61 * * * *", "61"), ("* * *", "5 fields")], ids=["bad-minute", "too-few-fields"]
)
def test_an_invalid_cron_is_refused_with_its_reason(cron: str, reason: str) -> None:
    with pytest.raises(ScheduleInvalidError) as refused:
        build_trigger("feed", Schedule(cron=cron))
    assert reason in str(refused.value) and refused.value.source_id == "feed"


def test_crontab_weekday_numbers_count_from_sunday() -> None:
    trigger = build_trigger("feed", Schedule(cron="0 9 * * 0", jitter_seconds=0))
    monday = datetime(2024, 5, 6, 12, 0, tzinfo=ZoneInfo(TIMEZONE))
    fire = trigger.get_next_fire_time(None, monday)
    assert fire is not None and fire.strftime("%A %H:%M") == "Sunday 09:00"
