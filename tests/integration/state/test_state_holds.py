"""Held deletions: a run's withheld withdrawals wait for an admin, who decides once."""

from __future__ import annotations

import pytest

from crawlers.state.errors import HoldAlreadyDecidedError, InvalidStateValueError, StateNotFoundError
from crawlers.state.runs import RunOutcome


@pytest.fixture
def held_run(store, registered):
    run = store.runs.start(registered, trigger="schedule")
    store.runs.finish(run.id, RunOutcome(status="held"))
    return run.id


def test_a_held_deletion_waits_pending_with_its_uids_and_reason(store, registered, held_run):
    hold = store.holds.create(
        registered,
        ["elder_news:3", "elder_news:1", "elder_news:3"],
        run_id=held_run,
        reason="would withdraw 2 of 5 records (40 % > 20 %)",
    )
    assert hold.status == "pending" and hold.decided_by is None and hold.decided_at is None
    assert hold.uids == ["elder_news:1", "elder_news:3"]
    assert store.holds.get(hold.id) == hold
    assert store.holds.find(status="pending") == [hold]
    assert store.holds.find(source_id=registered, status="approved") == []


def test_approving_records_who_and_when(store, registered, held_run):
    hold = store.holds.create(registered, ["elder_news:1"], run_id=held_run, reason="source returned nothing")
    approved = store.holds.approve(hold.id, by="key:admin1")
    assert approved.status == "approved" and approved.decided_by == "key:admin1"
    assert approved.decided_at >= hold.created_at
    assert store.holds.find(status="pending") == []


def test_rejecting_keeps_the_records_and_a_second_decision_is_refused(store, registered, held_run):
    hold = store.holds.create(registered, ["elder_news:1"], run_id=held_run, reason="source returned nothing")
    assert store.holds.reject(hold.id, by="key:admin1").status == "rejected"
    with pytest.raises(HoldAlreadyDecidedError) as caught:
        store.holds.approve(hold.id, by="key:admin2")
    assert (caught.value.hold_id, caught.value.status) == (hold.id, "rejected")
    assert store.holds.get(hold.id).decided_by == "key:admin1"


def test_unknown_hold_or_status_is_a_clear_error(store):
    with pytest.raises(StateNotFoundError):
        store.holds.approve(999_999, by="key:admin1")
    with pytest.raises(InvalidStateValueError):
        store.holds.find(status="maybe")


def test_release_takes_records_listed_alive_out_of_pending_holds_only(store, registered, held_run):
    shrinking = store.holds.create(registered, ["elder_news:1", "elder_news:2"], run_id=held_run, reason="guard")
    emptied = store.holds.create(registered, ["elder_news:3"], run_id=held_run, reason="guard")
    deleting = store.holds.create(registered, ["elder_news:1"], run_id=held_run, reason="source deleted by key:7")
    decided = store.holds.create(registered, ["elder_news:2"], run_id=held_run, reason="guard")
    store.holds.reject(decided.id, by="key:admin1")

    alive = {"elder_news:1", "elder_news:3", "elder_news:9"}
    changed = store.holds.release(registered, alive, by="run:r2", unless_reason="source deleted by ")
    assert [(hold.id, released) for hold, released in changed] == [(shrinking.id, 1), (emptied.id, 1)]
    assert store.holds.get(shrinking.id).uids == ["elder_news:2"]
    assert store.holds.get(shrinking.id).status == "pending"
    closed = store.holds.get(emptied.id)
    assert (closed.status, closed.uids, closed.decided_by) == ("rejected", [], "run:r2")
    assert store.holds.get(deleting.id).uids == ["elder_news:1"]  # a whole source's deletion keeps its records
    assert store.holds.get(decided.id).uids == ["elder_news:2"]
    assert store.holds.release(registered, set(), by="run:r3", unless_reason="source deleted by ") == []
