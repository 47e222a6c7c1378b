"""Cursors: round-trip per source, deletion by None, and commit together with the run that earned them."""

from __future__ import annotations

import pytest

from crawlers.state.runs import RunCounts, RunOutcome


class _Crash(Exception):
    pass


def test_cursors_round_trip_per_source(store, registered, make_source):
    other = store.sources.add(make_source("other_feed"), created_by="config").id
    values = {
        "etag": 'W/"5e8b-2c91"',
        "last_modified": "Wed, 05 Mar 2025 02:00:00 GMT",
        "oai_from": "2025-03-05T02:00:00Z",
        "sitemap:https://www.shequ.example.org/sitemap-2025.xml": "2025-03-04",
    }
    store.cursors.put(registered, values)
    store.cursors.put(other, {"catalogue_version": "20250301-7"})
    assert store.cursors.get(registered) == values
    assert store.cursors.get(other) == {"catalogue_version": "20250301-7"}
    assert store.cursors.get("never_harvested") == {}


def test_put_overwrites_given_keys_deletes_none_and_keeps_the_rest(store, registered):
    store.cursors.put(registered, {"etag": '"v1"', "last_modified": "Mon, 03 Mar 2025 00:00:00 GMT"})
    store.cursors.put(registered, {"etag": '"v2"', "last_modified": None, "oai_from": "2025-03-05"})
    assert store.cursors.get(registered) == {"etag": '"v2"', "oai_from": "2025-03-05"}
    assert store.cursors.clear(registered) == 2
    assert store.cursors.get(registered) == {}


def test_empty_or_overlong_cursor_keys_are_refused(store, registered):
    with pytest.raises(ValueError, match="cursor keys"):
        store.cursors.put(registered, {"": "x"})
    with pytest.raises(ValueError, match="cursor keys"):
        store.cursors.put(registered, {"k" * 501: "x"})
    assert store.cursors.get(registered) == {}


def test_cursors_and_run_finish_commit_together(store, registered):
    run = store.runs.start(registered, trigger="schedule")
    with store.transaction() as tx:
        tx.runs.finish(run.id, RunOutcome(status="succeeded", counts=RunCounts(fetched=3, new=3)))
        tx.cursors.put(registered, {"etag": '"v7"'})
    assert store.runs.get(run.id).status == "succeeded"
    assert store.cursors.get(registered) == {"etag": '"v7"'}


def test_a_crash_before_commit_leaves_neither_run_finish_nor_cursor(store, registered):
    store.cursors.put(registered, {"etag": '"v1"'})
    run = store.runs.start(registered, trigger="schedule")
    with pytest.raises(_Crash), store.transaction() as tx:
        tx.runs.finish(run.id, RunOutcome(status="succeeded"))
        tx.cursors.put(registered, {"etag": '"v2"'})
        raise _Crash
    assert store.runs.get(run.id).status == "running"
    assert store.cursors.get(registered) == {"etag": '"v1"'}
