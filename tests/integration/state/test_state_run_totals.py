"""Totals over the run history that /metrics shows, kept by the store with each run: on SQLite and PostgreSQL
they equal a full scan of the runs table, also on a database upgraded from before the totals existed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Integer, case, cast, extract, func, select, text

from crawlers.state import RUN_STATUSES, RunAlreadyFinishedError, migrate
from crawlers.state.run_totals import http_error_counts
from crawlers.state.runs import RunOutcome
from crawlers.state.schema import DURATION_EDGES, runs
from crawlers.state.store import StateStore

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


# The totals against a full scan of the runs table: the queries /metrics made before the totals existed, kept
# here as the reference (not in production). A varied history on SQLite and PostgreSQL must give equal figures.


def _scan_seconds(dialect: str):
    if dialect == "sqlite":  # timestamps are text, `YYYY-MM-DD HH:MM:SS.ffffff`
        # The old scrape took strftime('%s') of the whole text, which rounds to the millisecond first: a time at
        # .9995 s or later counted as the next second (test_a_duration_is_exact_whatever_its_fraction below).
        # The reference takes the whole seconds from the first 19 characters, as migration 0003 does.
        epoch = lambda column: cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)  # noqa: E731
        micros = lambda column: cast(func.substr(column, 21, 6), Integer)  # noqa: E731
        whole = epoch(runs.c.finished_at) - epoch(runs.c.started_at)
        return (whole * 1_000_000 + micros(runs.c.finished_at) - micros(runs.c.started_at)) / 1_000_000.0
    return extract("epoch", runs.c.finished_at - runs.c.started_at)


SCAN_HTTP_ERRORS = {
    "sqlite": """
        SELECT runs.source_id, errors.key, SUM(errors.value)
        FROM runs, json_each(runs.http, '$.errors_by_status') AS errors
        WHERE json_type(runs.http, '$.errors_by_status') = 'object' AND errors.type = 'integer'
        GROUP BY runs.source_id, errors.key
    """,
    "postgresql": """
        SELECT runs.source_id, errors.key, SUM(errors.value::text::bigint)
        FROM runs CROSS JOIN LATERAL json_each(CASE WHEN json_typeof(runs.http -> 'errors_by_status') = 'object'
                                                    THEN runs.http -> 'errors_by_status' ELSE '{}'::json END) AS errors
        WHERE json_typeof(errors.value) = 'number' AND errors.value::text ~ '^-?[0-9]+$'
        GROUP BY runs.source_id, errors.key
    """,
}


def full_scan(engine) -> tuple[dict, dict, dict]:
    """Runs by status, HTTP errors by status and duration histograms, each summed over every stored run."""
    with engine.connect() as connection:
        dialect = connection.dialect.name
        query = select(runs.c.source_id, runs.c.status, func.count()).group_by(runs.c.source_id, runs.c.status)
        by_status = {(source_id, status): count for source_id, status, count in connection.execute(query)}
        errors = {
            (source_id, str(code)): int(count)
            for source_id, code, count in connection.execute(text(SCAN_HTTP_ERRORS[dialect]))
        }
        seconds = _scan_seconds(dialect).label("seconds")
        timed = select(runs.c.source_id, seconds).where(runs.c.finished_at.is_not(None)).subquery()
        buckets = [func.sum(case((timed.c.seconds <= edge, 1), else_=0)) for edge in DURATION_EDGES]
        query = select(timed.c.source_id, func.count(), func.sum(timed.c.seconds), *buckets).group_by(timed.c.source_id)
        durations = {
            source_id: (count, float(total), tuple(zip(DURATION_EDGES, map(int, at_most), strict=True)))
            for source_id, count, total, *at_most in connection.execute(query)
        }
    return by_status, errors, durations


def assert_totals_match_a_full_scan(store) -> None:
    by_status, errors, durations = full_scan(store.engine)
    assert store.runs.count_by_status() == by_status
    assert store.runs.http_errors_by_status() == errors
    found = store.runs.duration_histograms()
    assert found.keys() == durations.keys()
    for source_id, (count, total, at_most) in durations.items():
        assert (found[source_id].count, found[source_id].at_most) == (count, at_most), source_id
        # The totals sum whole microseconds, exactly; the scan summed floats on SQLite (numerics on PostgreSQL).
        assert found[source_id].sum_seconds == pytest.approx(total, rel=1e-12, abs=1e-9), source_id


ODD_HTTP = (
    {"requests": 30, "errors_by_status": {"503": 2, "404": 1}},
    {"errors_by_status": {"503": 3, "500": 0, "599": -1}},  # zero and negative are whole numbers too
    {"errors_by_status": {"500": 1.5, "502": "2", "504": True, "429": 1.0, "418": [1], "420": {"n": 1}}},
    {"errors_by_status": {503: 4, "503": 5}},  # the stored JSON names "503" twice: both count
    {"errors_by_status": {"超时": 2}},
    {"errors_by_status": [503]},
    {"errors_by_status": None},
    {"requests": 3},
    [1, 2],
    None,
)
SECONDS = (0, 1, 1.000001, 59.999999, 60, 60.000001, 299, 300.5, 3600, 7200, 7200.000001, 9000.25, -5)


def build_history(store, make_source) -> list[str]:
    """Several sources with every status, odd HTTP stats, durations on and beside the edges, a run in a
    +08:00 clock, an abandoned run, a run finished twice, a finish rolled back, a start and finish in one
    transaction, and a deleted source; returns the source ids still registered."""
    kept = ["elder_news", "ouchn_news", "sh_lll"]
    for source_id in [*kept, "gone_news"]:
        store.sources.add(make_source(source_id), created_by="config")
    statuses = [status for status in RUN_STATUSES if status != "running"]
    n = 0
    for source_id in [*kept, "gone_news"]:
        for seconds in SECONDS:
            status = statuses[n % len(statuses)]
            _run(store, source_id, status=status, seconds=seconds, http=ODD_HTTP[n % len(ODD_HTTP)])
            n += 1
    east = timezone(timedelta(hours=8))
    run = store.runs.start("sh_lll", trigger="manual", started_at=T0.astimezone(east))
    store.runs.finish(run.id, RunOutcome(status="succeeded"), finished_at=T0 + timedelta(seconds=61))
    store.runs.start("elder_news", trigger="schedule", holder="host-a:1", started_at=T0)  # left running: abandoned
    store.runs.start("elder_news", trigger="schedule", holder="host-a:2", started_at=T0)  # left running
    kept_run = store.runs.start("ouchn_news", trigger="schedule", holder="host-b:1")
    assert store.runs.abandon_unfinished("elder_news", reason="lease expired", keep=None) == 2
    twice = store.runs.start("ouchn_news", trigger="retry", started_at=T0)
    store.runs.finish(twice.id, RunOutcome(status="failed", http=ODD_HTTP[0]), finished_at=T0 + timedelta(seconds=2))
    with pytest.raises(RunAlreadyFinishedError):
        store.runs.finish(twice.id, RunOutcome(status="succeeded", http=ODD_HTTP[1]))
    with pytest.raises(RuntimeError), store.transaction() as tx:  # a finish rolled back with its transaction
        tx.runs.finish(kept_run.id, RunOutcome(status="succeeded", http=ODD_HTTP[0]))
        raise RuntimeError("cursors could not be written")
    assert store.runs.get(kept_run.id).status == "running"
    with store.transaction() as tx:  # a held source deletion: started and finished in one transaction
        held = tx.runs.start("sh_lll", trigger="delete", holder="key:admin")
        tx.runs.finish(held.id, RunOutcome(status="held", report={"uids": 3}))
    store.sources.remove("gone_news")  # its runs go, and its totals with them
    return kept


def test_totals_equal_a_full_scan_of_a_varied_history(store, make_source):
    kept = build_history(store, make_source)
    assert_totals_match_a_full_scan(store)
    by_status = store.runs.count_by_status()
    assert {source_id for source_id, _ in by_status} == set(kept)
    assert by_status[("ouchn_news", "running")] == 1 and ("elder_news", "running") not in by_status
    errors = store.runs.http_errors_by_status()
    assert errors[("elder_news", "503")] == 2 + 3 + (4 + 5) + 2 + 3 and errors[("elder_news", "500")] == 0
    assert not any(code in {"502", "504", "429", "418", "420"} for _, code in errors)
    every, some = store.runs.duration_histograms(), store.runs.duration_histograms((60.0, 7200.0))
    assert some["sh_lll"].at_most == tuple(pair for pair in every["sh_lll"].at_most if pair[0] in (60.0, 7200.0))
    with pytest.raises(ValueError):
        store.runs.duration_histograms((42.0,))


def test_counts_of_10_to_the_18_or_more_are_not_taken_as_error_counts(store, registered):
    assert http_error_counts({"errors_by_status": {"500": 10**18 - 1, "503": 10**18, "504": -(10**18)}}) == {
        "500": 10**18 - 1
    }
    _run(store, registered, status="failed", seconds=1, http={"errors_by_status": {"503": 10**18, "500": 1}})
    assert store.runs.http_errors_by_status() == {(registered, "500"): 1}


def _alembic(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def test_a_database_upgraded_from_0002_reports_the_figures_its_runs_give(state_url, make_source):
    with StateStore.open(state_url) as store:
        build_history(store, make_source)
        with store.engine.begin() as connection:  # back to 0002: the totals tables are dropped, the runs stay
            command.downgrade(_alembic(connection), "0002")
        assert migrate.current_revision(store.engine) == "0002"
        before = full_scan(store.engine)
        assert before[0] and before[1] and before[2]
    with StateStore.open(state_url) as store:  # opening upgrades: 0003 fills the totals from the runs
        assert store.schema_revision() == migrate.head_revision()
        after = full_scan(store.engine)
        assert after[:2] == before[:2]  # the runs are the ones before: by status, HTTP errors
        for source_id, (count, total, at_most) in before[2].items():  # durations: a float sum's last digits follow
            assert after[2][source_id][::2] == (count, at_most), source_id  # the order the scan reads rows in
            assert after[2][source_id][1] == pytest.approx(total, rel=1e-12), source_id
        assert after[2].keys() == before[2].keys()
        assert_totals_match_a_full_scan(store)
        run = store.runs.start("sh_lll", trigger="schedule")  # and the totals go on from there
        store.runs.finish(run.id, RunOutcome(status="partial", http=ODD_HTTP[0]))
        assert_totals_match_a_full_scan(store)
        with store.engine.begin() as connection:
            connection.execute(runs.insert().values(id="huge", source_id="sh_lll", trigger="schedule", status="failed",
                                                    started_at=T0, finished_at=T0, fetched=0, new=0, updated=0,
                                                    unchanged=0, withdrawn=0, rejected=0,
                                                    http={"errors_by_status": {"500": 10**18, "404": 7}}))  # fmt: skip
            command.downgrade(_alembic(connection), "0002")
            command.upgrade(_alembic(connection), "0003")  # 10**18 adds none in the backfill either
        assert store.runs.http_errors_by_status()[("sh_lll", "500")] == before[1][("sh_lll", "500")]
        assert store.runs.http_errors_by_status()[("sh_lll", "404")] == before[1][("sh_lll", "404")] + 1 + 7


def test_a_duration_is_exact_whatever_its_fraction(store, registered):
    """The scrape before the totals made a run of 59.999999 s last 60.999999 s on SQLite (its strftime rounded
    the finish time to the millisecond first); the totals hold what RunRecord.duration_seconds says."""
    run = store.runs.start(registered, trigger="schedule", started_at=T0)
    done = store.runs.finish(run.id, RunOutcome(status="succeeded"), finished_at=T0 + timedelta(seconds=59.999999))
    late = store.runs.start(registered, trigger="schedule", started_at=T0 + timedelta(seconds=0.9999))
    late_done = store.runs.finish(late.id, RunOutcome(status="succeeded"), finished_at=T0 + timedelta(seconds=61))
    found = store.runs.duration_histograms((60.0,))[registered]
    assert (done.duration_seconds, late_done.duration_seconds) == (59.999999, 60.0001)
    assert found.at_most == ((60.0, 1),) and found.sum_seconds == 59.999999 + 60.0001


def test_totals_stay_exact_under_concurrent_starts_finishes_and_abandons(store, make_source):
    for source_id in ("elder_news", "ouchn_news"):
        store.sources.add(make_source(source_id), created_by="config")
    start, errors, refused = threading.Barrier(5), [], []

    def harvest(worker: int) -> None:
        start.wait()
        try:
            for n in range(12):
                source_id = ("elder_news", "ouchn_news")[(worker + n) % 2]
                run = store.runs.start(source_id, trigger="schedule")
                codes = {"503": 1, "404": worker} if n % 2 else {"404": n, "503": 2, "500": 1}  # keys in any order
                outcome = RunOutcome(status=("succeeded", "failed", "held")[n % 3], http={"errors_by_status": codes})
                try:
                    store.runs.finish(run.id, outcome)
                except RunAlreadyFinishedError:  # abandoned meanwhile
                    refused.append(run.id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    def abandon() -> None:
        start.wait()
        try:
            for n in range(12):
                store.runs.abandon_unfinished(("elder_news", "ouchn_news")[n % 2], reason="holder gone")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=harvest, args=(worker,)) for worker in range(4)]
    threads.append(threading.Thread(target=abandon))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(store.runs.count_by_status().values()) == 48
    assert_totals_match_a_full_scan(store)
