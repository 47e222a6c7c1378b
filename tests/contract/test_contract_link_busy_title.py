"""A course whose generic title hundreds of other teachers' courses share is still linked, on every backend.

The candidate look-up leaves out stored records naming only other teachers (the matcher never links them), so
they neither fill the look-up's limit nor are read and compared in every write.
"""

from __future__ import annotations

from pathlib import Path

from contract_corpus import BackendFactory, make_record

from indexer.linkage.incremental import CANDIDATE_LIMIT
from indexer.record import Lesson, Person, Record

LESSONS = ["握笔姿势", "基本笔画", "横竖撇捺", "结构布局", "临帖方法", "作品创作"]


def _course(source_id: str, platform: str, teacher: str, lessons: list[str]) -> Record:
    return make_record(
        source_id,
        "书法入门",
        platform=platform,
        instructors=[Person(name=teacher)],
        lessons=[Lesson(id=str(i), title=t, order=i) for i, t in enumerate(lessons, 1)],
    )


def test_duplicate_found_behind_hundreds_of_other_teachers_courses(
    backend_factory: BackendFactory, tmp_path: Path
) -> None:
    others = [
        _course(f"x{n}", "le_ouchn", f"张{n:03d}", [f"{lesson}{n}" for lesson in LESSONS])
        for n in range(CANDIDATE_LIMIT + 50)
    ]
    first = _course("w1", "le_ouchn", "王秀兰", LESSONS)
    again = _course("w2", "smartedu", "王秀兰老师", LESSONS)
    backend = backend_factory(tmp_path)
    try:
        backend.upsert([*others, first])
        backend.upsert([again])
        stored = backend.get(again.uid)
        assert stored is not None and stored.cluster_id is not None
        view = backend.cluster_of(again.uid)
        assert view is not None
        assert {r.uid for r in view.members} == {first.uid, again.uid}
    finally:
        backend.close()
