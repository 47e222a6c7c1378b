"""Contract: every backend keeps the OAI-PMH change log: (datestamp, uid) order, sets, and deleted entries."""

from __future__ import annotations

from contract_corpus import make_record

from indexer.backends.base import IndexBackend
from indexer.backends.changes import Change, ChangeQuery, now_stamp
from indexer.record import Record


def _course(n: int, **fields: object) -> Record:
    themes = ["养生保健"] if n % 2 else ["闲暇生活", "科学文化"]
    return make_record(f"c{n:02d}", f"太极拳第{n}讲", themes=themes, platform="lndx" if n % 3 else "le_ouchn",
                       programmes=["智慧助老"] if n % 5 == 0 else [], **fields)  # fmt: skip


def _all(backend: IndexBackend, *, page: int = 4, **query: object) -> list[Change]:
    """Every entry of a list, page by page through the (stamp, uid) key."""
    found: list[Change] = []
    until = now_stamp()
    after = None
    for _ in range(1000):
        entries = backend.changes(ChangeQuery(until=until, after=after, limit=page, **query))  # type: ignore[arg-type]
        found.extend(entries)
        if len(entries) < page:
            return found
        after = (entries[-1].stamp, entries[-1].uid)
    raise AssertionError("paging did not end")


def test_written_records_are_listed_once_in_datestamp_then_uid_order_with_their_sets(backend: IndexBackend) -> None:
    backend.upsert([_course(n) for n in range(10)])
    later = now_stamp()
    backend.upsert([_course(n) for n in range(10, 13)])
    entries = _all(backend)
    assert sorted(e.uid for e in entries) == sorted(f"{'lndx' if n % 3 else 'le_ouchn'}:c{n:02d}" for n in range(13))
    assert [(e.stamp, e.uid) for e in entries] == sorted((e.stamp, e.uid) for e in entries)
    assert len({e.uid for e in entries}) == 13
    assert all(e.stamp >= later for e in entries if e.uid.endswith(("c10", "c11", "c12")))
    first = next(e for e in entries if e.uid == "le_ouchn:c00")
    assert first.sets == {"platform": ("le_ouchn",), "programme": ("智慧助老",), "theme": ("科学文化", "闲暇生活")}
    assert first.record is not None and first.record.title == "太极拳第0讲" and not first.deleted
    assert backend.count_changes(ChangeQuery(until=now_stamp())) == 13
    assert backend.count_changes(ChangeQuery(until=now_stamp(), since=later)) == 3


def test_a_withdrawn_record_stays_listed_as_deleted_with_a_new_datestamp_and_its_sets(backend: IndexBackend) -> None:
    backend.upsert([_course(n) for n in range(6)])
    before = {e.uid: e.stamp for e in _all(backend)}
    backend.withdraw(["le_ouchn:c00"])
    assert backend.get("le_ouchn:c00") is None
    entries = {e.uid: e for e in _all(backend)}
    gone = entries["le_ouchn:c00"]
    assert gone.deleted and gone.record is None and gone.stamp > before["le_ouchn:c00"]
    assert gone.sets["programme"] == ("智慧助老",)
    in_set = _all(backend, set_kind="programme", set_values=("智慧助老",))
    assert [(e.uid, e.deleted) for e in in_set] == [("lndx:c05", False), ("le_ouchn:c00", True)]
    backend.upsert([_course(0)])
    back = {e.uid: e for e in _all(backend)}["le_ouchn:c00"]
    assert not back.deleted and back.stamp > gone.stamp and back.record is not None


def test_only_a_changed_record_gets_a_new_datestamp(backend: IndexBackend) -> None:
    backend.upsert([_course(n) for n in range(4)])
    before = {e.uid: e.stamp for e in _all(backend)}
    backend.upsert([_course(1), _course(2, description="新增的课程简介")])
    after = {e.uid: e.stamp for e in _all(backend)}
    assert after["lndx:c01"] == before["lndx:c01"]
    assert after["lndx:c02"] > before["lndx:c02"]
    since = _all(backend, since=after["lndx:c02"])
    assert [e.uid for e in since] == ["lndx:c02"]


def test_sets_select_by_value_or_by_kind_and_are_summarized(backend: IndexBackend) -> None:
    backend.upsert([_course(n) for n in range(12)])
    backend.withdraw(["lndx:c01"])
    health = _all(backend, set_kind="theme", set_values=("养生保健",))
    odd = sorted(f"{'lndx' if n % 3 else 'le_ouchn'}:c{n:02d}" for n in range(1, 12, 2))
    assert sorted(e.uid for e in health) == odd
    assert any(e.deleted for e in health)
    assert len(_all(backend, set_kind="programme")) == 3
    assert len(_all(backend, set_kind="platform", set_values=("le_ouchn",))) == 4
    query = ChangeQuery(until=now_stamp(), set_kind="theme", set_values=("养生保健",))
    assert backend.count_changes(query) == 6
    summary = backend.change_sets()
    assert summary.values["platform"] == ["le_ouchn", "lndx"]
    assert summary.values["theme"] == ["养生保健", "科学文化", "闲暇生活"]
    assert summary.values["programme"] == ["智慧助老"]
    assert summary.earliest is not None and summary.earliest <= min(e.stamp for e in _all(backend))


def test_withdrawing_a_source_leaves_deleted_entries(backend: IndexBackend) -> None:
    backend.upsert([_course(n) for n in range(6)])
    backend.withdraw_source("le_ouchn")
    entries = _all(backend)
    assert {e.uid for e in entries if e.deleted} == {"le_ouchn:c00", "le_ouchn:c03"}
    assert len(entries) == 6
