"""Totals over the run history that /metrics shows: counted by the store in SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawlers.state.runs import RunOutcome

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
EDGES = (60.0, 300.0, 3600.0)


def _run(store, source_id, *, status, seconds, http=None, finished=True):
    run = store.runs.start(source_id, trigger="schedule", started_at=T0)
    if finished:
        store.runs.finish(run.id, RunOutcome(status=status, http=http), finished_at=T0 + timedelta(seconds=seconds))


def test_runs_are_counted_by_source_and_status(store, make_source):
    for source_id in ("elder_news", "ouchn_news"):
        store.sources.add(make_source(source_id), created_by="config")
    for status in ("succeeded", "succeeded", "failed"):
        _run(store, "elder_news", status=status, seconds=10)
    _run(store, "ouchn_news", status="partial", seconds=10)
    _run(store, "ouchn_news", status="running", seconds=0, finished=False)
    assert store.runs.count_by_status() == {
        ("elder_news", "succeeded"): 2, ("elder_news", "failed"): 1,
        ("ouchn_news", "partial"): 1, ("ouchn_news", "running"): 1,
    }  # fmt: skip


def test_http_errors_are_summed_from_each_runs_stats_and_odd_stats_add_nothing(store, registered):
    _run(store, registered, status="partial", seconds=5, http={"requests": 9, "errors_by_status": {"503": 2, "404": 1}})
    _run(store, registered, status="failed", seconds=5, http={"errors_by_status": {"503": 3}})
    _run(store, registered, status="failed", seconds=5, http={"errors_by_status": {"500": 1.5, "502": "2"}})
    _run(store, registered, status="failed", seconds=5, http={"errors_by_status": [503]})
    _run(store, registered, status="failed", seconds=5, http=None)
    assert store.runs.http_errors_by_status() == {(registered, "503"): 5, (registered, "404"): 1}


def test_finished_runs_are_bucketed_by_duration_and_running_ones_left_out(store, registered):
    for seconds in (30, 60, 60.000001, 4000):  # to the microsecond: the third run is over a minute
        _run(store, registered, status="succeeded", seconds=seconds)
    _run(store, registered, status="running", seconds=0, finished=False)
    found = store.runs.duration_histograms(EDGES)[registered]
    assert found.count == 4 and abs(found.sum_seconds - 4150.000001) < 1e-7
    assert found.at_most == ((60.0, 2), (300.0, 3), (3600.0, 3))


def test_pending_holds_are_counted_by_source(store, make_source):
    for source_id in ("elder_news", "ouchn_news"):
        store.sources.add(make_source(source_id), created_by="config")
    run = store.runs.start("elder_news", trigger="schedule")
    first = store.holds.create("elder_news", ["elder_news:1"], run_id=run.id, reason="mass deletion")
    store.holds.create("elder_news", ["elder_news:2"], run_id=run.id, reason="mass deletion")
    store.holds.create("elder_news", ["elder_news:3"], run_id=run.id, reason="mass deletion")
    store.holds.approve(first.id, by="admin")
    assert store.holds.pending_by_source() == {"elder_news": 2}
