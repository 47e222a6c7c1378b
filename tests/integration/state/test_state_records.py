"""Record state: content hashes, missed complete runs, withdrawal and reappearance."""

from __future__ import annotations

from sqlalchemy import select

from crawlers.state.records import RecordState
from crawlers.state.schema import record_state


def _uids(n):
    return [f"elder_news:{i:04d}" for i in range(n)]


def _rows(store, source_id):
    with store.engine.connect() as connection:
        query = select(record_state).where(record_state.c.source_id == source_id)
        return {row["uid"]: row for row in connection.execute(query).mappings()}


def test_observed_records_load_back_with_their_hashes(store, registered):
    assert store.records.load(registered) == {}
    assert store.records.observe(registered, [("elder_news:1", "h1"), ("elder_news:2", "h2")], run_id="r1") == 2
    assert store.records.load(registered) == {
        "elder_news:1": RecordState("h1", 0, False),
        "elder_news:2": RecordState("h2", 0, False),
    }
    assert store.records.live_count(registered) == 2


def test_a_changed_hash_is_updated_and_first_seen_kept(store, registered):
    store.records.observe(registered, [("elder_news:1", "h1"), ("elder_news:2", "h2")], run_id="r1")
    before = _rows(store, registered)
    store.records.observe(registered, [("elder_news:2", "h2-new")], run_id="r2")
    after = _rows(store, registered)
    assert after["elder_news:2"]["content_hash"] == "h2-new"
    assert after["elder_news:2"]["last_changed_run"] == "r2"
    assert after["elder_news:2"]["first_seen"] == before["elder_news:2"]["first_seen"]
    assert after["elder_news:1"] == before["elder_news:1"]  # unchanged: not rewritten


def test_a_record_missing_from_n_complete_runs_becomes_due_for_withdrawal(store, registered):
    uids = _uids(5)
    store.records.observe(registered, [(uid, "h") for uid in uids], run_id="r1")
    listed_without_3_and_4 = set(uids[:3])
    assert store.records.close_complete_run(registered, seen=listed_without_3_and_4, withdraw_after=2) == []
    assert store.records.load(registered)[uids[3]].missed_complete_runs == 1
    due = store.records.close_complete_run(registered, seen=listed_without_3_and_4, withdraw_after=2)
    assert due == [uids[3], uids[4]]
    assert store.records.load(registered)[uids[0]].missed_complete_runs == 0


def test_a_record_listed_again_starts_counting_from_zero(store, registered):
    uids = _uids(3)
    store.records.observe(registered, [(uid, "h") for uid in uids], run_id="r1")
    store.records.close_complete_run(registered, seen=set(uids[:2]), withdraw_after=2)
    store.records.close_complete_run(registered, seen=set(uids), withdraw_after=2)
    assert store.records.load(registered)[uids[2]].missed_complete_runs == 0
    assert store.records.close_complete_run(registered, seen=set(uids[:2]), withdraw_after=2) == []


def test_withdrawn_records_stop_counting_and_reappear_when_observed(store, registered):
    uids = _uids(4)
    store.records.observe(registered, [(uid, "h") for uid in uids], run_id="r1")
    assert store.records.withdraw(registered, [uids[0], uids[1], "elder_news:unknown"]) == 2
    assert store.records.withdraw(registered, [uids[0]]) == 0  # already withdrawn
    assert store.records.live_count(registered) == 2
    assert store.records.close_complete_run(registered, seen=set(uids[2:]), withdraw_after=1) == []
    assert store.records.load(registered)[uids[0]] == RecordState("h", 0, True)
    store.records.observe(registered, [(uids[0], "h")], run_id="r3")
    assert store.records.load(registered)[uids[0]] == RecordState("h", 0, False)
    assert store.records.live_count(registered) == 3


def test_missed_counting_handles_sources_larger_than_one_sql_chunk(store, registered):
    uids = _uids(1300)
    store.records.observe(registered, [(uid, f"h{uid}") for uid in uids], run_id="r1")
    due = store.records.close_complete_run(registered, seen=set(uids[::2]), withdraw_after=1)
    assert due == sorted(uids[1::2])
    assert store.records.withdraw(registered, due) == 650
    assert store.records.live_count(registered) == 650


def test_each_source_keeps_its_own_record_state(store, registered, make_source):
    other = store.sources.add(make_source("other_feed"), created_by="config").id
    store.records.observe(registered, [("elder_news:1", "h1")], run_id="r1")
    store.records.observe(other, [("other_feed:1", "o1")], run_id="r2")
    assert store.records.close_complete_run(other, seen=set(), withdraw_after=1) == ["other_feed:1"]
    assert store.records.load(registered) == {"elder_news:1": RecordState("h1", 0, False)}
