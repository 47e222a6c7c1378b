"""Run history and per-source health: lifecycle, queries, freshness and failure streaks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawlers.state.errors import InvalidStateValueError, RunAlreadyFinishedError, StateNotFoundError
from crawlers.state.runs import RunCounts, RunOutcome

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _run(store, source_id, *, status, at, minutes=5, trigger="schedule"):
    run = store.runs.start(source_id, trigger=trigger, started_at=at)
    return store.runs.finish(run.id, RunOutcome(status=status), finished_at=at + timedelta(minutes=minutes))


def test_a_run_goes_from_running_to_its_final_status_with_counts_and_report(store, registered):
    run = store.runs.start(registered, trigger="manual", holder="host-a:123")
    assert run.status == "running" and run.finished_at is None and run.duration_seconds is None
    counts = RunCounts(fetched=120, new=100, updated=5, unchanged=10, withdrawn=2, rejected=5)
    http = {"requests": 14, "not_modified": 3, "errors": {"503": 2}}
    report = {"warnings": ["第3页缺少 PageCount"], "rejections": [{"source_id": "x1", "reason": "no title"}]}
    outcome = RunOutcome(
        status="partial",
        counts=counts,
        http=http,
        error_type="FetchError",
        error_message="fetching page 4 failed: HTTP 503",
        report=report,
    )
    finished = store.runs.finish(run.id, outcome)
    assert finished == store.runs.get(run.id)
    assert (finished.status, finished.counts, finished.http, finished.report) == (
        "partial",
        counts,
        http,
        report,
    )
    assert (finished.error_type, finished.error_message) == ("FetchError", "fetching page 4 failed: HTTP 503")
    assert finished.holder == "host-a:123" and finished.trigger == "manual"
    assert finished.finished_at.tzinfo is not None
    assert finished.duration_seconds >= 0


def test_a_run_is_finished_only_once(store, registered):
    run = store.runs.start(registered, trigger="schedule")
    store.runs.finish(run.id, RunOutcome(status="failed", error_type="ParseError", error_message="bad XML"))
    with pytest.raises(RunAlreadyFinishedError) as caught:
        store.runs.finish(run.id, RunOutcome(status="succeeded"))
    assert caught.value.status == "failed"
    assert store.runs.get(run.id).status == "failed"


def test_bad_trigger_status_or_source_are_refused(store, registered):
    with pytest.raises(InvalidStateValueError) as caught:
        store.runs.start(registered, trigger="cron")
    assert caught.value.field == "trigger" and "schedule" in caught.value.allowed
    run = store.runs.start(registered, trigger="retry")
    with pytest.raises(InvalidStateValueError):
        store.runs.finish(run.id, RunOutcome(status="running"))
    with pytest.raises(StateNotFoundError):
        store.runs.start("no_such_source", trigger="manual")
    with pytest.raises(StateNotFoundError):
        store.runs.finish("no-such-run", RunOutcome(status="failed"))


def test_runs_are_found_by_source_and_status_newest_first_page_by_page(store, registered, make_source):
    other = store.sources.add(make_source("other_feed"), created_by="config").id
    statuses = ["succeeded", "failed", "succeeded", "held", "failed"]
    mine = [_run(store, registered, status=s, at=T0 + timedelta(hours=i)) for i, s in enumerate(statuses)]
    _run(store, other, status="failed", at=T0)
    newest_first = [run.id for run in reversed(mine)]
    first_page = store.runs.find(source_id=registered, limit=2)
    second_page = store.runs.find(source_id=registered, limit=2, before=first_page[-1].id)
    third_page = store.runs.find(source_id=registered, limit=2, before=second_page[-1].id)
    assert [r.id for r in first_page + second_page + third_page] == newest_first
    failed = store.runs.find(status="failed")
    assert [r.source_id for r in failed] == [registered, registered, other]
    assert [r.id for r in store.runs.find(source_id=registered, status="held")] == [mine[3].id]


def test_latest_run_per_source(store, registered, make_source):
    other = store.sources.add(make_source("other_feed"), created_by="config").id
    _run(store, registered, status="succeeded", at=T0)
    last_mine = _run(store, registered, status="failed", at=T0 + timedelta(hours=1))
    last_other = _run(store, other, status="held", at=T0 + timedelta(minutes=5))
    latest = store.runs.latest_per_source()
    assert {k: v.id for k, v in latest.items()} == {registered: last_mine.id, other: last_other.id}


def test_health_counts_failures_since_the_last_run_that_delivered_data(store, registered):
    _run(store, registered, status="failed", at=T0)
    good = _run(store, registered, status="succeeded", at=T0 + timedelta(hours=1))
    _run(store, registered, status="failed", at=T0 + timedelta(hours=2))
    _run(store, registered, status="timed_out", at=T0 + timedelta(hours=3))
    last = _run(store, registered, status="failed", at=T0 + timedelta(hours=4))
    now = T0 + timedelta(hours=10)
    health = store.health(now=now)[registered]
    assert health.consecutive_failures == 3
    assert health.last_success_at == good.finished_at
    assert health.freshness_seconds == (now - good.finished_at).total_seconds()
    assert health.last_run.id == last.id and not health.running


def test_a_partial_or_held_run_ends_the_failure_streak_and_refreshes(store, registered):
    _run(store, registered, status="failed", at=T0)
    held = _run(store, registered, status="held", at=T0 + timedelta(hours=1))
    health = store.health([registered], now=held.finished_at + timedelta(seconds=90))[registered]
    assert health.consecutive_failures == 0
    assert health.freshness_seconds == 90
    _run(store, registered, status="failed", at=T0 + timedelta(hours=2))
    partial = _run(store, registered, status="partial", at=T0 + timedelta(hours=3))
    assert store.health([registered])[registered].last_success_at == partial.finished_at
    assert store.health([registered])[registered].consecutive_failures == 0


def test_health_of_a_source_that_never_ran_and_of_one_running_now(store, registered, make_source):
    fresh = store.sources.add(make_source("never_ran"), created_by="config").id
    store.runs.start(registered, trigger="startup")
    health = store.health()
    assert set(health) == {registered, fresh}
    assert health[fresh].last_run is None and health[fresh].freshness_seconds is None
    assert health[fresh].consecutive_failures == 0 and not health[fresh].running
    assert health[registered].running and health[registered].last_run.status == "running"


def test_abandoned_runs_of_a_dead_holder_are_marked_failed(store, registered):
    dead = store.runs.start(registered, trigger="schedule", holder="host-a:1")
    mine = store.runs.start(registered, trigger="schedule", holder="host-b:2")
    assert store.runs.abandon_unfinished(registered, reason="lease expired; holder gone", keep=mine.id) == 1
    abandoned = store.runs.get(dead.id)
    assert (abandoned.status, abandoned.error_type) == ("failed", "RunAbandoned")
    assert abandoned.error_message == "lease expired; holder gone (held by host-a:1); it stored no progress"
    assert store.runs.get(mine.id).status == "running"
    assert store.health([registered])[registered].consecutive_failures == 1
