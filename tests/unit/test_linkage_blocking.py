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


def test_in_a_big_block_a_reordered_description_or_a_later_lesson_still_pairs_an_untaught_record() -> None:
    sentences = ["从握笔和坐姿讲起，一笔一画写好毛笔字。", "老师逐字示范，讲清起笔与收笔。",
                 "每讲配有练习字帖，课后反复练习。"]  # fmt: skip
    lessons = ["执笔与坐姿", "基本笔画", "偏旁部首", "结构与布局", "章法与落款"]
    records = [course(f"p{i % 8}:{i}", "书法入门", teachers=[TEACHERS[i]], provider=f"第{i}社区学院")
               for i in range(BIG_BLOCK + 12)]  # fmt: skip
    records.append(course("x:1", "书法入门", teachers=["周红梅"], description="".join(sentences), lessons=lessons))
    records.append(course("y:1", "书法入门（高清）", description="".join(reversed(sentences))))
    records.append(course("z:1", "书法入门", lessons=lessons[1:]))
    profiles = [profile_of(r) for r in records]
    taught, reordered, partial = len(records) - 3, len(records) - 2, len(records) - 1
    assert {(taught, reordered), (taught, partial)} <= candidate_pairs(profiles)
    links = cluster(profiles)
    assert links["x:1"] is not None and links["x:1"] == links["y:1"] == links["z:1"]
