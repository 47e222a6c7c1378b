"""Link decisions in the state database: one per pair, replaced, undone, read as the linker reads them."""

from __future__ import annotations

import pytest

from crawlers.state import InvalidStateValueError, StateNotFoundError, StateStore
from crawlers.state.links import WHOLE_TABLE_FROM
from indexer.linkage import LinkDecision


def test_a_decision_is_kept_once_per_pair_whichever_way_round_it_is_named(store):
    store.links.decide("zx:2", "ouchn:1", kind="split", by="key:a", note="不同老师")
    replaced = store.links.decide("ouchn:1", "zx:2", kind="join", by="key:b")
    assert (replaced.a, replaced.b, replaced.kind, replaced.decided_by) == ("ouchn:1", "zx:2", "join", "key:b")
    assert [(d.a, d.b, d.kind) for d in store.links.all()] == [("ouchn:1", "zx:2", "join")]
    assert store.links.decisions_for(["zx:2"]) == [LinkDecision(a="ouchn:1", b="zx:2", kind="join", by="key:b")]


def test_decisions_outlive_the_store_that_made_them(state_url):
    with StateStore.open(state_url) as store:
        store.links.decide("a:1", "b:1", kind="split", by="key:a")
    with StateStore.open(state_url) as store:
        assert store.links.decisions_for(["b:1", "c:9"]) == [LinkDecision("a:1", "b:1", "split", "key:a")]
        assert store.links.decisions_for(["c:9"]) == []


def test_a_rebuild_sized_question_reads_the_same_decisions(store):
    store.links.decide("a:1", "b:1", kind="split", by="key:a")
    store.links.decide("c:1", "d:1", kind="join", by="key:a")
    many = [f"x:{i}" for i in range(WHOLE_TABLE_FROM)] + ["d:1"]
    assert store.links.decisions_for(many) == [LinkDecision("c:1", "d:1", "join", "key:a")]


def test_undo_removes_the_decision_and_a_missing_one_is_not_found(store):
    store.links.decide("a:1", "b:1", kind="join", by="key:a")
    assert store.links.remove("b:1", "a:1").kind == "join"
    assert store.links.all() == []
    with pytest.raises(StateNotFoundError):
        store.links.remove("a:1", "b:1")


@pytest.mark.parametrize(("a", "b", "kind", "field"), [
    ("a:1", "a:1", "split", "other"), ("a:1", "b:1", "merge", "kind"), ("", "b:1", "join", "uid"),
    ("a:1", "b" * 301, "join", "other"),
])  # fmt: skip
def test_bad_decisions_are_refused_and_store_nothing(store, a, b, kind, field):
    with pytest.raises(InvalidStateValueError) as caught:
        store.links.decide(a, b, kind=kind, by="key:a")
    assert caught.value.field == field
    assert store.links.all() == []
