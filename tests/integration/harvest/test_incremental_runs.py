"""Harvest runs recorded in the state database: run rows, cursors across restarts, zero-write re-harvests,
exact updates, quarantine with payloads, and a failing source that touches nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawlers.run import RunReport
from crawlers.state import RunRecord
from tests.integration.state.conftest import postgres_admin, state_url_fixture  # noqa: F401 (fixtures)
from tests.support import oai, smartedu
from tests.support.harvest_state import Harness, course_list, courses, serve_courses
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    """An index and a SQLite state database in tmp_path."""
    with Harness.open(tmp_path) as opened:
        yield opened


@pytest.fixture
def both(tmp_path: Path, state_url: str) -> Iterator[Harness]:
    """An index and a state database on SQLite, then on PostgreSQL (a fresh schema)."""
    with Harness.open(tmp_path, state_url) as opened:
        yield opened


def stored_run(h: Harness, report: RunReport) -> RunRecord:
    run = h.store.runs.get(report.run_id)
    assert run.status == report.status and run.report is not None
    assert run.counts == report.counts()
    return run


def test_a_full_harvest_records_its_run_quarantine_and_record_state(both: Harness, http_server: FixtureServer) -> None:
    smartedu.serve_catalogue(http_server, "v1")
    config = smartedu.source_config(http_server, obey_robots=False)
    want = smartedu.expected("v1", http_server)
    report = both.run(config, trigger="schedule", holder="test-holder")
    run = stored_run(both, report)
    assert (run.trigger, run.holder, run.status) == ("schedule", "test-holder", "partial")
    assert (run.counts.fetched, run.counts.new, run.counts.rejected, run.counts.withdrawn) == (
        len(want["records"]) + len(want["problems"]), len(want["records"]), len(want["problems"]), 0,
    )  # fmt: skip
    assert run.report is not None and run.report["scope"] == "full" and run.report["complete"] is True
    assert want["summary"] in run.report["notes"]
    assert run.http is not None and run.http["requests"] == 1 + len(want["parts"])
    assert sorted(both.index_hashes(config.id)) == sorted(f"{config.id}:{w['source_id']}" for w in want["records"])
    both.assert_consistent(config.id)
    quarantined = both.store.quarantine.page(run_id=report.run_id).items
    assert [(q.item_id, q.reason) for q in reversed(quarantined)] == [  # newest first
        (p["source_id"], p["reason"]) for p in want["problems"]
    ]
    assert all(q.payload is not None for q in quarantined)  # the raw item is kept to debug it
    assert both.store.cursors.get(config.id)  # the catalogue version, for the next run


def test_an_unchanged_catalogue_after_a_restart_downloads_no_part_and_writes_nothing(
    both: Harness, http_server: FixtureServer
) -> None:
    smartedu.serve_catalogue(http_server, "v1")
    config = smartedu.source_config(http_server, obey_robots=False)
    first = both.run(config)
    states = both.store.records.load(config.id)
    cursor = both.store.cursors.get(config.id)
    both.reopen_state()  # the cursor lives in the database, not in the process
    http_server.requests.clear()
    again = both.run(config)
    assert [r.path for r in http_server.requests] == [smartedu.VERSION_PATH]
    assert (again.status, again.scope, again.complete) == ("succeeded", "unchanged", True)
    assert (again.fetched, again.written, again.new, again.updated, again.withdrawn) == (0, 0, 0, 0, 0)
    assert any("no part file downloaded" in note for note in again.notes)
    assert both.store.records.load(config.id) == states
    assert both.store.cursors.get(config.id) == cursor
    assert both.store.quarantine.page(run_id=again.run_id).total == 0
    assert first.new == len(states)


def test_a_changed_listing_rewrites_exactly_the_changed_records(harness: Harness, http_server: FixtureServer) -> None:
    items = courses(10)
    serve_courses(http_server, items)
    config = course_list(http_server)
    first = harness.run(config)
    before = harness.store.records.load(config.id)
    changed = [dict(item) for item in items]
    changed[2]["name"] += "（修订版）"
    changed[7]["name"] += "（修订版）"
    added = courses(1, prefix="new")
    serve_courses(http_server, changed + added)
    again = harness.run(config)
    assert (first.new, first.written) == (10, 10)
    assert (again.new, again.updated, again.unchanged, again.written) == (1, 2, 8, 3)
    after = harness.store.records.load(config.id)
    rewritten = {uid for uid in after if before.get(uid) != after[uid]}
    assert rewritten == {f"{config.id}:{i['id']}" for i in (changed[2], changed[7], *added)}
    record = harness.backend.get(f"{config.id}:{changed[2]['id']}")
    assert record is not None and record.title == changed[2]["name"]
    harness.assert_consistent(config.id)


def test_oai_asks_from_its_stored_datestamp_and_withdraws_a_deleted_record_at_once(
    both: Harness, http_server: FixtureServer
) -> None:
    oai.serve_repository(http_server)
    config = oai.source_config(http_server)
    full = oai.expected("expected-full.json", http_server)
    since = oai.expected("expected-since.json", http_server)
    first = both.run(config)
    assert sorted(both.index_hashes(config.id)) == sorted(f"{config.id}:{r['source_id']}" for r in full["records"])
    assert (first.scope, first.withdrawn) == ("full", 0)  # its one deleted record was never harvested
    both.reopen_state()
    oai.serve(http_server, since["requests"][-1], "list-since.xml")
    http_server.requests.clear()
    again = both.run(config)
    assert oai.oai_queries(http_server) == since["requests"]  # `from` the last datestamp of the first run
    gone = {f"{config.id}:{i}" for i in since["deleted"]}
    assert (again.scope, again.updated, again.withdrawn, again.status) == ("incremental", 1, len(gone), "succeeded")
    assert not gone & set(both.index_hashes(config.id))
    assert all(both.store.records.load(config.id)[uid].withdrawn for uid in gone)
    both.assert_consistent(config.id)
    stored = both.store.cursors.get(config.id)
    assert stored["from"] == f'"{since["cursor_from"]}"'


def test_a_rejected_item_is_quarantined_with_its_reason_and_raw_payload(
    harness: Harness, http_server: FixtureServer
) -> None:
    bad = {"id": "no-title", "name": "", "teacher": "王老师"}
    serve_courses(http_server, [*courses(3), bad])
    config = course_list(http_server)
    report = harness.run(config)
    assert (report.status, report.new, report.rejected) == ("partial", 3, 1)
    page = harness.store.quarantine.page(source_id=config.id)
    assert [(q.item_id, q.reason, q.payload) for q in page.items] == [("no-title", "title: no title", bad)]
    assert page.items[0].run_id == report.run_id


def test_a_source_that_fails_fails_its_own_run_and_touches_nothing(
    harness: Harness, http_server: FixtureServer
) -> None:
    broken, healthy = course_list(http_server, "broken_list"), course_list(http_server, "healthy_list")
    serve_courses(http_server, courses(5), source_id=broken.id)
    serve_courses(http_server, courses(6), source_id=healthy.id)
    harness.run(broken)
    harness.run(healthy)
    kept = {source.id: (harness.index_hashes(source.id), harness.store.records.load(source.id),
                        harness.store.cursors.get(source.id)) for source in (broken, healthy)}  # fmt: skip
    http_server.route(f"/{broken.id}/courses", status=500, body="服务器内部错误")
    failed = harness.run(broken)
    fine = harness.run(healthy)
    assert failed.status == "failed" and failed.error is not None and "HTTP 500" in failed.error.message
    assert (failed.complete, failed.withdrawn, fine.status, fine.scope) == (False, 0, "succeeded", "full")
    run = harness.store.runs.get(failed.run_id)
    assert (run.status, run.error_type) == ("failed", failed.error.type)
    for source in (broken, healthy):
        assert (harness.index_hashes(source.id), harness.store.records.load(source.id),
                harness.store.cursors.get(source.id)) == kept[source.id]  # fmt: skip


def test_a_dry_run_reads_and_writes_no_state(harness: Harness, http_server: FixtureServer) -> None:
    serve_courses(http_server, courses(4))
    config = course_list(http_server)
    harness.store.sources.seed([config])
    report = harness.run(config, dry_run=True)
    assert (report.new, report.written, report.complete) == (4, 0, False)
    assert harness.store.runs.find(source_id=config.id) == []
    assert harness.store.records.load(config.id) == {} and harness.store.cursors.get(config.id) == {}
