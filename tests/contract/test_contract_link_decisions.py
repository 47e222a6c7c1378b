"""Admins' link decisions on every backend: a split or join applies at once and holds through writes and rebuilds."""

from __future__ import annotations

from collections.abc import Collection

from contract_corpus import make_record

from indexer.backends.base import IndexBackend
from indexer.linkage import LinkDecision
from indexer.record import Person, Record


class DecisionList:
    """LinkDecisions an admin adds to while the backend is open (as the state database's are)."""

    def __init__(self) -> None:
        self.items: list[LinkDecision] = []

    def decisions_for(self, uids: Collection[str]) -> list[LinkDecision]:
        named = set(uids)
        return [d for d in self.items if d.a in named or d.b in named]


def _decisions(backend: IndexBackend) -> DecisionList:
    """The backend's linker reads its decisions from a DecisionList (what open_backend(decisions=) sets up)."""
    decisions = DecisionList()
    backend.linker.decisions = decisions  # type: ignore[attr-defined]
    return decisions


def _course(source_id: str, platform: str, teacher: str, description: str = "") -> Record:
    return make_record(source_id, "楷书入门", platform=platform, instructors=[Person(name=teacher)],
                       description=description)  # fmt: skip


def _cluster(backend: IndexBackend, uid: str) -> str | None:
    record = backend.get(uid)
    assert record is not None
    return record.cluster_id


def test_a_split_parts_a_merged_pair_and_holds_through_changes_and_rebuilds(backend: IndexBackend) -> None:
    decisions = _decisions(backend)
    a, b = _course("k1", "le_ouchn", "王秀兰"), _course("k2", "lndx", "王秀兰")
    backend.upsert([a, b])
    assert _cluster(backend, a.uid) == _cluster(backend, b.uid) is not None
    decisions.items.append(LinkDecision(a.uid, b.uid, "split", "key:admin"))
    assert backend.relink([a.uid]) == 2
    assert _cluster(backend, a.uid) is None and _cluster(backend, b.uid) is None
    assert backend.cluster_of(a.uid) is None
    backend.upsert([_course("k1", "le_ouchn", "王秀兰", description="重新采集后简介变了")])
    assert _cluster(backend, a.uid) is None and _cluster(backend, b.uid) is None
    backend.rebuild(list(backend.iter_records()))
    assert _cluster(backend, a.uid) is None and _cluster(backend, b.uid) is None


def test_a_join_links_a_missed_pair_with_the_admin_as_evidence(backend: IndexBackend) -> None:
    decisions = _decisions(backend)
    a, b = _course("k1", "le_ouchn", "王秀兰"), _course("k2", "lndx", "王老师")
    backend.upsert([a, b])
    assert _cluster(backend, a.uid) is None
    decisions.items.append(LinkDecision(a.uid, b.uid, "join", "key:admin"))
    backend.relink([a.uid, b.uid])
    assert _cluster(backend, a.uid) == _cluster(backend, b.uid) is not None
    view = backend.cluster_of(b.uid)
    assert view is not None
    assert [m.uid for m in view.members] == [a.uid, b.uid]
    assert [e.text for e in view.evidence] == ["管理员合并（key:admin）"]
    backend.upsert([_course("k2", "lndx", "王老师", description="重新采集后简介变了")])
    backend.rebuild(list(backend.iter_records()))
    assert _cluster(backend, a.uid) == _cluster(backend, b.uid) is not None


def test_relinking_unknown_records_changes_nothing(backend: IndexBackend) -> None:
    assert backend.relink(["nowhere:1"]) == 0
