"""The record matcher on labelled pairs: real duplicates merge with their evidence, hard negatives never do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from indexer.linkage import FixedDecisions, LinkDecision, cluster, compare, person_name, profile_of
from indexer.record import Lesson, Person, Provider, Record

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TEN_LESSONS = ["握笔与坐姿", "点的写法", "横的写法", "竖的写法", "撇的写法", "捺的写法", "折的写法", "钩的写法",
               "提的写法", "结构与章法"]  # fmt: skip


def course(uid: str, title: str, **fields: Any) -> Record:
    platform = uid.split(":")[0]
    teachers = fields.pop("teachers", [])
    lessons = fields.pop("lessons", [])
    provider = fields.pop("provider", None)
    return Record(
        uid=uid, source=platform, source_id=uid.split(":")[1], url=f"https://example.edu.cn/{uid}", title=title,
        platform=platform, platform_name=platform, fetched_at=NOW,
        instructors=[Person(name=t) for t in teachers], provider=Provider(name=provider) if provider else None,
        lessons=[Lesson(id=str(i), title=t, order=i) for i, t in enumerate(lessons, 1)], **fields,
    )  # fmt: skip


HEALTH = "介绍中医养生的基本理念，以及四季饮食调理和经络保健的方法。"
BADUANJIN = ["预备式", "两手托天理三焦", "左右开弓似射雕", "调理脾胃须单举"]
DUPLICATES = [
    (course("a:1", "书法入门：楷书基础", teachers=["王秀兰教授"], lessons=TEN_LESSONS),
     course("b:1", "书法入门-楷书基础（智慧教育版）", teachers=["主讲：王秀兰老师"], lessons=TEN_LESSONS[:9])),
    (course("a:2", "中医养生十二讲", provider="国家开放大学", description=HEALTH),
     course("b:2", "中醫養生十二講", provider="国家开放大学", description=HEALTH)),
    (course("a:3", "智能手机使用技巧", teachers=["李明"]),
     course("b:3", "智能手机的使用技巧", teachers=["李明 讲师"])),
    (course("a:4", "太极拳二十四式", lessons=TEN_LESSONS),
     course("b:4", "二十四式太极拳", lessons=TEN_LESSONS)),
]  # fmt: skip
HARD_NEGATIVES = [
    (course("a:5", "书法入门", teachers=["王秀兰"]), course("b:5", "书法进阶", teachers=["王秀兰"])),
    (course("a:6", "老年摄影（第一季）", teachers=["张伟"]), course("b:6", "老年摄影（第二季）", teachers=["张伟"])),
    (course("a:7", "民法典讲座（上）", teachers=["赵强"]), course("b:7", "民法典讲座（下）", teachers=["赵强"])),
    (course("a:8", "家庭理财（一）", teachers=["刘芳"]), course("b:8", "家庭理财（二）", teachers=["刘芳"])),
    (course("a:9", "反诈防骗2023版", provider="上海开放大学"),
     course("b:9", "反诈防骗2024版", provider="上海开放大学")),
    (course("a:10", "国画山水", teachers=["陈建国"], provider="广州老年大学"),
     course("b:10", "国画山水", teachers=["杨志强"], provider="长春老年大学")),
    (course("a:11", "合唱基础", provider="国家开放大学"), course("b:11", "合唱基础", provider="浙江开放大学")),
    (course("a:12", "八段锦", teachers=["周红梅"], lessons=TEN_LESSONS),
     course("b:12", "八段锦", teachers=["周红梅"], lessons=BADUANJIN)),
    (course("a:13", "书法入门（初级）"), course("b:13", "书法入门")),  # the title alone never decides
]  # fmt: skip


@pytest.mark.parametrize(("a", "b"), DUPLICATES, ids=[a.title for a, _ in DUPLICATES])
def test_the_same_course_on_two_platforms_matches_with_evidence(a: Record, b: Record) -> None:
    verdict = compare(profile_of(a), profile_of(b))
    assert verdict.same, verdict.veto
    assert verdict.evidence and verdict == compare(profile_of(b), profile_of(a))


@pytest.mark.parametrize(("a", "b"), HARD_NEGATIVES, ids=[f"{a.title}|{b.title}" for a, b in HARD_NEGATIVES])
def test_different_courses_with_alike_titles_never_match(a: Record, b: Record) -> None:
    verdict = compare(profile_of(a), profile_of(b))
    assert not verdict.same and verdict.veto


def test_evidence_names_the_teacher_and_the_shared_lessons() -> None:
    a, b = DUPLICATES[0]
    assert compare(profile_of(a), profile_of(b)).text() == "同一主讲 王秀兰；10 节中 9 节相同"


def test_teacher_names_lose_their_titles() -> None:
    assert {person_name(n) for n in ["王秀兰教授", "主讲：王秀兰老师", "王秀兰 副教授", "王秀兰"]} == {"王秀兰"}


def test_a_chain_of_matches_never_joins_two_levels_of_one_course() -> None:
    records = [
        course("a:1", "书法入门", teachers=["王秀兰"]),
        course("b:1", "书法", teachers=["王秀兰"]),
        course("c:1", "书法进阶", teachers=["王秀兰"]),
    ]
    links = cluster([profile_of(r) for r in records])
    assert links["a:1"] is None or links["c:1"] is None or links["a:1"].cluster_id != links["c:1"].cluster_id


def test_a_cluster_holds_every_platform_and_keeps_the_evidence() -> None:
    a, b = DUPLICATES[0]
    c = course("c:1", "楷书基础：书法入门", teachers=["王秀兰"])
    links = cluster([profile_of(r) for r in (a, b, c)])
    assert links["a:1"] is not None and links["a:1"] == links["b:1"] == links["c:1"]
    assert {frozenset((e.a, e.b)) for e in links["a:1"].evidence} >= {frozenset(("a:1", "b:1"))}
    assert all(e.text for e in links["a:1"].evidence)


def test_admin_split_and_join_outweigh_the_matcher() -> None:
    a, b = DUPLICATES[0]
    split = FixedDecisions([LinkDecision("a:1", "b:1", "split", by="admin")])
    profiles = [profile_of(a), profile_of(b)]
    assert cluster(profiles, decisions=split.decisions_for(["a:1"])) == {"a:1": None, "b:1": None}
    x, y = HARD_NEGATIVES[-1]
    join = [LinkDecision("a:13", "b:13", "join", by="admin")]
    links = cluster([profile_of(x), profile_of(y)], decisions=join)
    assert links["a:13"] is not None and links["a:13"].evidence[0].text == "管理员合并（admin）"


def test_reworded_titles_meet_in_a_blocking_key() -> None:
    from indexer.linkage.clusters import candidate_pairs

    for a, b in DUPLICATES:
        assert candidate_pairs([profile_of(a), profile_of(b)]) == {(0, 1)}, a.title
