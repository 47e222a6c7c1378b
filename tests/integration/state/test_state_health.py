"""The sources' health read by index look-ups equals what ranking and scanning every run gave, on SQLite and the
real PostgreSQL, over a varied history; and its statements seek rather than scan the runs table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection, Select, and_, func, or_, select, text

from crawlers.state.health import DATA_STATUSES, FAILURE_STATUSES, SourceHealth, _look_ups
from crawlers.state.runs import RunOutcome, to_run
from crawlers.state.schema import runs, sources

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=3)


# The health as it was read before the index look-ups (every run ranked per source, every successful run scanned),
# kept here as the reference, not in production.


def _reference_latest_runs(ids: Sequence[str]) -> Select:
    ranked = (
        select(
            runs,
            func.row_number()
            .over(partition_by=runs.c.source_id, order_by=(runs.c.started_at.desc(), runs.c.id.desc()))
            .label("rank"),
        )
        .where(runs.c.source_id.in_(ids))
        .subquery()
    )
    return select(ranked).where(ranked.c.rank == 1)


def _reference_failure_streaks(ids: Sequence[str]) -> Select:
    good = (
        select(runs.c.source_id, func.max(runs.c.started_at).label("since"))
        .where(runs.c.status.in_(DATA_STATUSES), runs.c.source_id.in_(ids))
        .group_by(runs.c.source_id)
        .subquery()
    )
    return (
        select(runs.c.source_id, func.count().label("failures"))
        .select_from(runs.outerjoin(good, good.c.source_id == runs.c.source_id))
        .where(
            runs.c.source_id.in_(ids),
            runs.c.status.in_(FAILURE_STATUSES),
            or_(good.c.since.is_(None), and_(runs.c.started_at > good.c.since)),
        )
        .group_by(runs.c.source_id)
    )


def reference_health(connection: Connection, ids: Sequence[str], now: datetime) -> dict[str, SourceHealth]:
    latest = {row["source_id"]: to_run(row) for row in connection.execute(_reference_latest_runs(ids)).mappings()}
    last_data = (
        select(runs.c.source_id, func.max(runs.c.finished_at))
        .where(runs.c.status.in_(DATA_STATUSES), runs.c.source_id.in_(ids))
        .group_by(runs.c.source_id)
    )
    success = {source_id: at for source_id, at in connection.execute(last_data)}
    streaks = {source_id: count for source_id, count in connection.execute(_reference_failure_streaks(ids))}
    running = set(
        connection.execute(
            select(runs.c.source_id).where(runs.c.status == "running", runs.c.source_id.in_(ids)).distinct()
        ).scalars()
    )
    health = {}
    for source_id in ids:
        last_success = success.get(source_id)
        health[source_id] = SourceHealth(
            source_id=source_id,
            last_run=latest.get(source_id),
            last_success_at=last_success,
            freshness_seconds=(now - last_success).total_seconds() if last_success else None,
            consecutive_failures=streaks.get(source_id, 0),
            running=source_id in running,
        )
    return health


def assert_health_matches_the_reference(store, ids: Sequence[str] | None = None) -> dict[str, SourceHealth]:
    with store.engine.connect() as connection:
        every = (
            ids if ids is not None else list(connection.execute(select(sources.c.id).order_by(sources.c.id)).scalars())
        )
        expected = reference_health(connection, every, NOW) if every else {}
    found = store.health(ids, now=NOW)
    assert found == expected
    return found


def _run(store, source_id, status, *, at, seconds=60.0, run_id=None):
    run = store.runs.start(source_id, trigger="schedule", started_at=at, run_id=run_id)
    if status != "running":
        run = store.runs.finish(run.id, RunOutcome(status=status), finished_at=at + timedelta(seconds=seconds))
    return run


def test_health_equals_the_full_scan_over_a_varied_history(store, make_source):
    ids = ["a_flaky", "b_never_good", "c_overlap", "d_ties", "e_never_ran", "f_fine", "gone_news"]
    for source_id in ids:
        store.sources.add(make_source(source_id), created_by="config")
    assert_health_matches_the_reference(store)

    # a_flaky: every status in turn, the streak broken and started again many times; the check after each run.
    cycle = ("failed", "succeeded", "timed_out", "failed", "partial", "failed", "held", "timed_out", "timed_out")
    for n in range(len(cycle) * 3):
        _run(store, "a_flaky", cycle[n % len(cycle)], at=T0 + timedelta(minutes=10 * n), seconds=n * 7.000001)
        found = assert_health_matches_the_reference(store)
    assert found["a_flaky"].consecutive_failures == 2 and found["a_flaky"].last_run.status == "timed_out"

    # b_never_good: failures, time-outs and a run still going, never a run that delivered data (then one does).
    for n, status in enumerate(("failed", "timed_out", "failed", "failed", "running")):
        _run(store, "b_never_good", status, at=T0 + timedelta(hours=n))
    found = assert_health_matches_the_reference(store)
    assert (found["b_never_good"].consecutive_failures, found["b_never_good"].last_success_at) == (4, None)
    assert found["b_never_good"].running

    # c_overlap: runs finishing out of order. The newest start that delivered data is not the newest finish; a
    # failure started at the same microsecond as that data run does not count, one a microsecond later does.
    long = _run(store, "c_overlap", "succeeded", at=T0, seconds=7200)
    short = _run(store, "c_overlap", "partial", at=T0 + timedelta(minutes=10), seconds=60)
    _run(store, "c_overlap", "failed", at=T0 + timedelta(minutes=10))
    _run(store, "c_overlap", "failed", at=T0 + timedelta(minutes=10, microseconds=1))
    _run(store, "c_overlap", "timed_out", at=T0 - timedelta(days=1))  # before every data run: not in the streak
    found = assert_health_matches_the_reference(store)
    assert found["c_overlap"].last_success_at == long.finished_at and long.finished_at > short.finished_at
    assert found["c_overlap"].consecutive_failures == 1

    # d_ties: runs started at the same instant (the last run is the one with the largest id), in a +08:00 clock.
    east = timezone(timedelta(hours=8))
    for run_id, status in (("run-b", "failed"), ("run-c", "succeeded"), ("run-a", "held")):
        _run(store, "d_ties", status, at=(T0 + timedelta(hours=5)).astimezone(east), run_id=run_id)
    found = assert_health_matches_the_reference(store)
    assert found["d_ties"].last_run.id == "run-c" and found["d_ties"].consecutive_failures == 0

    # f_fine, gone_news: abandoned runs count as failures; a held deletion started and finished in one transaction;
    # a finish rolled back; a deleted source goes with its runs.
    _run(store, "f_fine", "succeeded", at=T0)
    store.runs.start("f_fine", trigger="schedule", holder="host-a:1", started_at=T0 + timedelta(hours=1))
    kept = store.runs.start("f_fine", trigger="schedule", holder="host-a:2", started_at=T0 + timedelta(hours=2))
    assert store.runs.abandon_unfinished("f_fine", reason="lease expired", keep=kept.id) == 1
    found = assert_health_matches_the_reference(store)
    assert found["f_fine"].consecutive_failures == 1 and found["f_fine"].running
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.runs.finish(kept.id, RunOutcome(status="failed"))
        raise RuntimeError("cursors could not be written")
    with store.transaction() as tx:
        held = tx.runs.start("f_fine", trigger="delete", holder="key:admin", started_at=T0 + timedelta(hours=3))
        tx.runs.finish(held.id, RunOutcome(status="held"), finished_at=T0 + timedelta(hours=3, seconds=1))
    _run(store, "gone_news", "failed", at=T0)
    found = assert_health_matches_the_reference(store)
    assert found["f_fine"].consecutive_failures == 0 and found["f_fine"].running
    store.sources.remove("gone_news")
    found = assert_health_matches_the_reference(store)
    assert "gone_news" not in found and found["e_never_ran"].last_run is None

    # Asked for some sources only, an unknown one among them; and for none.
    assert_health_matches_the_reference(store, ["c_overlap", "no_such_source", "b_never_good"])
    assert store.health([]) == {}
    _run(store, "b_never_good", "succeeded", at=T0 + timedelta(hours=2, minutes=30))  # between its failures
    found = assert_health_matches_the_reference(store)
    assert found["b_never_good"].consecutive_failures == 1  # the failure at 3 h


def test_many_sources_in_one_call(store, make_source):
    """More sources than one statement counts streaks for, each with its own streak."""
    ids = [f"source_{n:03d}" for n in range(205)]
    for n, source_id in enumerate(ids):
        store.sources.add(make_source(source_id), created_by="config")
        _run(store, source_id, "succeeded", at=T0)
        for k in range(n % 3):
            _run(store, source_id, "failed", at=T0 + timedelta(hours=k + 1))
    found = assert_health_matches_the_reference(store)
    assert [found[source_id].consecutive_failures for source_id in ids[:5]] == [0, 1, 2, 0, 1]


def test_sqlite_reads_health_by_index_seeks_not_scans(tmp_path, make_source):
    """The look-ups' plan on SQLite: every access to runs searches an index; none scans the table."""
    from crawlers.state.store import StateStore

    with StateStore.open(f"sqlite:///{tmp_path / 'state.sqlite3'}") as store:
        store.sources.add(make_source("elder_news"), created_by="config")
        _run(store, "elder_news", "succeeded", at=T0)
        query = _look_ups(["elder_news"]).compile(store.engine, compile_kwargs={"literal_binds": True})
        with store.engine.connect() as connection:
            plan = [row[-1] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {query}"))]
    on_runs = [step for step in plan if " runs " in f"{step} "]
    assert on_runs and all(step.startswith("SEARCH runs USING") for step in on_runs), plan
    assert not any("TEMP B-TREE" in step and "RIGHT PART" not in step for step in plan), plan
