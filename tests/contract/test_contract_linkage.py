"""Clusters on every backend: a record arriving joins or creates a cluster, changing or leaving re-links it."""

from __future__ import annotations

from typing import Any

from contract_corpus import make_record

from indexer.backends.base import IndexBackend
from indexer.record import Person, Record

LESSONS = ["握笔与坐姿", "点的写法", "横的写法", "竖的写法", "结构与章法"]


def _course(source_id: str, title: str, platform: str, **fields: Any) -> Record:
    from indexer.record import Lesson

    lessons = [Lesson(id=str(i), title=t, order=i) for i, t in enumerate(fields.pop("lessons", []), 1)]
    return make_record(source_id, title, platform=platform, lessons=lessons, **fields)


def _cluster(backend: IndexBackend, uid: str) -> str | None:
    record = backend.get(uid)
    assert record is not None
    return record.cluster_id


def test_an_arriving_record_joins_the_cluster_of_its_course_with_evidence(backend: IndexBackend) -> None:
    first = _course("k1", "楷书入门", "le_ouchn", instructors=[Person(name="王秀兰教授")], lessons=LESSONS)
    second = _course("k2", "楷书入门（重播）", "lndx", instructors=[Person(name="王秀兰")], lessons=LESSONS)
    backend.upsert([first])
    assert _cluster(backend, first.uid) is None
    backend.upsert([second])
    assert _cluster(backend, first.uid) == _cluster(backend, second.uid) is not None
    view = backend.cluster_of(first.uid)  # type: ignore[attr-defined]
    assert [m.uid for m in view.members] == [first.uid, second.uid]
    assert view.evidence[0].text == "同一主讲 王秀兰；5 节中 5 节相同"


def test_another_level_or_teacher_never_joins(backend: IndexBackend) -> None:
    backend.upsert([
        _course("k1", "楷书入门", "le_ouchn", instructors=[Person(name="王秀兰")]),
        _course("k2", "楷书进阶", "lndx", instructors=[Person(name="王秀兰")]),
        _course("k3", "楷书入门", "smartedu", instructors=[Person(name="李建国")]),
    ])  # fmt: skip
    assert {_cluster(backend, f"{p}:{k}") for p, k in [("le_ouchn", "k1"), ("lndx", "k2"), ("smartedu", "k3")]} == {
        None
    }


def test_a_member_that_changes_or_leaves_reopens_its_cluster(backend: IndexBackend) -> None:
    a = _course("k1", "楷书入门", "le_ouchn", instructors=[Person(name="王秀兰")])
    b = _course("k2", "楷书入门", "lndx", instructors=[Person(name="王秀兰")])
    c = _course("k3", "楷书入门", "smartedu", instructors=[Person(name="王秀兰")])
    backend.upsert([a, b, c])
    assert _cluster(backend, a.uid) == _cluster(backend, b.uid) == _cluster(backend, c.uid) is not None
    changed = _course("k1", "楷书入门", "le_ouchn", instructors=[Person(name="李建国")])
    backend.upsert([changed])
    assert _cluster(backend, a.uid) is None
    assert _cluster(backend, b.uid) == _cluster(backend, c.uid) is not None
    backend.withdraw([c.uid])
    assert _cluster(backend, b.uid) is None
    assert backend.cluster_of(b.uid) is None  # type: ignore[attr-defined]
