"""A run recorded when it is asked for (queued), then taken over by the process that harvests it, counted once."""

from __future__ import annotations

import pytest

from crawlers.run_state import RunState, drop_queued, queue_run
from crawlers.state.errors import InvalidStateValueError, RunAlreadyFinishedError
from crawlers.state.runs import RunOutcome


def test_a_queued_run_counts_as_running_once_and_its_process_takes_it_over(store, registered):
    queued = store.runs.start(registered, trigger="manual", holder="host-a:1:x", queued=True)
    assert queued.status == "running" and queued.queued
    assert store.runs.count_by_status() == {(registered, "running"): 1}
    assert store.health([registered])[registered].running

    RunState(store, registered, run_id=queued.id).start(trigger="manual", holder="host-a:1:x")
    begun = store.runs.get(queued.id)
    assert begun.status == "running" and not begun.queued and begun.report is None
    assert begun.started_at >= queued.started_at  # the harvest's own start, not the time it was asked for
    assert store.runs.count_by_status() == {(registered, "running"): 1}  # adopted, not started twice
    assert [run.id for run in store.runs.find(source_id=registered)] == [queued.id]

    store.runs.finish(queued.id, RunOutcome(status="succeeded"))
    assert store.runs.count_by_status() == {(registered, "succeeded"): 1}
    assert store.runs.duration_histograms()[registered].count == 1


def test_a_run_state_without_a_queued_row_starts_its_own(store, registered):
    RunState(store, registered, run_id="r-own").start(trigger="manual", holder=None)
    assert store.runs.get("r-own").status == "running"
    assert store.runs.count_by_status() == {(registered, "running"): 1}


def test_a_queued_run_is_taken_over_only_by_its_holder_and_only_while_running(store, registered):
    queued = store.runs.start(registered, trigger="manual", holder="host-a:1:x", queued=True)
    with pytest.raises(InvalidStateValueError):
        store.runs.adopt(queued.id, source_id=registered, holder="host-b:2:y")
    assert store.runs.get(queued.id).queued  # left as it was
    store.runs.abandon_unfinished(registered, reason="its lease was taken over")
    with pytest.raises(RunAlreadyFinishedError):  # e.g. another process took the lease over meanwhile
        store.runs.adopt(queued.id, source_id=registered, holder="host-a:1:x")
    assert store.runs.adopt("no-such-run", source_id=registered, holder="host-a:1:x") is None


def test_an_abandoned_queued_run_says_it_never_began(store, registered):
    queued = store.runs.start(registered, trigger="schedule", holder="host-a:1:x", queued=True)
    assert store.runs.abandon_unfinished(registered, reason="the process running it stopped") == 1
    left = store.runs.get(queued.id)
    assert left.status == "failed" and left.error_type == "RunAbandoned" and not left.queued
    assert "never began" in (left.error_message or "") and "host-a:1:x" in (left.error_message or "")
    assert store.runs.count_by_status() == {(registered, "failed"): 1}


def test_queue_run_abandons_what_an_earlier_holder_left_and_drop_queued_fails_it_with_the_reason(store, registered):
    orphan = store.runs.start(registered, trigger="schedule", holder="gone:9:z")
    run = queue_run(store, registered, trigger="manual", holder="host-a:1:x")
    assert run.queued and store.runs.get(orphan.id).error_type == "RunAbandoned"
    dropped = drop_queued(store, run.id, error_type="RunInterrupted", reason="the service stopped before the run began")
    assert dropped is not None and (dropped.status, dropped.error_type) == ("failed", "RunInterrupted")
    assert dropped.error_message == "the service stopped before the run began" and not dropped.queued
    again = drop_queued(store, run.id, error_type="RunInterrupted", reason="twice")
    assert again is not None and again.error_message == "the service stopped before the run began"
    assert drop_queued(store, "no-such-run", error_type="RunInterrupted", reason="none") is None
    assert store.runs.count_by_status() == {(registered, "failed"): 2}
