"""How platforms reword one course, pair by pair: each rewording still meets in a block and matches on evidence,
and the same rewordings never join different courses."""

from __future__ import annotations

import pytest

from indexer.linkage import cluster, compare, profile_of
from indexer.linkage.clusters import candidate_pairs
from tests.unit.test_linkage_matcher import course

TEA = ["茶叶的六大类", "绿茶的冲泡", "红茶的冲泡", "乌龙茶的冲泡", "茶具的选择", "茶席的布置"]
TEA_TEXT = [
    "从认识茶叶开始，学会冲泡一杯好茶。",
    "老师现场演示，讲清水温、投茶量与出汤时间。",
    "课程兼顾茶文化与日常生活，适合退休后的长者。",
    "每讲十五分钟左右，可以边看边练。",
]
PHOTO = ["认识手机相机", "构图的基本方法", "光线的运用", "人像拍摄", "风景拍摄", "后期修图"]

REWORDED = {
    "institution_prefix": (
        course("a:1", "手机摄影技巧", teachers=["陈丽华"], lessons=PHOTO),
        course("b:1", "广州市老年大学·手机摄影技巧", teachers=["陈丽华老师"]),
    ),
    "national_prefix": (
        course("a:2", "国家老年大学 茶艺与生活", teachers=["赵文博"]),
        course("b:2", "茶艺与生活", teachers=["主讲：赵文博教授"]),
    ),
    "prefix_and_level": (
        course("a:10", "上海老年大学 手机摄影入门", teachers=["陈丽华"]),
        course("b:10", "手机摄影入门", teachers=["陈丽华副教授"]),
    ),
    "added_subtitle": (
        course("a:3", "太极剑十六式——跟着老师在家天天练一练", teachers=["黄海燕"]),
        course("b:3", "太极剑十六式", teachers=["黄海燕讲师"]),
    ),
    "two_subtitles_same_lessons": (
        course("a:4", "手机摄影技巧：从零开始", lessons=PHOTO, provider="广州市老年大学"),
        course("b:4", "手机摄影技巧——系列微课", lessons=PHOTO, provider="广州市老年大学"),
    ),
    "teacher_and_institution_in_the_description": (
        course("a:5", "【高清】茶艺与生活", description="".join(TEA_TEXT[:3]) + " 主讲：赵文博 单位：杭州老年大学"),
        course("b:5", "茶艺与生活", teachers=["赵文博"], provider="杭州老年大学"),
    ),
    "lessons_numbered_differently": (
        course("a:6", "茶艺与生活（精品课）", lessons=[f"第{i}讲 {t}" for i, t in enumerate(TEA, 1)]),
        course("b:6", "茶艺与生活", lessons=[f"{i}. {t}" for i, t in enumerate(TEA, 1)]),
    ),
    "lessons_listed_in_the_description": (
        course("a:7", "茶艺与生活", lessons=TEA),
        course("b:7", "《茶艺与生活》", description="课程目录：" + "；".join(TEA)),
    ),
    "lessons_written_into_a_feed_text": (
        course("a:8", "茶艺与生活", lessons=TEA),
        course("b:8", "茶艺与生活【完结】", description=TEA_TEXT[0] + " " + " ".join(TEA)),
    ),
    "description_reordered_and_shortened": (
        course("a:9", "茶艺与生活", description="".join(TEA_TEXT), provider="杭州老年大学"),
        course("b:9", "茶艺与生活（回放）", description="".join([TEA_TEXT[2], TEA_TEXT[0], TEA_TEXT[3]])),
    ),
}  # fmt: skip

APART = {
    # a reworded listing of REWORDED and a different course that shares its rewording
    "prefix_but_another_teacher": (
        "institution_prefix", course("c:11", "广州市老年大学·手机摄影技巧", teachers=["李建国"]),
    ),
    "a_series_told_apart_by_subtitles": (
        "two_subtitles_same_lessons",
        course("c:12", "手机摄影技巧：人像专题", provider="广州市老年大学",
               lessons=[*PHOTO[3:], "逆光人像", "夜景人像"]),
    ),
    "another_teacher_named_in_the_description": (
        "teacher_and_institution_in_the_description",
        course("c:13", "茶艺与生活", description=TEA_TEXT[0] + " 主讲：刘淑芬 单位：杭州老年大学"),
    ),
    "prefix_and_another_level": (
        "prefix_and_level", course("c:14", "老年大学·手机摄影进阶", teachers=["陈丽华"]),
    ),
    "other_lessons_under_numbering": (
        "lessons_numbered_differently",
        course("c:15", "茶艺与生活", lessons=[f"第{i}讲 {t}" for i, t in enumerate(PHOTO, 1)]),
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(REWORDED))
def test_a_reworded_listing_meets_its_course_in_a_block_and_matches(kind: str) -> None:
    a, b = REWORDED[kind]
    profiles = [profile_of(a), profile_of(b)]
    assert candidate_pairs(profiles) == {(0, 1)}
    verdict = compare(*profiles)
    assert verdict.same, verdict.veto
    assert verdict.evidence == compare(profiles[1], profiles[0]).evidence
    links = cluster(profiles)
    assert links[a.uid] is not None and links[a.uid] == links[b.uid]


@pytest.mark.parametrize("kind", sorted(APART))
def test_the_same_rewordings_never_join_different_courses(kind: str) -> None:
    reworded, other = APART[kind]
    a, b = REWORDED[reworded]
    profiles = [profile_of(r) for r in (a, b, other)]
    for profile in profiles[:2]:
        verdict = compare(profile, profiles[2])
        assert not verdict.same and verdict.veto
    links = cluster(profiles)
    assert links[a.uid] is not None and links[a.uid] == links[b.uid]
    assert links[other.uid] is None


def test_what_a_description_says_fills_the_fields_it_names() -> None:
    a, _ = REWORDED["teacher_and_institution_in_the_description"]
    profile = profile_of(a)
    assert profile.instructors == {"赵文博"}
    assert profile.provider == "杭州老年大学"
    assert "主讲" not in profile.description
    assert profile_of(REWORDED["lessons_listed_in_the_description"][1]).lessons == tuple(TEA)


def test_lesson_numbering_is_not_part_of_the_lesson() -> None:
    a, b = REWORDED["lessons_numbered_differently"]
    assert profile_of(a).lessons == profile_of(b).lessons == tuple(TEA)
    kept = course("c:1", "太极拳", lessons=["24式太极拳", "第3讲", "一、起势"])
    assert profile_of(kept).lessons == ("24式太极拳", "起势")


def test_labelled_values_in_a_description_end_at_the_next_label() -> None:
    text = "主讲：赵文博教授、刘淑芬单位：杭州老年大学 从认识茶叶开始，学会冲泡一杯好茶。"
    profile = profile_of(course("d:1", "茶艺与生活", description=text))
    assert profile.instructors == {"赵文博", "刘淑芬"}
    assert profile.provider == "杭州老年大学"
    assert profile.description == "从认识茶叶开始学会冲泡一杯好茶"


def test_short_lesson_names_found_in_a_text_are_no_evidence() -> None:
    a = course("a:20", "茶艺与生活", lessons=["引言", "实践", "总结"])
    b = course("b:20", "茶艺与生活（回放）", description="引言、实践与总结，一次讲完。")
    assert compare(profile_of(a), profile_of(b)).veto == "除标题外无共同证据"
