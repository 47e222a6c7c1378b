"""Records leaving the catalogue: missed complete listings, runs that prove nothing, the mass-deletion guard,
and admins approving or rejecting held withdrawals (in code and with `edufed holds` / `edufed quarantine`)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.source_models import OaiPmhSourceConfig
from crawlers.state import HoldAlreadyDecidedError, StateNotFoundError
from crawlers.withdrawals import apply_hold, reject_hold
from search_api.cli import Console, main
from tests.integration.state.conftest import postgres_admin, state_url_fixture  # noqa: F401 (fixtures)
from tests.support import oai
from tests.support.feeds import rss_config
from tests.support.harvest_state import Harness, course_list, courses, serve_courses
from tests.support.http_server import FixtureServer, conditional, http_server_fixture  # noqa: F401

ITEMS = courses(10)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with Harness.open(tmp_path / "data") as opened:
        yield opened


def uids(source_id: str, items: list[dict[str, str]]) -> set[str]:
    return {f"{source_id}:{item['id']}" for item in items}


def test_a_record_missing_from_one_complete_listing_stays_and_from_two_is_withdrawn(
    harness: Harness, http_server: FixtureServer
) -> None:
    serve_courses(http_server, ITEMS)
    config = course_list(http_server)
    harness.run(config)
    serve_courses(http_server, ITEMS[1:])
    once = harness.run(config)
    assert (once.status, once.scope, once.withdrawn) == ("succeeded", "full", 0)
    assert uids(config.id, ITEMS) == set(harness.index_hashes(config.id))
    assert harness.missed(config.id)[f"{config.id}:{ITEMS[0]['id']}"] == 1
    twice = harness.run(config)
    assert (twice.status, twice.withdrawn, twice.held) == ("succeeded", 1, None)
    assert set(harness.index_hashes(config.id)) == uids(config.id, ITEMS[1:])
    assert harness.store.records.load(config.id)[f"{config.id}:{ITEMS[0]['id']}"].withdrawn
    harness.assert_consistent(config.id)
    assert harness.store.runs.get(twice.run_id).counts.withdrawn == 1
    serve_courses(http_server, ITEMS)  # it comes back: written again, live again
    back = harness.run(config)
    assert (back.new, back.written) == (1, back.new + back.updated)
    harness.assert_consistent(config.id)


def test_one_miss_is_enough_when_the_source_says_so(harness: Harness, http_server: FixtureServer) -> None:
    serve_courses(http_server, ITEMS)
    config = course_list(http_server, withdraw_after_missed_runs=1)
    harness.run(config)
    serve_courses(http_server, ITEMS[2:])
    assert harness.run(config).withdrawn == 2
    assert set(harness.index_hashes(config.id)) == uids(config.id, ITEMS[2:])


def test_a_listing_that_fails_midway_withdraws_nothing_and_counts_no_miss(
    harness: Harness, http_server: FixtureServer
) -> None:
    serve_courses(http_server, ITEMS, per_page=4)
    config = course_list(http_server, withdraw_after_missed_runs=1)
    harness.run(config)
    cursor = harness.store.cursors.get(config.id)
    serve_courses(http_server, ITEMS[:4], per_page=4)  # page 1 as before, then page 2 breaks
    http_server.route(f"/{config.id}/courses", query={"p": "2"}, status=502, body="Bad Gateway")
    failed = harness.run(config)
    assert (failed.status, failed.complete, failed.withdrawn) == ("failed", False, 0)
    assert set(harness.index_hashes(config.id)) == uids(config.id, ITEMS)
    assert set(harness.missed(config.id).values()) == {0}
    assert harness.store.cursors.get(config.id) == cursor


def test_a_run_cut_by_max_records_withdraws_nothing(harness: Harness, http_server: FixtureServer) -> None:
    serve_courses(http_server, ITEMS)
    harness.run(course_list(http_server, withdraw_after_missed_runs=1))
    cut = harness.run(course_list(http_server, withdraw_after_missed_runs=1, max_records=3))
    assert (cut.status, cut.fetched, cut.complete, cut.withdrawn) == ("succeeded", 3, False, 0)
    assert set(harness.index_hashes("course_list")) == uids("course_list", ITEMS)


def test_items_leaving_a_feed_window_are_not_withdrawn(harness: Harness, http_server: FixtureServer) -> None:
    feed = "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>动态</title>{}</channel></rss>"
    item = "<item><guid>n{0}</guid><title>社区学习动态 {0}</title><link>https://example.edu.cn/n/{0}</link></item>"
    config = rss_config(http_server, id="news_feed", withdraw_after_missed_runs=1, obey_robots=False)
    for window in (range(1, 6), range(4, 9), range(7, 12)):
        body = feed.format("".join(item.format(n) for n in window)).encode("utf-8")
        http_server.route("/feed", responder=conditional(body, etag=f'"{window.start}"'))
        report = harness.run(config)
        assert (report.scope, report.withdrawn, report.held) == ("incremental", 0, None)
    assert len(harness.index_hashes(config.id)) == 11


def test_the_guard_holds_a_run_that_would_withdraw_too_large_a_share(
    harness: Harness, http_server: FixtureServer
) -> None:
    serve_courses(http_server, ITEMS)
    config = course_list(http_server, withdraw_after_missed_runs=1)
    harness.run(config)
    serve_courses(http_server, ITEMS[3:])
    held = harness.run(config)
    assert (held.status, held.withdrawn) == ("held", 0)
    assert held.held is not None and held.held.reason == "would withdraw 3 of 10 records (30 % > 20 %)"
    assert set(harness.index_hashes(config.id)) == uids(config.id, ITEMS)
    hold = harness.store.holds.get(held.held.hold_id)
    assert (hold.status, set(hold.uids), hold.run_id) == ("pending", uids(config.id, ITEMS[:3]), held.run_id)
    assert harness.store.runs.get(held.run_id).status == "held"
    serve_courses(http_server, [*ITEMS[3:], *courses(1, prefix="x")])  # read again: the same withdrawals wait
    again = harness.run(config)
    assert again.held is not None and again.held.hold_id == hold.id
    assert len(harness.store.holds.find(source_id=config.id)) == 1

    approved = apply_hold(harness.store, harness.backend, hold.id, actor="admin:test")
    assert (approved.status, approved.decided_by) == ("approved", "admin:test")
    assert set(harness.index_hashes(config.id)) == uids(config.id, [*ITEMS[3:], *courses(1, prefix="x")])
    harness.assert_consistent(config.id)
    with pytest.raises(HoldAlreadyDecidedError):
        apply_hold(harness.store, harness.backend, hold.id, actor="admin:test")
    with pytest.raises(StateNotFoundError):
        reject_hold(harness.store, hold.id + 100, actor="admin:test")
    assert [e.action for e in harness.store.audit.find(target=config.id)] == ["hold.approve"]


def test_the_guard_holds_a_listing_gone_empty_and_a_rejection_keeps_the_records(
    both: Harness, http_server: FixtureServer
) -> None:
    serve_courses(http_server, ITEMS)
    config = course_list(http_server)
    both.run(config)
    serve_courses(http_server, [])
    empty = both.run(config)
    assert (empty.status, empty.withdrawn, empty.fetched) == ("held", 0, 0)
    assert empty.held is not None and empty.held.reason == "the source listed no records; it had 10"
    assert set(both.index_hashes(config.id)) == uids(config.id, ITEMS)
    assert set(both.missed(config.id).values()) == {1}
    rejected = reject_hold(both.store, empty.held.hold_id, actor="admin:test")
    assert (rejected.status, set(rejected.uids)) == ("rejected", uids(config.id, ITEMS))
    assert set(both.missed(config.id).values()) == {0}  # not due again at the next listing
    both.assert_consistent(config.id)
    stored = both.store.runs.get(empty.run_id)
    assert stored.report is not None and stored.report["held"]["reason"] == empty.held.reason


@pytest.fixture
def both(tmp_path: Path, state_url: str) -> Iterator[Harness]:
    with Harness.open(tmp_path / "data", state_url) as opened:
        yield opened


def serve_oai(server: FixtureServer, records: list[tuple[str, str, str | None]]) -> None:
    oai.serve(server, {"verb": "Identify"}, "identify.xml")
    oai.serve(server, {"verb": "ListRecords", "metadataPrefix": "oai_dc"}, oai.list_records(records))


def harvested_repository(
    h: Harness, server: FixtureServer, count: int, **overrides: Any
) -> tuple[OaiPmhSourceConfig, list[str]]:
    """An OAI repository of `count` records (res/0 ...), harvested once in full: its config and local ids."""
    ids = [f"res/{n}" for n in range(count)]
    serve_oai(server, [(i, "2024-03-01T00:00:00Z", f"社区课程 {i}") for i in ids])
    config = oai.source_config(server, **overrides)
    h.run(config)
    return config, ids


def test_a_few_records_a_small_repository_reports_deleted_leave_at_once(
    harness: Harness, http_server: FixtureServer
) -> None:
    config, ids = harvested_repository(harness, http_server, 10)
    serve_oai(http_server, [(i, "2024-03-05T00:00:00Z", None) for i in ids[:3]])
    report = harness.run(config)  # 30 % of the source, but fewer than min_held_reported_deletions (10)
    assert (report.status, report.scope, report.withdrawn, report.held) == ("succeeded", "incremental", 3, None)
    assert set(harness.index_hashes(config.id)) == {oai.oai_uid(config, i) for i in ids[3:]}
    harness.assert_consistent(config.id)


def test_a_repository_suddenly_reporting_most_of_its_records_deleted_is_held(
    both: Harness, http_server: FixtureServer
) -> None:
    config, ids = harvested_repository(both, http_server, 30)
    everything = {oai.oai_uid(config, i) for i in ids}
    unknown = ("res/never-harvested", "2024-03-05T00:00:00Z", None)
    serve_oai(http_server, [*((i, "2024-03-05T00:00:00Z", None) for i in ids[:20]), unknown])
    held = both.run(config)
    assert (held.status, held.scope, held.withdrawn) == ("held", "incremental", 0)
    assert held.held is not None
    assert held.held.reason == "the source reported 20 of its 30 records deleted (66.7 % > 20 %)"
    assert set(both.index_hashes(config.id)) == everything
    assert both.store.cursors.get(config.id)["from"] == '"2024-03-05T00:00:00Z"'  # read on from the deletions
    hold = both.store.holds.get(held.held.hold_id)
    assert set(hold.uids) == {oai.oai_uid(config, i) for i in ids[:20]}  # live records only

    apply_hold(both.store, both.backend, hold.id, actor="admin:test")
    assert set(both.index_hashes(config.id)) == {oai.oai_uid(config, i) for i in ids[20:]}
    both.assert_consistent(config.id)


def test_records_listed_alive_again_leave_a_pending_hold(both: Harness, http_server: FixtureServer) -> None:
    config, ids = harvested_repository(both, http_server, 30)
    serve_oai(http_server, [(i, "2024-03-05T00:00:00Z", None) for i in ids[:20]])
    first = both.run(config)
    assert first.held is not None
    # the repository undoes part of it: two of the "deleted" records are listed alive again, changed
    serve_oai(http_server, [(i, "2024-03-06T00:00:00Z", f"社区课程 {i}（修订）") for i in ids[:2]])
    back = both.run(config)
    assert (back.status, back.updated, back.held) == ("succeeded", 2, None)
    assert f"2 records of hold {first.held.hold_id} were listed alive again and leave the hold" in back.notes
    hold = both.store.holds.get(first.held.hold_id)
    assert (hold.status, set(hold.uids)) == ("pending", {oai.oai_uid(config, i) for i in ids[2:20]})
    apply_hold(both.store, both.backend, hold.id, actor="admin:test")
    assert set(both.index_hashes(config.id)) == {oai.oai_uid(config, i) for i in [*ids[:2], *ids[20:]]}
    both.assert_consistent(config.id)

    serve_oai(http_server, [(i, "2024-03-07T00:00:00Z", None) for i in ids[20:]])  # 10 of 12: held
    second = both.run(config)
    assert second.held is not None
    serve_oai(http_server, [(i, "2024-03-08T00:00:00Z", f"社区课程 {i}") for i in ids[20:]])  # all back
    again = both.run(config)
    closed = both.store.holds.get(second.held.hold_id)
    assert (closed.status, closed.uids, closed.decided_by) == ("rejected", [], f"run:{again.run_id}")
    assert any("nothing is left to decide" in note for note in again.notes)
    assert len(both.index_hashes(config.id)) == 12


def test_reported_deletions_and_missed_records_held_together_in_one_hold(
    harness: Harness, http_server: FixtureServer
) -> None:
    config, ids = harvested_repository(
        harness, http_server, 20, withdraw_after_missed_runs=1, min_held_reported_deletions=2
    )
    # a set change makes the next run a full listing: 5 reported deleted, 5 simply gone, 10 still there
    changed = config.model_copy(update={"set_spec": "courses"})
    listing = [*((i, "2024-03-05T00:00:00Z", None) for i in ids[:5]),
               *((i, "2024-03-05T00:00:00Z", f"社区课程 {i}") for i in ids[10:])]  # fmt: skip
    query = {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "courses"}
    oai.serve(http_server, query, oai.list_records(listing))
    held = harness.run(changed)
    assert (held.status, held.scope) == ("held", "full")
    assert held.held is not None and held.held.reason == (
        "the source reported 5 of its 20 records deleted (25 % > 20 %); would withdraw 10 of 20 records (50 % > 20 %)"
    )
    assert harness.store.holds.get(held.held.hold_id).uids == sorted(oai.oai_uid(config, i) for i in ids[:10])
    assert len(harness.index_hashes(config.id)) == 20


def edufed(harness: Harness, *args: str) -> tuple[int, str, str]:
    """Run the command line in this process against the harness's data directory."""
    settings_file = harness.settings.data_dir.parent / "settings.yaml"
    settings_file.write_text(f"data_dir: {harness.settings.data_dir}\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main([*args, "--config", str(settings_file)], console=Console(out=out, err=err))
    return code, out.getvalue(), err.getvalue()


def test_holds_and_quarantine_from_the_command_line(harness: Harness, http_server: FixtureServer) -> None:
    bad = {"id": "bad", "name": "   "}
    serve_courses(http_server, [*ITEMS, bad])
    config = course_list(http_server, withdraw_after_missed_runs=1)
    harness.run(config)
    serve_courses(http_server, [*ITEMS[5:], bad])
    first = harness.run(config)
    serve_courses(http_server, [bad])
    second = harness.run(config)
    assert first.held is not None and second.held is not None and first.held.hold_id != second.held.hold_id

    code, out, _ = edufed(harness, "holds", "list", "--status", "pending")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split()[:4] == ["ID", "SOURCE", "STATUS", "RECORDS"]
    assert [row.split()[:4] for row in rows] == [
        [str(second.held.hold_id), config.id, "pending", "10"], [str(first.held.hold_id), config.id, "pending", "5"],
    ]  # fmt: skip
    code, out, _ = edufed(harness, "holds", "reject", str(second.held.hold_id))
    assert (code, out.strip()) == (0, f"held deletion {second.held.hold_id} rejected: 10 records of {config.id} "
                                       "kept in the catalogue")  # fmt: skip
    code, out, _ = edufed(harness, "holds", "approve", str(first.held.hold_id))
    assert code == 0 and "5 records of course_list withdrawn" in out
    assert set(harness.index_hashes(config.id)) == uids(config.id, ITEMS[5:])
    for args in (("approve", str(first.held.hold_id)), ("reject", str(second.held.hold_id))):
        code, _, err = edufed(harness, "holds", *args)
        assert code == 2 and "was already" in err and "nothing changed" in err
    code, _, err = edufed(harness, "holds", "approve", "999")
    assert (code, err.strip()) == (2, "edufed: no held deletion 999")
    code, out, _ = edufed(harness, "holds", "list", "--json")
    assert [(h["id"], h["status"]) for h in json.loads(out)] == [
        (second.held.hold_id, "rejected"), (first.held.hold_id, "approved"),
    ]  # fmt: skip

    code, out, _ = edufed(harness, "quarantine", "list", "--source", config.id)
    assert code == 0 and len(out.splitlines()) == 1 + 3 and all(" bad " in row for row in out.splitlines()[1:])
    entry = harness.store.quarantine.page(source_id=config.id).items[0]
    code, out, _ = edufed(harness, "quarantine", "show", str(entry.id))
    assert code == 0 and "reason:  title: no title" in out
    assert json.loads(out.split("payload:\n", 1)[1]) == bad
    assert edufed(harness, "quarantine", "show", "424242")[0] == 2
