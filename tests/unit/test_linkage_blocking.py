"""Candidate pairs: only pairs the matcher could merge are compared, in small blocks as in big ones."""

from __future__ import annotations

from indexer.linkage import cluster, profile_of
from indexer.linkage.clusters import BIG_BLOCK, candidate_pairs
from tests.unit.test_linkage_matcher import course

TEACHERS = [
    f"{s}{g}" for s in "王李张刘陈杨黄赵" for g in ("秀兰", "建国", "志强", "丽华", "文博", "淑芬", "海燕", "明")
]


def test_only_pairs_sharing_a_teacher_or_with_an_untaught_record_are_candidates() -> None:
    records = [course(f"p{i % 8}:{i}", "书法入门", teachers=[TEACHERS[i]], provider="国家开放大学")
               for i in range(BIG_BLOCK + 12)]  # fmt: skip
    assert candidate_pairs([profile_of(r) for r in records]) == set()
    small = [profile_of(r) for r in records[:3]]
    assert candidate_pairs(small) == set()
    records.append(course("z:1", "书法入门", teachers=[TEACHERS[5]], provider="上海开放大学"))
    records.append(course("z:2", "书法入门", provider="国家开放大学", description="x" * 30))
    profiles = [profile_of(r) for r in records]
    pairs = candidate_pairs(profiles)
    assert (5, len(records) - 2) in pairs
    untaught = len(records) - 1
    assert {(i, untaught) for i in range(BIG_BLOCK + 12)} <= pairs
    links = cluster(profiles)
    assert links["z:1"] is not None and links["z:1"] == links[records[5].uid]
