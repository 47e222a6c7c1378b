"""Clusters on every backend do not depend on the order records arrive in or on how writes batch them."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from contract_corpus import BackendFactory, make_record

from indexer.linkage import cluster, profile_of
from indexer.record import Lesson, Person, Record

PHOTO = ["认识手机相机", "构图的基本方法", "光线的运用", "人像拍摄", "风景拍摄", "后期修图"]


def _course(source_id: str, title: str, platform: str, *, teacher: str = "", **fields: Any) -> Record:
    lessons = [Lesson(id=str(i), title=t, order=i) for i, t in enumerate(fields.pop("lessons", []), 1)]
    people = [Person(name=teacher)] if teacher else []
    return make_record(source_id, title, platform=platform, instructors=people, lessons=lessons, **fields)


RECORDS = [
    # one unlevelled course that could join either level: which one must not depend on who came first
    _course("o1", "书法入门", "le_ouchn", teacher="王秀兰"),
    _course("o2", "书法", "lndx", teacher="王秀兰老师"),
    _course("o3", "书法进阶", "smartedu", teacher="主讲：王秀兰"),
    # one course on three platforms, reworded each time, linked only through one another
    _course("o4", "手机摄影技巧", "le_ouchn", teacher="陈丽华", lessons=PHOTO),
    _course("o5", "广州市老年大学·手机摄影技巧", "lndx", lessons=[f"第{i}讲 {t}" for i, t in enumerate(PHOTO, 1)]),
    _course("o6", "手机摄影技巧：跟着老师一步一步拍出好照片", "smartedu",
            description="主讲：陈丽华 单位：广州市老年大学 从认识手机相机讲起。"),
    # the same title by another teacher
    _course("o7", "手机摄影技巧", "smartedu", teacher="李建国"),
]  # fmt: skip
ORDERS = {
    "one_write": [RECORDS],
    "one_by_one_reversed": [[r] for r in reversed(RECORDS)],
    "one_by_one_unlevelled_last": [[RECORDS[2]], [RECORDS[0]], *([r] for r in RECORDS[3:]), [RECORDS[1]]],
    "shuffled_pairs": (lambda rs: [rs[i : i + 2] for i in range(0, len(rs), 2)])(
        random.Random(13).sample(RECORDS, len(RECORDS))
    ),
    "shuffled_threes": (lambda rs: [rs[i : i + 3] for i in range(0, len(rs), 3)])(
        random.Random(7).sample(RECORDS, len(RECORDS))
    ),
}


def _clusters(factory: BackendFactory, directory: Path, batches: Sequence[Sequence[Record]]) -> set[frozenset[str]]:
    backend = factory(directory)
    try:
        for batch in batches:
            backend.upsert(batch)
        members: dict[str, set[str]] = {}
        for record in RECORDS:
            stored = backend.get(record.uid)
            assert stored is not None
            members.setdefault(stored.cluster_id or record.uid, set()).add(record.uid)
        return {frozenset(m) for m in members.values()}
    finally:
        backend.close()


def _expected() -> set[frozenset[str]]:
    links = cluster([profile_of(r) for r in RECORDS])
    members: dict[str, set[str]] = {}
    for uid, link in links.items():
        members.setdefault(link.cluster_id if link else uid, set()).add(uid)
    return {frozenset(m) for m in members.values()}


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_clusters_do_not_depend_on_arrival_order_or_batches(
    backend_factory: BackendFactory, tmp_path: Path, order: str
) -> None:
    expected = _expected()
    assert frozenset({"le_ouchn:o4", "lndx:o5", "smartedu:o6"}) in expected
    assert frozenset({"smartedu:o7"}) in expected
    assert not any({"le_ouchn:o1", "smartedu:o3"} <= c for c in expected)
    assert _clusters(backend_factory, tmp_path, ORDERS[order]) == expected
